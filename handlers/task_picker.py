"""Choosing one of the unit's tasks: pages of 8, overdue first, or its code typed.

A dialog says what follows the choice (`Chosen`): the next step's name, or a refusal when its
unit's part in the task does not allow it (only the lead unit may ask for more time).
When the unit has tasks in several followed plans, the tasks come plan by plan and each code
carries its plan's short name ("KH 2023 · I.3"); a typed code that several plans use is asked
about ("which one?"), and "KH2023 I.3" names the plan at once. With one plan nothing shows.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from handlers.context import Ctx
from handlers.events import Option, Reply
from handlers.options import GO_TO_PAGE, REPORT_NOW, TASK, Choice, parse
from handlers.steps import Answer, Finish, Refusal, Step, enter
from handlers.wording import short
from storage.models import Task
from storage.repositories import tasks as task_store
from storage.repositories.tasks import Assignment

log = logging.getLogger(__name__)
PAGE = 8
Chosen = Callable[[Ctx, Assignment], Awaitable[str | Refusal]]
# What a dialog keeps: the tasks a typed code matched in several plans; whether codes show
# their plan.
AMONG, WITH_PLAN = "among", "with_plan"
# "I.3", "KH2023 I.3", "KH 2023 · I.3", "CT 284: VII.3.a": the code is the last word.
_TYPED = re.compile(r"^(?:(?P<plan>.*?)[\s·:,;|/\-]+)?(?P<code>[^\s·:,;|/]+)$")


def split_code(text: str) -> tuple[str, str]:
    """(the plan's name as typed, or "", the task code) from what a person typed."""
    match = _TYPED.match(text.strip())
    if match is None:
        return "", text.strip()
    return (match.group("plan") or "").strip(" ·:"), match.group("code")


def code(ctx: Ctx, task: Task, with_plan: bool | None = None) -> str:
    """The task's code as this person reads it: "I.3", or "KH 2023 · I.3" when the unit's
    tasks span several plans."""
    shown = ctx.data.get(WITH_PLAN, False) if with_plan is None else with_plan
    return ctx.t("plan_code", plan=task.plan.short_name, code=task.code) if shown else task.code


async def ask(ctx: Ctx, prompt_key: str, led_only: bool = False) -> Reply | Finish:
    assert ctx.person is not None and ctx.person.unit is not None
    unit = ctx.person.unit
    found = await task_store.for_unit(ctx.session, unit, ctx.today)
    # Plan by plan; within a plan, the tasks it leads first (a stable sort keeps that order).
    listed = sorted(found.led if led_only else found.all(), key=lambda task: task.plan_id)
    if not listed:
        empty = "no_led_tasks" if led_only and found.cooperating else "no_tasks"
        return Finish([Reply(ctx.t(empty, unit=unit.name))])
    cooperating = {task.id for task in found.cooperating}
    among = [task for task in found.all() if task.id in (ctx.data.get(AMONG) or [])]
    if among:
        return _ask_among(ctx, among, cooperating)
    with_plan = len({task.plan_id for task in found.all()}) > 1
    pages = (len(listed) + PAGE - 1) // PAGE
    page = min(int(ctx.data.get("page", 0)), pages - 1)
    options = [
        _option(ctx, task, task.id in cooperating, with_plan)
        for task in listed[page * PAGE : (page + 1) * PAGE]
    ]
    if page > 0:
        options.append(Option(GO_TO_PAGE.id(page - 1), ctx.t("page_previous")))
    if page < pages - 1:
        options.append(Option(GO_TO_PAGE.id(page + 1), ctx.t("page_next")))
    text = ctx.t(prompt_key, unit=unit.name)
    if pages > 1:
        text += "\n" + ctx.t("page_of", page=page + 1, pages=pages)
    return Reply(text, tuple(options))


def _ask_among(ctx: Ctx, tasks: list[Task], cooperating: set[int]) -> Reply:
    """Which of the plans' tasks with the code typed (each shown with its plan)."""
    options = tuple(_option(ctx, task, task.id in cooperating, True) for task in tasks)
    return Reply(ctx.t("task_code_in_plans", code=tasks[0].code, count=len(tasks)), options)


def _option(ctx: Ctx, task: Task, cooperating: bool, with_plan: bool) -> Option:
    label = f"{code(ctx, task, with_plan)} · {short(task.title, 48)}"
    if cooperating:
        label = ctx.t("task_option_cooperating", label=label)
    return Option(TASK.id(task.id), label)


async def take(ctx: Ctx, answer: Answer) -> Assignment | list[Assignment] | Refusal | int:
    """The chosen task, the tasks of several plans a typed code matched, a page number to
    show, or why the answer is refused."""
    assert ctx.person is not None and ctx.person.unit is not None
    page = GO_TO_PAGE.value(answer.choice)
    if page is not None:
        return page
    task_id = TASK.value(answer.choice)
    if task_id is not None:
        found = await task_store.assignment(ctx.session, ctx.person.unit, task_id)
        if found is None:
            log.warning(
                "refused task option %s from %s/%s (unit %s)",
                task_id,
                ctx.event.channel,
                ctx.event.sender_id,
                ctx.person.unit_id,
            )
            return Refusal(ctx.t("task_not_yours"))
        return found
    if answer.text:
        plan, typed = split_code(answer.text)
        matched = await task_store.find_code_for_unit(ctx.session, ctx.person.unit, typed, plan)
        if len(matched) == 1:
            return matched[0]
        if matched:
            return matched
        return Refusal(ctx.t("task_code_unknown", code=short(answer.text, 30)))
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
    assert ctx.person is not None and ctx.person.unit is not None
    with_plan = await task_store.plan_count(ctx.session, ctx.person.unit) > 1
    ctx.put(**{AMONG: None, WITH_PLAN: with_plan})
    following = await chosen(ctx, picked)
    if not isinstance(following, Refusal):
        ctx.put(task_id=picked.task.id)
        ctx.memo[f"task:{picked.task.id}"] = picked
    return following


async def _picked(
    ctx: Ctx, picked: Assignment | list[Assignment] | Refusal | int, chosen: Chosen
) -> str | Refusal | int:
    """What follows an answer to "which task?": the next step, a page, or the same question
    among the plans' tasks a typed code matched."""
    if isinstance(picked, list):
        ctx.put(**{AMONG: [found.task.id for found in picked], "page": 0})
        return "task"
    if isinstance(picked, Assignment):
        return await _choose(ctx, picked, chosen)
    return picked


async def begin(ctx: Ctx, dialog: str, chosen: Chosen) -> list[Reply]:
    """Start `dialog` at its task step, or past it when the command named the task
    ("/baocao I.3", "/baocao KH2023 I.3", "/baocao KH 2023 · I.3")."""
    ctx.clear()
    # A reminder's "Báo cáo ngay" (rpt:<task id>, routed here by handlers.router) names it too.
    pressed = REPORT_NOW.value(parse(ctx.event.option_id or "", (REPORT_NOW,)))
    if pressed is not None or ctx.event.args:
        typed = (
            Answer(Choice(TASK, pressed), "") if pressed else Answer(None, " ".join(ctx.event.args))
        )
        following = await _picked(ctx, await take(ctx, typed), chosen)
        if isinstance(following, str):
            return await enter(ctx, dialog, following)
        if isinstance(following, Refusal):
            return [Reply(following.text), *await enter(ctx, dialog, "task")]
    return await enter(ctx, dialog, "task")


def task_step(
    prompt_key: str, chosen: Chosen, leads_to: tuple[str, ...], led_only: bool = False
) -> Step:
    """The "which task?" step of a dialog: pages of tasks or a typed code, then what `chosen`
    says. With `led_only`, only the tasks the unit leads are offered."""

    async def ask_task(ctx: Ctx) -> Reply | Finish:
        return await ask(ctx, prompt_key, led_only)

    async def take_task(ctx: Ctx, answer: Answer) -> str | Refusal:
        following = await _picked(ctx, await take(ctx, answer), chosen)
        if isinstance(following, int):
            ctx.put(page=following)
            return "task"
        return following

    return Step(ask_task, take_task, offers=(TASK, GO_TO_PAGE), leads_to=leads_to)
