"""A task's status and deadline in the city office's own words."""

from __future__ import annotations

from handlers.context import Ctx
from handlers.i18n import day, number
from storage.models import Task, TaskStatus
from storage.status import effective_status


def reported_label(ctx: Ctx, task: Task, status: str) -> str:
    """The status a report gave (or would give) the task, read against today's date."""
    current = effective_status(status, task.due_date, task.ongoing, ctx.today, reported=True)
    return label(ctx, task, current)


def label(ctx: Ctx, task: Task, status: TaskStatus) -> str:
    """An effective status (storage.status decides it) in the person's language."""
    if status == TaskStatus.IN_PROGRESS and (task.ongoing or task.due_date is None):
        return ctx.t("status_in_progress_no_deadline")
    return ctx.t(f"status_{status.value}")


def deadline_words(ctx: Ctx, task: Task) -> str:
    """ "Hạn 31/12/2022 (quá hạn 5 ngày)", "Thường xuyên", "Không có hạn"."""
    if task.ongoing:
        return ctx.t("deadline_ongoing", text=task.deadline_text)
    if task.due_date is None:
        return ctx.t("deadline_none")
    days = (task.due_date - ctx.today).days
    if task.status in ("done_on_time", "done_late", "done"):
        when = ""
    elif days > 0:
        when = ctx.t("days_left", days=number(ctx.lang, days))
    elif days == 0:
        when = ctx.t("due_today")
    else:
        when = ctx.t("days_overdue", days=number(ctx.lang, -days))
    return ctx.t("deadline_on", date=day(task.due_date), when=when).rstrip()


def short(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
