"""A task's effective status: what the lead unit reported, read against the deadline and today.

Officers report what they did ("đang thực hiện", "hoàn thành"); whether that is within the
deadline or overdue, on time or late, follows from the dates, so it is derived here once. A task
nobody has reported on is "chưa báo cáo", never "đang thực hiện": the figures count only what
was said. Every view, export and count asks this module, so they all tell the same story.
"""

from __future__ import annotations

from datetime import date

from storage.models import Task, TaskStatus

DONE = {TaskStatus.DONE_ON_TIME, TaskStatus.DONE_LATE, TaskStatus.DONE}
# Statuses that say the work is still open, so a passed due date makes the task overdue.
OPEN = {TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS, TaskStatus.OVERDUE}


def is_overdue(due_date: date | None, ongoing: bool, today: date) -> bool:
    return due_date is not None and not ongoing and today > due_date


def effective_status(
    status: str,
    due_date: date | None,
    ongoing: bool,
    today: date,
    *,
    reported: bool,
    extension_pending: bool = False,
) -> TaskStatus:
    """The status to show and export, line by line as the office reads it.

    1. A completed task is completed, whatever else is pending.
    2. A pending extension request shows until it is decided.
    3. Without a report from the lead unit, the task is "not reported".
    4. Open work is in progress or, past its due date, overdue; "not started" stays so until
       the due date passes.
    5. Anything else (blocked, paused) is shown as reported.
    """
    current = TaskStatus(status)
    if current in DONE:
        return current
    if extension_pending:
        return TaskStatus.EXTENSION_REQUESTED
    if not reported:
        return TaskStatus.NOT_REPORTED
    late = is_overdue(due_date, ongoing, today)
    if current == TaskStatus.NOT_STARTED and not late:
        return current
    if current in OPEN:
        return TaskStatus.OVERDUE if late else TaskStatus.IN_PROGRESS
    return current


def task_status(task: Task, today: date, *, extension_pending: bool = False) -> TaskStatus:
    """The effective status of `task`; "reported" means the lead unit filed a report."""
    return effective_status(
        task.status,
        task.due_date,
        task.ongoing,
        today,
        reported=task.last_report_at is not None,
        extension_pending=extension_pending,
    )


def is_late(task: Task, today: date) -> bool:
    """The task is not completed and its due date has passed (reported or not)."""
    return TaskStatus(task.status) not in DONE and is_overdue(task.due_date, task.ongoing, today)


def completion_status(due_date: date | None, ongoing: bool, done_on: date) -> TaskStatus:
    """The completed status a report filed on `done_on` gives the task."""
    if due_date is None or ongoing:
        return TaskStatus.DONE
    return TaskStatus.DONE_ON_TIME if done_on <= due_date else TaskStatus.DONE_LATE
