"""Choosing one of the unit's tasks: pages of 8, overdue first, or its code typed.

A dialog says what follows the choice (`Chosen`): the next step's name, or a refusal when its
unit's part in the task does not allow it (only the lead unit may ask for more time).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from handlers.context import Ctx
from handlers.events import Option, Reply
from handlers.steps import Answer, Finish, Refusal, Step, enter
from handlers.wording import short
from storage.models import Task
from storage.repositories import tasks as task_store
from storage.repositories.tasks import Assignment

log = logging.getLogger(__name__)
PAGE = 8
Chosen = Callable[[Ctx, Assignment], Awaitable[str | Refusal]]


async def ask(ctx: Ctx, prompt_key: str, led_only: bool = False) -> Reply | Finish:
    assert ctx.person is not None and ctx.person.unit is not None
    unit = ctx.person.unit
    found = await task_store.for_unit(ctx.session, unit, ctx.today)
    listed = found.led if led_only else found.all()
    if not listed:
        empty = "no_led_tasks" if led_only and found.cooperating else "no_tasks"
        return Finish([Reply(ctx.t(empty, unit=unit.name))])
    cooperating = {task.id for task in found.cooperating}
    pages = (len(listed) + PAGE - 1) // PAGE
    page = min(int(ctx.data.get("page", 0)), pages - 1)
    options = [
        _option(ctx, task, task.id in cooperating)
        for task in listed[page * PAGE : (page + 1) * PAGE]
    ]
    if page > 0:
        options.append(Option(f"pg:{page - 1}", ctx.t("page_previous")))
    if page < pages - 1:
        options.append(Option(f"pg:{page + 1}", ctx.t("page_next")))
    text = ctx.t(prompt_key, unit=unit.name)
    if pages > 1:
        text += "\n" + ctx.t("page_of", page=page + 1, pages=pages)
    return Reply(text, tuple(options))


def _option(ctx: Ctx, task: Task, cooperating: bool) -> Option:
    label = f"{task.code} · {short(task.title, 48)}"
    if cooperating:
        label = ctx.t("task_option_cooperating", label=label)
    return Option(f"t:{task.id}", label)


async def take(ctx: Ctx, answer: Answer) -> Assignment | Refusal | int:
    """The chosen task, a page number to show, or why the answer is refused."""
    assert ctx.person is not None and ctx.person.unit is not None
    option = answer.option_id or ""
    if option.startswith("pg:") and option[3:].isdigit():
        return int(option[3:])
    if option.startswith("t:") and option[2:].isdigit():
        found = await task_store.assignment(ctx.session, ctx.person.unit, int(option[2:]))
        if found is None:
            log.warning(
                "refused task option %r from %s/%s (unit %s)",
                option,
                ctx.event.channel,
                ctx.event.sender_id,
                ctx.person.unit_id,
            )
            return Refusal(ctx.t("task_not_yours"))
        return found
    if answer.text:
        found = await task_store.find_code_for_unit(ctx.session, ctx.person.unit, answer.text)
        if found is not None:
            return found
        return Refusal(ctx.t("task_code_unknown", code=short(answer.text, 20)))
    return Refusal(ctx.t("choose_task"))


async def current_assignment(ctx: Ctx) -> Assignment | None:
    """The dialog's task and the unit's part in it, re-checked: the unit must still answer
    for it."""
    assert ctx.person is not None and ctx.person.unit is not None
    task_id = ctx.data.get("task_id")
    if not isinstance(task_id, int):
        return None
    key = f"task:{task_id}"
    if key not in ctx.memo:  # one check per update, however many steps ask
        ctx.memo[key] = await task_store.assignment(ctx.session, ctx.person.unit, task_id)
    found: Assignment | None = ctx.memo[key]
    return found


async def current(ctx: Ctx) -> Task | None:
    """The dialog's task, re-checked: the person's unit must still answer for it."""
    found = await current_assignment(ctx)
    return found.task if found else None


async def current_or_finish(ctx: Ctx) -> Task | Finish:
    """The dialog's task, or the end of the dialog when the unit no longer answers for it."""
    task = await current(ctx)
    return task if task is not None else Finish([Reply(ctx.t("task_not_yours"))])


async def _choose(ctx: Ctx, picked: Assignment, chosen: Chosen) -> str | Refusal:
    following = await chosen(ctx, picked)
    if not isinstance(following, Refusal):
        ctx.put(task_id=picked.task.id)
        ctx.memo[f"task:{picked.task.id}"] = picked
    return following


async def begin(ctx: Ctx, dialog: str, chosen: Chosen) -> list[Reply]:
    """Start `dialog` at its task step, or past it when the command named the task."""
    ctx.clear()
    if ctx.event.args:
        picked = await take(ctx, Answer(None, ctx.event.args[0]))
        following = await _choose(ctx, picked, chosen) if isinstance(picked, Assignment) else picked
        if isinstance(following, str):
            return await enter(ctx, dialog, following)
        if isinstance(following, Refusal):
            return [Reply(following.text), *await enter(ctx, dialog, "task")]
    return await enter(ctx, dialog, "task")


def task_step(prompt_key: str, chosen: Chosen, led_only: bool = False) -> Step:
    """The "which task?" step of a dialog: pages of tasks or a typed code, then what `chosen`
    says. With `led_only`, only the tasks the unit leads are offered."""

    async def ask_task(ctx: Ctx) -> Reply | Finish:
        return await ask(ctx, prompt_key, led_only)

    async def take_task(ctx: Ctx, answer: Answer) -> str | Refusal:
        picked = await take(ctx, answer)
        if isinstance(picked, Refusal):
            return picked
        if isinstance(picked, int):
            ctx.put(page=picked)
            return "task"
        return await _choose(ctx, picked, chosen)

    return Step(ask_task, take_task)
