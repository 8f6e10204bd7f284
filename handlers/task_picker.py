"""Choosing one of the unit's tasks: pages of 8, overdue first, or its code typed."""

from __future__ import annotations

import logging

from handlers.context import Ctx
from handlers.events import Option, Reply
from handlers.steps import Answer, Finish, Refusal, Step, enter
from handlers.wording import short
from storage.models import Task
from storage.repositories import tasks as task_store

log = logging.getLogger(__name__)
PAGE = 8


async def ask(ctx: Ctx, prompt_key: str) -> Reply | Finish:
    assert ctx.person is not None and ctx.person.unit is not None
    found = await task_store.for_unit(ctx.session, ctx.person.unit, ctx.today)
    if not found:
        return Finish([Reply(ctx.t("no_tasks", unit=ctx.person.unit.name))])
    pages = (len(found) + PAGE - 1) // PAGE
    page = min(int(ctx.data.get("page", 0)), pages - 1)
    shown = found[page * PAGE : (page + 1) * PAGE]
    options = [Option(f"t:{task.id}", f"{task.code} · {short(task.title, 48)}") for task in shown]
    if page > 0:
        options.append(Option(f"pg:{page - 1}", ctx.t("page_previous")))
    if page < pages - 1:
        options.append(Option(f"pg:{page + 1}", ctx.t("page_next")))
    text = ctx.t(prompt_key, unit=ctx.person.unit.name)
    if pages > 1:
        text += "\n" + ctx.t("page_of", page=page + 1, pages=pages)
    return Reply(text, tuple(options))


async def take(ctx: Ctx, answer: Answer) -> Task | Refusal | int:
    """The chosen task, a page number to show, or why the answer is refused."""
    assert ctx.person is not None and ctx.person.unit is not None
    option = answer.option_id or ""
    if option.startswith("pg:") and option[3:].isdigit():
        return int(option[3:])
    if option.startswith("t:") and option[2:].isdigit():
        task = await task_store.get_for_unit(ctx.session, ctx.person.unit, int(option[2:]))
        if task is None:
            log.warning(
                "refused task option %r from %s/%s (unit %s)",
                option,
                ctx.event.channel,
                ctx.event.sender_id,
                ctx.person.unit_id,
            )
            return Refusal(ctx.t("task_not_yours"))
        return task
    if answer.text:
        task = await task_store.find_code_for_unit(ctx.session, ctx.person.unit, answer.text)
        if task is not None:
            return task
        return Refusal(ctx.t("task_code_unknown", code=short(answer.text, 20)))
    return Refusal(ctx.t("choose_task"))


async def current(ctx: Ctx) -> Task | None:
    """The dialog's task, re-checked: the person's unit must still answer for it."""
    assert ctx.person is not None and ctx.person.unit is not None
    task_id = ctx.data.get("task_id")
    if not isinstance(task_id, int):
        return None
    key = f"task:{task_id}"
    if key not in ctx.memo:  # one check per update, however many steps ask
        ctx.memo[key] = await task_store.get_for_unit(ctx.session, ctx.person.unit, task_id)
    return ctx.memo[key]


async def current_or_finish(ctx: Ctx) -> Task | Finish:
    """The dialog's task, or the end of the dialog when the unit no longer answers for it."""
    task = await current(ctx)
    return task if task is not None else Finish([Reply(ctx.t("task_not_yours"))])


async def begin(ctx: Ctx, dialog: str, next_step: str) -> list[Reply]:
    """Start `dialog` at its task step, or at `next_step` when the command named the task."""
    ctx.clear()
    if ctx.event.args:
        picked = await take(ctx, Answer(None, ctx.event.args[0]))
        if isinstance(picked, Task):
            ctx.put(task_id=picked.id)
            return await enter(ctx, dialog, next_step)
        if isinstance(picked, Refusal):
            return [Reply(picked.text), *await enter(ctx, dialog, "task")]
    return await enter(ctx, dialog, "task")


def task_step(prompt_key: str, next_step: str) -> Step:
    """The "which task?" step of a dialog: pages of tasks or a typed code, then `next_step`."""

    async def ask_task(ctx: Ctx) -> Reply | Finish:
        return await ask(ctx, prompt_key)

    async def take_task(ctx: Ctx, answer: Answer) -> str | Refusal:
        picked = await take(ctx, answer)
        if isinstance(picked, Refusal):
            return picked
        if isinstance(picked, int):
            ctx.put(page=picked)
            return "task"
        ctx.put(task_id=picked.id)
        return next_step

    return Step(ask_task, take_task)
