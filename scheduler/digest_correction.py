"""A weekly digest kept true: when a late report arrives after the week's digest went out, the
units it listed as not reporting are corrected in the groups that got it.

The digest row keeps what it listed (``silent`` in its payload, see scheduler.digest): each
unit with the tasks it had not reported on in the period, and the lines the text showed. A
report on one of those tasks, in the same week, recomputes the list from the reports filed
since the period began (never from the previous correction: two late reports, in any order,
give the same list):

- on Telegram, the digest's text message is edited (a row of kind ``digest-edit`` naming the
  digest's row, outbox.EDITS; the dispatcher reads the message ids when it sends it, so an edit
  decided while the digest still waits for the office to open follows it). Its key names the
  list it shows: a report that changes nothing writes nothing, and each new list one edit;
- on Zalo, which cannot edit, a short correction (``digest-correction``) goes out at the next
  office opening, one per digest, unit and count of tasks still missing (a unit dropped is told
  once, however often it reports again).

Why in the report's own transaction (handlers.report calls `report_filed` right after saving
the report), not in a hook once its reply is sent: the correction is then committed with the
report or not at all, so it is never lost to a crash between the two, and nothing needs to
find it again. It costs the report two small reads (the bound groups, and this week's digest
rows by key, none before the digest went out); only a report on a listed task locks the
digest's rows (PostgreSQL: FOR UPDATE; SQLite has one writer), so two late reports at once
are corrected one after the other, the second seeing the first, and its edit has the higher
id (a chat's rows go out in id order): the last edit shows the true list.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.i18n import day, number, t
from handlers.status_report import silent_unit_lines
from scheduler.calendar import WorkingCalendar
from scheduler.digest_week import digest_key, week_label, week_of
from scheduler.jobs import Settings, working_calendar
from storage.figures import Counts, Figures, Period, SilentUnit, Source, rate
from storage.repositories import bound_chats, outbox, reports
from storage.repositories.outbox import EDITS, FAILED
from storage.status import DONE

log = logging.getLogger(__name__)
SILENT = "silent"  # the digest payload's field
EDIT_KIND = "digest-edit"
NOTE_KIND = "digest-correction"
# Messengers whose bot can edit a message it sent (Telegram's editMessageText); the others
# (Zalo's Official Account API has no edit) get a correction message instead.
EDITS_IN_PLACE = frozenset({"telegram"})


@dataclass(frozen=True)
class Listed:
    """A unit the digest listed: `missing` its unfinished lead tasks not reported on in the
    period (of `owed`), `last_report` the day of its latest report then (None: never)."""

    unit_id: int
    name: str
    short_name: str
    owed: int
    missing: tuple[int, ...]
    last_report: date | None

    def now(self, latest: Mapping[int, datetime], period: Period) -> SilentUnit:
        """This unit as it stands with the reports filed since (`latest`, by task)."""
        left = sum(1 for task_id in self.missing if task_id not in latest)
        days = [period.local_day(latest[task]) for task in self.missing if task in latest]
        last = max([*days, *([self.last_report] if self.last_report else [])], default=None)
        return SilentUnit(self.unit_id, self.name, self.short_name, self.owed, left, last)


@dataclass(frozen=True)
class Silence:
    """The units a digest listed as not reporting from `start` to `end`, and its lines."""

    start: date
    end: date
    lines: str
    units: tuple[Listed, ...]

    def period(self, tz: ZoneInfo) -> Period:
        return Period(self.start, self.end, tz)

    def missing(self) -> set[int]:
        return {task_id for unit in self.units for task_id in unit.missing}

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "lines": self.lines,
            "units": [
                {
                    "id": u.unit_id,
                    "name": u.name,
                    "short": u.short_name,
                    "owed": u.owed,
                    "missing": list(u.missing),
                    "last": u.last_report.isoformat() if u.last_report else None,
                }
                for u in self.units
            ],
        }

    @classmethod
    def from_json(cls, raw: object) -> Silence | None:
        """The digest row's ``silent``; None for a row without one (written before it was
        kept)."""
        if not isinstance(raw, dict):
            return None
        units = tuple(
            Listed(
                int(u["id"]),
                str(u["name"]),
                str(u["short"]),
                int(u["owed"]),
                tuple(int(task) for task in u["missing"]),
                date.fromisoformat(u["last"]) if u.get("last") else None,
            )
            for u in raw.get("units") or []
        )
        start, end = date.fromisoformat(raw["start"]), date.fromisoformat(raw["end"])
        return cls(start, end, str(raw["lines"]), units)


def silence_of(source: Source, figures: Figures, period: Period, lang: str) -> Silence:
    """What the digest of `figures` (computed from `source` on the period's last day) lists as
    not reporting, with the tasks each unit had not reported on (pure)."""
    listed = {unit.unit_id for unit in figures.silent_units}
    missing: dict[int, list[int]] = {unit_id: [] for unit_id in listed}
    reported = source.activity.reported_task_ids if source.activity else frozenset()
    for row in source.tasks if listed else ():
        if row.id in reported or rate(row, period.end).status in DONE:
            continue
        for unit_id in row.lead_unit_ids:
            if unit_id in missing:
                missing[unit_id].append(row.id)
    units = tuple(
        Listed(u.unit_id, u.name, u.short_name, u.owed, tuple(missing[u.unit_id]), u.last_report)
        for u in figures.silent_units
    )
    lines = "\n".join(silent_unit_lines(figures, period, lang))
    return Silence(period.start, period.end, lines, units)


def lines_of(units: Sequence[SilentUnit], period: Period, lang: str) -> str:
    """The digest's lines about `units`, as handlers.status_report writes them (it reads only
    the period's units of the figures)."""
    ordered = tuple(sorted(units, key=lambda unit: (-unit.missing, unit.name)))
    figures = Figures(
        today=period.end,
        plans=(),
        total=Counts(),
        most_overdue=(),
        due_soon=(),
        due_soon_total=0,
        soon_days=0,
        period=period,
        silent_units=ordered,
    )
    return "\n".join(silent_unit_lines(figures, period, lang))


# --- after a report -------------------------------------------------------------------------

CalendarOf = Callable[[], Awaitable[WorkingCalendar]]


async def report_filed(
    session: AsyncSession, task_id: int, now: datetime, settings: Settings
) -> int:
    """After a report on `task_id` at `now`, in its transaction: corrects this week's digests
    that listed a unit for that task (see the module's docstring); how many rows it wrote."""
    return await correct(
        session, now, settings.tz, lambda: working_calendar(session, settings), {task_id}
    )


async def correct(
    session: AsyncSession,
    now: datetime,
    tz: ZoneInfo,
    calendar: CalendarOf,
    task_ids: Collection[int] | None = None,
) -> int:
    """Corrects the digests of `now`'s week whose list no longer holds (only those listing a
    unit for one of `task_ids`, when given); how many rows it wrote. The caller commits."""
    week = week_label(week_of(now, tz))
    groups = await bound_chats.committee_groups(session)
    keys = [digest_key(week, group.channel, group.chat_id) for group in groups]
    wanted = [row.key for row in await outbox.rows_of(session, keys) if _concerns(row, task_ids)]
    if not wanted:
        return 0
    written = 0
    for row in await outbox.rows_of(session, wanted, for_update=True):
        silence = Silence.from_json(row.payload.get(SILENT))
        if silence is None or row.state == FAILED:
            continue
        period = silence.period(tz)
        since, _until = period.bounds()
        latest = await reports.reported_since(session, silence.missing(), since)
        now_units = [unit.now(latest, period) for unit in silence.units]
        if row.channel in EDITS_IN_PLACE:
            written += await _edit(session, row, silence, period, now_units, week, now)
        else:
            written += await _notes(session, row, silence, period, now_units, week, now, calendar)
    return written


def _concerns(row: outbox.Row, task_ids: Collection[int] | None) -> bool:
    silence = Silence.from_json(row.payload.get(SILENT))
    if silence is None or row.state == FAILED:
        return False
    return task_ids is None or not silence.missing().isdisjoint(task_ids)


async def _edit(
    session: AsyncSession,
    row: outbox.Row,
    silence: Silence,
    period: Period,
    units: list[SilentUnit],
    week: str,
    now: datetime,
) -> int:
    """The digest's text with the list as it now stands, written over the message sent."""
    lines = lines_of([u for u in units if u.missing], period, _lang(row))
    text = str(row.payload.get("text") or "")
    if lines == silence.lines:
        return 0
    if silence.lines not in text:
        log.warning("digest %s: its list of silent units is not in its text", row.key)
        return 0
    fingerprint = hashlib.sha256(lines.encode()).hexdigest()[:16]
    payload: dict[str, Any] = {
        "text": text.replace(silence.lines, lines, 1),
        "options": [],
        "columns": 1,
        "extras": row.payload.get("extras") or {},
        EDITS: row.key,
    }
    new = await outbox.enqueue(
        session,
        key=f"{EDIT_KIND}:{week}:{row.channel}:{row.chat_id}:{fingerprint}",
        channel=row.channel,
        chat_id=row.chat_id,
        kind=EDIT_KIND,
        payload=payload,
        now=now,
        not_before=max(now, _aware(row.not_before)),  # not claimed before the digest is due
    )
    return int(new)


async def _notes(
    session: AsyncSession,
    row: outbox.Row,
    silence: Silence,
    period: Period,
    units: list[SilentUnit],
    week: str,
    now: datetime,
    calendar: CalendarOf,
) -> int:
    """A short correction for each listed unit with fewer tasks missing than the digest said,
    at the next office opening (and never before the digest itself)."""
    lang = _lang(row)
    changed = [
        (listed, unit)
        for listed, unit in zip(silence.units, units, strict=True)
        if unit.missing < len(listed.missing)
    ]
    if not changed:
        return 0
    opening = (await calendar()).next_opening(now)
    span = {"start": day(silence.start), "end": day(silence.end)}
    written = 0
    for listed, unit in changed:
        reported = unit.last_report or period.local_day(now)
        values = {**span, "unit": unit.short_name, "date": day(reported)}
        if unit.missing:
            counts = {"missing": number(lang, unit.missing), "owed": number(lang, unit.owed)}
            text = t(lang, "digest_correction_fewer", **counts, **values)
        else:
            text = t(lang, "digest_correction_dropped", **values)
        written += await outbox.enqueue(
            session,
            key=f"{NOTE_KIND}:{week}:{row.channel}:{row.chat_id}:{listed.unit_id}:{unit.missing}",
            channel=row.channel,
            chat_id=row.chat_id,
            kind=NOTE_KIND,
            payload={"text": text, "options": [], "columns": 1, "extras": {"lang": lang}},
            now=now,
            not_before=max(opening, _aware(row.not_before)),
        )
    return written


def _lang(row: outbox.Row) -> str:
    extras = row.payload.get("extras")
    return str(extras.get("lang") or "vi") if isinstance(extras, dict) else "vi"


def _aware(value: datetime) -> datetime:
    """SQLite gives stored times back without their zone; they are UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
