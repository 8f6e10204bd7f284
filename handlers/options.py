"""The one grammar of option ids (Telegram's callback data), parsed once, strictly.

An id is a prefix from the closed set below, alone or followed by ":" and a payload; the
payload is either a number (ASCII digits, no sign, no leading zero, within the kind's range) or
one word from the kind's closed list. Anything else — too long, not ASCII, unicode digits,
spaces, an unknown prefix, a number out of range — is no choice at all. A client can send any
bytes as callback data, so a step never reads an id itself: it gets a `Choice` already checked,
or the dialog says "that choice is no longer valid" and asks again (handlers.steps.advance).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from handlers.i18n import LANGUAGES

MAX_BYTES = 64  # Telegram's limit for callback data: every id we build must fit
_ID = re.compile(r"(?P<prefix>[a-z_]{1,12})(?::(?P<payload>[a-z0-9_]{1,24}))?")
_NUMBER = re.compile(r"0|[1-9][0-9]{0,18}")  # canonical: one spelling per value


@dataclass(frozen=True)
class Choice:
    """A pressed (or numbered) option, parsed: its kind and its checked value."""

    kind: Kind
    value: int | str | None


@dataclass(frozen=True)
class Kind:
    """One prefix of the grammar. Subclasses say what may follow it."""

    prefix: str

    def read(self, payload: str | None) -> int | str | None:
        """The payload's value, or raise ValueError when it is not one of this kind's."""
        raise NotImplementedError

    def picked(self, choice: Choice | None) -> bool:
        """Whether `choice` is of this kind."""
        return choice is not None and choice.kind == self


@dataclass(frozen=True)
class Flag(Kind):
    """An id that is its prefix alone ("skip")."""

    def read(self, payload: str | None) -> None:
        if payload is not None:
            raise ValueError(payload)

    def id(self) -> str:
        return self.prefix


@dataclass(frozen=True)
class Numbers(Kind):
    """A whole number from `low` to `high`, written in ASCII digits."""

    low: int = 0
    high: int = 0

    def within(self, value: int) -> bool:
        """The range rule, shared by pressed ids and typed answers."""
        return self.low <= value <= self.high

    def read(self, payload: str | None) -> int:
        if payload is None or not _NUMBER.fullmatch(payload):
            raise ValueError(payload)
        value = int(payload)
        if not self.within(value):
            raise ValueError(payload)
        return value

    def typed(self, written: str) -> int | None:
        """The number `written` ("50", "050", "-5") names when it is in range, else None: a
        typed answer meets the same rule as a pressed one. ASCII digits only, any length."""
        sign, digits = ("-", written[1:]) if written.startswith("-") else ("", written)
        digits = digits.lstrip("0") or "0"
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
            return None  # longer than any number in range (and than int() takes)
        value = int(sign + digits)
        return value if self.within(value) else None

    def id(self, value: int) -> str:
        if not self.within(value):
            raise ValueError(f"{self.prefix}: {value!r} is out of range")
        return f"{self.prefix}:{value}"

    def value(self, choice: Choice | None) -> int | None:
        """The number chosen, when `choice` is of this kind."""
        if choice is None or not self.picked(choice) or not isinstance(choice.value, int):
            return None
        return choice.value


@dataclass(frozen=True)
class Words(Kind):
    """One word of a closed list."""

    words: tuple[str, ...] = ()

    def read(self, payload: str | None) -> str:
        if payload is None or payload not in self.words:
            raise ValueError(payload)
        return payload

    def id(self, word: str) -> str:
        if word not in self.words:
            raise ValueError(f"{self.prefix}: {word!r} is not one of {self.words}")
        return f"{self.prefix}:{word}"

    def value(self, choice: Choice | None) -> str | None:
        """The word chosen, when `choice` is of this kind."""
        if choice is None or not self.picked(choice) or not isinstance(choice.value, str):
            return None
        return choice.value


# Database ids are 64-bit signed integers; pages and percents are small.
TASK = Numbers("t", 1, 2**63 - 1)
GO_TO_PAGE = Numbers("pg", 0, 10_000)
PERCENT = Numbers("p", 0, 100)
STATUS = Words("st", ("done", "in_progress", "not_started", "blocked", "paused"))
CONFIRM = Words("c", ("send", "edit", "cancel"))
EDIT = Words("e", ("task", "status", "percent", "results", "difficulties", "proposals", "files"))
LANGUAGE = Words("lang", LANGUAGES)
SKIP = Flag("skip")
FILES_DONE = Flag("files_done")
# /duyet: the extension request's id (re-checked when pressed: it must exist and be pending).
APPROVE = Numbers("ext_ok", 1, 2**63 - 1)
REJECT = Numbers("ext_no", 1, 2**63 - 1)
# /moi, /thuhoi: a unit or a person among the few a step listed (re-checked against that list).
PICK = Numbers("pick", 1, 2**63 - 1)
# /nhap: the plan an appendix goes to (re-checked: it must still be followed), and its choices.
PLAN = Numbers("plan", 1, 2**63 - 1)
IMPORT = Words("imp", ("new_plan", "go", "go_units", "replace", "cancel"))
# A reminder's "Báo cáo ngay": /baocao at that task (re-checked: the unit must still answer for it).
REPORT_NOW = Numbers("rpt", 1, 2**63 - 1)
GRAMMAR: dict[str, Kind] = {
    kind.prefix: kind
    for kind in (
        *(TASK, GO_TO_PAGE, PERCENT, STATUS, CONFIRM, EDIT, LANGUAGE, SKIP, FILES_DONE),
        *(APPROVE, REJECT, PICK),
        *(PLAN, IMPORT, REPORT_NOW),
    )
}


def parse(raw: str, accepted: Collection[Kind]) -> Choice | None:
    """The choice `raw` names when it is well formed and of one of the `accepted` kinds (those
    the step offers); None for anything else, which is never an exception."""
    if not raw.isascii() or len(raw) > MAX_BYTES:  # ASCII: one byte a character
        return None
    match = _ID.fullmatch(raw)
    kind = GRAMMAR.get(match.group("prefix")) if match else None
    if match is None or kind is None or kind not in accepted:
        return None
    try:
        return Choice(kind, kind.read(match.group("payload")))
    except ValueError:
        return None


def shown(raw: str) -> str:
    """`raw` as a log line may show it: short, and with anything unprintable escaped."""
    return repr(raw[:80])
