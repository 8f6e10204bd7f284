"""/nhiemvu and /lichsu: what a unit has to do and what it reported."""

from __future__ import annotations

from handlers import task_picker
from handlers.context import Ctx
from handlers.events import Reply
from handlers.feature import UNIT_ROLES, Command, Feature, Where, allow
from handlers.i18n import day, moment
from handlers.wording import deadline_words, label, reported_label, short
from storage.models import Report, ReportKind, Task, TaskStatus
from storage.repositories import reports as report_store
from storage.repositories import tasks as task_store
from storage.repositories.tasks import PendingExtension
from storage.status import task_status


async def tasks(ctx: Ctx) -> list[Reply]:
    """The unit's tasks, those it leads and those it cooperates on apart: status (a task never
    reported on says so), percent, deadline and days left or overdue, pending extensions.
    Tasks in several followed plans come plan by plan, each code with its plan's short name."""
    assert ctx.person is not None and ctx.person.unit is not None
    unit = ctx.person.unit
    found = await task_store.for_unit(ctx.session, unit, ctx.today)
    if not found.all():
        return [Reply(ctx.t("no_tasks", unit=unit.name))]
    pending = await task_store.pending_extensions(ctx.session, [task.id for task in found.all()])
    lines = [ctx.t("tasks_title", unit=unit.name, count=len(found.all()))]
    plans = list(dict.fromkeys(task.plan_id for task in found.all()))
    for plan_id in plans:
        led = [task for task in found.led if task.plan_id == plan_id]
        cooperating = [task for task in found.cooperating if task.plan_id == plan_id]
        if len(plans) > 1:
            plan = (led or cooperating)[0].plan
            count = len(led) + len(cooperating)
            lines.append(
                "\n" + ctx.t("tasks_plan", plan=plan.short_name, name=plan.name, count=count)
            )
        lines += _part_lines(ctx, led, cooperating, pending, len(plans) > 1)
    return [Reply("\n".join(lines))]


def _part_lines(
    ctx: Ctx,
    led: list[Task],
    cooperating: list[Task],
    pending: dict[int, PendingExtension],
    with_plan: bool,
) -> list[str]:
    lines: list[str] = []
    for title, listed, cooperates in (
        ("tasks_led", led, False),
        ("tasks_cooperating", cooperating, True),
    ):
        if listed:
            lines.append("\n" + ctx.t(title, count=len(listed)))
            lines += [
                line
                for task in listed
                for line in _task_lines(ctx, task, pending, cooperates, with_plan)
            ]
    return lines


def _task_lines(
    ctx: Ctx,
    task: Task,
    pending: dict[int, PendingExtension],
    cooperating: bool,
    with_plan: bool,
) -> list[str]:
    waiting = pending.get(task.id)
    status = task_status(task, ctx.today, extension_pending=waiting is not None)
    values = {
        "status": label(ctx, task, status),
        "percent": task.percent,
        "deadline": deadline_words(ctx, task),
    }
    key = "task_line_unreported" if status == TaskStatus.NOT_REPORTED else "task_line"
    code = task_picker.code(ctx, task, with_plan)
    lines = [f"\n{code} · {short(task.title)}", "   " + ctx.t(key, **values)]
    if cooperating:
        lines.append("   " + ctx.t("task_lead_unit", unit=task.lead_unit.name))
    if waiting is not None:
        lines.append("   " + ctx.t("extension_pending", date=day(waiting.proposed_date)))
    return lines


async def history(ctx: Ctx) -> list[Reply]:
    """The unit's latest reports and contributions, and contributions to the tasks it leads,
    with who filed them and when."""
    assert ctx.person is not None and ctx.person.unit is not None
    led = (await task_store.for_unit(ctx.session, ctx.person.unit, ctx.today)).led
    found = await report_store.history_for_unit(
        ctx.session, ctx.person.unit.id, [task.id for task in led]
    )
    if not found:
        return [Reply(ctx.t("no_reports"))]
    with_plan = len({report.task.plan_id for report in found}) > 1
    lines = [_history_line(ctx, report, with_plan) for report in found]
    return [Reply("\n".join([ctx.t("history_title"), *lines]))]


def _history_line(ctx: Ctx, report: Report, with_plan: bool) -> str:
    values = {
        "id": report.id,
        "code": task_picker.code(ctx, report.task, with_plan),
        "who": report.person.full_name,
        "when": moment(report.created_at, ctx.config.tz),
        "update": ctx.t("report_update_of", id=report.corrects_id) if report.corrects_id else "",
    }
    if report.kind == ReportKind.CONTRIBUTION:
        return ctx.t(
            "history_contribution_line",
            unit=report.unit.short_name or report.unit.name,
            results=short(report.results, 80),
            **values,
        ).rstrip()
    return ctx.t(
        "history_line",
        percent=report.percent,
        status=reported_label(ctx, report.task, report.status),
        **values,
    ).rstrip()


FEATURE = Feature(
    "views",
    commands=(
        Command(
            "nhiemvu",
            tasks,
            allow(UNIT_ROLES, (Where.PRIVATE,)),
            aliases=("tasks",),
            needs_unit=True,
        ),
        Command(
            "lichsu",
            history,
            allow(UNIT_ROLES, (Where.PRIVATE,)),
            aliases=("history",),
            needs_unit=True,
        ),
    ),
)
