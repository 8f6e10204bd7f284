"""/nhiemvu, /lichsu and /trogiup: what a unit has to do, what it reported, what one may ask."""

from __future__ import annotations

from handlers.context import Ctx
from handlers.events import Reply
from handlers.i18n import day, moment
from handlers.wording import deadline_words, short, status_label
from storage.models import Role
from storage.repositories import reports as report_store
from storage.repositories import tasks as task_store

UNIT_COMMANDS = ("baocao", "nhiemvu", "lichsu", "giahan")
COMMON_COMMANDS = ("ngonngu", "huy", "trogiup")
MEMBER_ROLES = (Role.OFFICER, Role.HEAD, Role.ADMIN)


def help_lines(ctx: Ctx) -> list[str]:
    """One line per command this person may use, nothing more."""
    person = ctx.person
    if person is None:
        return [ctx.t("help_newcomer")]
    commands: list[str] = []
    if person.unit_id is not None and person.role in MEMBER_ROLES:
        commands += UNIT_COMMANDS
    commands += COMMON_COMMANDS
    return [ctx.t("help_title")] + [ctx.t(f"help_{name}") for name in commands]


async def help_text(ctx: Ctx) -> list[Reply]:
    return [Reply("\n".join(help_lines(ctx)))]


async def tasks(ctx: Ctx) -> list[Reply]:
    """The unit's tasks: status, percent, deadline and days left or overdue."""
    assert ctx.person is not None and ctx.person.unit is not None
    unit = ctx.person.unit
    found = await task_store.for_unit(ctx.session, unit, ctx.today)
    if not found:
        return [Reply(ctx.t("no_tasks", unit=unit.name))]
    pending = await task_store.pending_extensions(ctx.session, [task.id for task in found])
    lines = [ctx.t("tasks_title", unit=unit.name, count=len(found))]
    for task in found:
        lines.append(f"\n{task.code} · {short(task.title)}")
        detail = ctx.t(
            "task_line",
            status=status_label(ctx, task),
            percent=task.percent,
            deadline=deadline_words(ctx, task),
        )
        lines.append(f"   {detail}")
        if task.id in pending:
            lines.append("   " + ctx.t("extension_pending", date=day(pending[task.id])))
    return [Reply("\n".join(lines))]


async def history(ctx: Ctx) -> list[Reply]:
    """The unit's latest reports, with who filed them and when."""
    assert ctx.person is not None and ctx.person.unit_id is not None
    found = await report_store.recent_for_unit(ctx.session, ctx.person.unit_id)
    if not found:
        return [Reply(ctx.t("no_reports"))]
    lines = [ctx.t("history_title")]
    for report in found:
        version = ctx.t("report_version", version=report.version) if report.version > 1 else ""
        lines.append(
            ctx.t(
                "history_line",
                id=report.id,
                code=report.task.code,
                percent=report.percent,
                status=status_label(ctx, report.task, report.status),
                who=report.person.full_name,
                when=moment(report.created_at, ctx.config.tz),
                version=version,
            ).rstrip()
        )
    return [Reply("\n".join(lines))]
