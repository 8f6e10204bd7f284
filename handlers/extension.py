"""/giahan: task → proposed date (after today) → reason → send, stored as a pending request.

Only the task's lead unit may ask for more time, and one request at a time: while one waits
for a decision, another is refused, saying when the first was made.
"""

from __future__ import annotations

import re
from datetime import date

from handlers import task_picker
from handlers.context import Ctx
from handlers.events import Option, Reply
from handlers.feature import UNIT_ROLES, Command, Feature, Where, allow
from handlers.i18n import day, moment
from handlers.options import CONFIRM
from handlers.permissions import actor
from handlers.steps import Answer, Finish, Refusal, Step
from handlers.wording import deadline_words, short
from storage.models import ExtensionRequest, Task
from storage.repositories import audit
from storage.repositories.tasks import Assignment, pending_extensions

DIALOG = "extension"
_DATE = re.compile(r"^\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})\s*$")


async def begin(ctx: Ctx) -> list[Reply]:
    """Starts a request for more time; `/giahan VII.3` goes straight to the date."""
    return await task_picker.begin(ctx, DIALOG, chosen)


async def chosen(ctx: Ctx, picked: Assignment) -> str | Refusal:
    """The date comes next, unless the unit only cooperates or a request already waits."""
    refusal = await _refusal(ctx, picked)
    return refusal if refusal is not None else "date"


async def _refusal(ctx: Ctx, picked: Assignment) -> Refusal | None:
    if not picked.leads:
        return Refusal(ctx.t("extension_not_lead", code=task_picker.code(ctx, picked.task)))
    waiting = (await pending_extensions(ctx.session, [picked.task.id])).get(picked.task.id)
    if waiting is None:
        return None
    return Refusal(
        ctx.t(
            "extension_already_pending",
            code=task_picker.code(ctx, picked.task),
            at=moment(waiting.requested_at, ctx.config.tz),
            date=day(waiting.proposed_date),
        )
    )


async def _checked_task(ctx: Ctx) -> Task | Finish:
    """The dialog's task, or the end of the dialog with the reason it cannot go on."""
    picked = await task_picker.current_assignment(ctx)
    if picked is None:
        return Finish([Reply(ctx.t("task_not_yours"))])
    refusal = await _refusal(ctx, picked)
    return Finish([Reply(refusal.text)]) if refusal else picked.task


async def ask_date(ctx: Ctx) -> Reply | Finish:
    task = await task_picker.current_or_finish(ctx)
    if isinstance(task, Finish):
        return task
    return Reply(
        ctx.t(
            "extension_ask_date",
            code=task_picker.code(ctx, task),
            title=short(task.title, 120),
            deadline=deadline_words(ctx, task),
            today=day(ctx.today),
        )
    )


def parse_date(ctx: Ctx, text: str) -> date | Refusal:
    """A dd/mm/yyyy date strictly after today."""
    match = _DATE.match(text)
    if match is None:
        return Refusal(ctx.t("date_format", text=short(text, 30)))
    day_, month, year = (int(part) for part in match.groups())
    try:
        proposed = date(year, month, day_)
    except ValueError:
        return Refusal(ctx.t("date_invalid", text=text.strip()))
    if proposed <= ctx.today:
        return Refusal(ctx.t("date_not_future", date=day(proposed), today=day(ctx.today)))
    return proposed


async def take_date(ctx: Ctx, answer: Answer) -> str | Refusal:
    proposed = parse_date(ctx, answer.text)
    if isinstance(proposed, Refusal):
        return proposed
    ctx.put(proposed=proposed.isoformat())
    return "reason"


async def ask_reason(ctx: Ctx) -> Reply:
    return Reply(ctx.t("extension_ask_reason"))


async def take_reason(ctx: Ctx, answer: Answer) -> str | Refusal:
    if not answer.text:
        return Refusal(ctx.t("reason_required"))
    ctx.put(reason=answer.text[:4000])
    return "confirm"


async def ask_confirm(ctx: Ctx) -> Reply | Finish:
    task = await task_picker.current_or_finish(ctx)
    if isinstance(task, Finish):
        return task
    proposed = date.fromisoformat(ctx.data["proposed"])
    text = ctx.t(
        "extension_summary",
        code=task_picker.code(ctx, task),
        title=short(task.title, 120),
        date=day(proposed),
        reason=ctx.data["reason"],
    )
    options = (
        Option(CONFIRM.id("send"), ctx.t("send")),
        Option(CONFIRM.id("cancel"), ctx.t("cancel")),
    )
    return Reply(text, options, columns=2)


async def take_confirm(ctx: Ctx, answer: Answer) -> str | Refusal | Finish:
    confirmed = CONFIRM.value(answer.choice)
    if confirmed == "cancel":
        return Finish([Reply(ctx.t("extension_cancelled"), replace_prompt=True)])
    if confirmed == "edit":  # the report's summary offers it, this one does not
        return Refusal(ctx.t("option_not_valid"))
    if confirmed != "send":
        return Refusal(ctx.t("choose_option"))
    task = await _checked_task(ctx)  # again: another officer may have asked meanwhile
    if isinstance(task, Finish):
        return task
    assert ctx.person is not None and ctx.person.unit_id is not None
    request = ExtensionRequest(
        task_id=task.id,
        unit_id=ctx.person.unit_id,
        person_id=ctx.person.id,
        proposed_date=date.fromisoformat(ctx.data["proposed"]),
        reason=ctx.data["reason"],
        created_at=ctx.now,
    )
    ctx.session.add(request)
    await ctx.session.flush()
    audit.record(
        ctx.session,
        now=ctx.now,
        actor=actor(ctx),
        action="extension.requested",
        entity="task",
        entity_id=task.id,
        details={
            "plan": task.plan_id,
            "code": task.code,
            "request": request.id,
            "due_date": task.due_date.isoformat() if task.due_date else None,
            "proposed_date": request.proposed_date.isoformat(),
        },
    )
    return Finish(
        [
            Reply(
                ctx.t(
                    "extension_sent",
                    id=request.id,
                    code=task_picker.code(ctx, task),
                    date=day(request.proposed_date),
                ),
                replace_prompt=True,
            )
        ]
    )


FEATURE = Feature(
    "extension",
    commands=(
        Command(
            "giahan",
            begin,
            allow(UNIT_ROLES, (Where.PRIVATE,)),
            aliases=("extend",),
            starts_dialog=True,
            needs_unit=True,
        ),
    ),
    dialogs={
        DIALOG: {
            "task": task_picker.task_step(
                "extension_choose_task", chosen, leads_to=("date",), led_only=True
            ),
            "date": Step(ask_date, take_date, numbered=False, leads_to=("reason",)),
            "reason": Step(ask_reason, take_reason, leads_to=("confirm",)),
            "confirm": Step(ask_confirm, take_confirm, offers=(CONFIRM,)),
        },
    },
)
