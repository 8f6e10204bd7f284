"""The dialog machine: a step asks, the answer moves to the next step or is refused.

A dialog is a table {step name: Step}. `take` returns the next step's name, a `Refusal`
(said, then the question is asked again) or a `Finish` (the dialog ends with these replies).
A step declares the kinds of option it offers; a pressed option is parsed here, once, and one
that does not parse or that this step does not offer never reaches `take`: "that choice is no
longer valid", and the question again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from handlers.context import Ctx
from handlers.events import IncomingFile, Reply
from handlers.options import Choice, Kind, parse, shown
from storage.textfold import strip_marks
from storage.units import fold

log = logging.getLogger(__name__)
OFFERED = "_offered"
NUMBERED = "_numbered"
_NUMBER = re.compile(r"^(?:so|#)?\s*(\d{1,2})\s*[.)]?$")


@dataclass(frozen=True)
class Answer:
    """What a step reads: the option chosen (parsed, of a kind the step offers) and what was
    typed or sent."""

    choice: Choice | None
    text: str
    files: tuple[IncomingFile, ...] = ()


@dataclass(frozen=True)
class Refusal:
    text: str


@dataclass(frozen=True)
class Finish:
    replies: list[Reply] = field(default_factory=list)


Ask = Callable[[Ctx], Awaitable[Reply | Finish]]
Take = Callable[[Ctx, Answer], Awaitable["str | Refusal | Finish"]]


@dataclass(frozen=True)
class Step:
    ask: Ask
    take: Take
    # The kinds of option `ask` offers: an option of any other kind is refused before `take`.
    offers: tuple[Kind, ...] = ()
    # When False, a typed number is the answer itself (a percent), not an option's number.
    numbered: bool = True
    # The steps `take` may lead to (besides asking this one again); checked at registration.
    leads_to: tuple[str, ...] = ()
    # While the person edits one answer from a summary, arriving here (after the edited step)
    # leads back to this step instead: the summary, not the rest of the questions.
    back_to: str | None = None
    # This step picks the answer to edit: the step it leads to is asked, whatever its back_to.
    picks_edit: bool = False
    # The catalog key said when a message of a kind no dialog reads (a sticker, a file the
    # messenger did not pass on) arrives at this step, instead of the general hint.
    unsupported: str = ""


def unsupported_hint(ctx: Ctx) -> str:
    """The catalog key answering a message no dialog reads: the open step's own, if it has one."""
    step = DIALOGS.get(ctx.state.dialog or "", {}).get(ctx.state.step or "")
    if step is None or not step.unsupported or ctx.expired():
        return "unsupported_message"
    return step.unsupported


Dialog = dict[str, Step]
DIALOGS: dict[str, Dialog] = {}


class StepTableError(RuntimeError):
    """A dialog's table names a step it does not have (a programming error, found at start)."""


def register(name: str, dialog: Dialog) -> None:
    """Adds a dialog after checking that every step it may lead to exists."""
    if name in DIALOGS and DIALOGS[name] is not dialog:
        raise StepTableError(f"dialog {name!r} registered twice")
    for step_name, step in dialog.items():
        for target in (*step.leads_to, *([step.back_to] if step.back_to else [])):
            if target not in dialog:
                raise StepTableError(f"{name}.{step_name} leads to unknown step {target!r}")
    DIALOGS[name] = dialog


def _checked(dialog: str, step: str, result: str) -> str:
    declared = DIALOGS[dialog][step].leads_to
    if result != step and result not in declared:
        raise StepTableError(f"{dialog}.{step} led to {result!r}, not among {declared}")
    return result


async def enter(ctx: Ctx, dialog: str, step: str, replace: bool = False) -> list[Reply]:
    """Move to `step` and ask its question, remembering the options offered."""
    ctx.set_step(dialog, step)
    # The step's change is written with the rest of the step, at its end: flushed before the
    # question's reads, it would hold SQLite's one writer through them.
    with ctx.session.no_autoflush:
        asked = await DIALOGS[dialog][step].ask(ctx)
    if isinstance(asked, Finish):
        ctx.clear()
        return asked.replies
    numbered = DIALOGS[dialog][step].numbered
    ctx.put(**{OFFERED: [[o.id, o.label] for o in asked.options], NUMBERED: numbered})
    extras = {**asked.extras, "numbered": "1" if numbered else "0"}
    return [
        Reply(
            asked.text,
            asked.options,
            asked.files,
            replace or asked.replace_prompt,
            asked.columns,
            extras,
        )
    ]


def resolve(ctx: Ctx, option_id: str | None, text: str) -> str | None:
    """The option chosen by a button (its id as sent, whatever it is), by its number ("2",
    "số 2", "2.") or by its words."""
    if option_id is not None:
        return option_id
    return pick(ctx.data.get(OFFERED) or [], text, ctx.data.get(NUMBERED, True))


def pick(offered: Sequence[Sequence[str]], text: str, numbered: bool = True) -> str | None:
    """The id of the option of `offered` ([id, label] pairs, as shown) that `text` names: by
    its number when they were numbered, or by its words; None when it names none."""
    if not text or not offered:
        return None
    match = _NUMBER.match(strip_marks(text.strip()))
    if match and numbered:
        index = int(match.group(1)) - 1
        return str(offered[index][0]) if 0 <= index < len(offered) else None
    key = fold(text)
    for option_id_, label in offered:
        if key and key == fold(label):
            return str(option_id_)
    return None


async def advance(
    ctx: Ctx, option_id: str | None, text: str, files: tuple[IncomingFile, ...] = ()
) -> list[Reply]:
    """Give the answer (the option chosen, as `resolve` found it, and what was typed or
    sent) to the current step and return what to show next."""
    dialog, step = ctx.state.dialog or "", ctx.state.step or ""
    current = DIALOGS[dialog][step]
    choice = None if option_id is None else parse(option_id, current.offers)
    if option_id is not None and choice is None:
        log.info(
            "refused option %s at %s.%s from %s/%s",
            shown(option_id),
            dialog,
            step,
            ctx.event.channel,
            ctx.event.sender_id,
        )
        result: str | Refusal | Finish = Refusal(ctx.t("option_not_valid"))
    else:
        result = await current.take(ctx, Answer(choice, text, files))
    if isinstance(result, Finish):
        ctx.clear()
        return result.replies
    if isinstance(result, Refusal):
        return [Reply(result.text), *await enter(ctx, dialog, step)]
    result = _checked(dialog, step, result)
    back_to = DIALOGS[dialog][result].back_to
    if ctx.data.get("editing") and back_to is not None and not current.picks_edit:
        result = back_to
    return await enter(ctx, dialog, result, replace=choice is not None)
