"""A task's effective status: what an officer reported, read against the deadline and today.

Officers report what they did ("đang thực hiện", "hoàn thành"); whether that is within the
deadline or overdue, on time or late, follows from the dates, so it is derived here once.
"""

from __future__ import annotations

from datetime import date

from storage.models import TaskStatus

DONE = {TaskStatus.DONE_ON_TIME, TaskStatus.DONE_LATE, TaskStatus.DONE}
# Statuses that say the work is still open, so a passed due date makes the task overdue.
OPEN = {TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS, TaskStatus.OVERDUE}


def is_overdue(due_date: date | None, ongoing: bool, today: date) -> bool:
    return due_date is not None and not ongoing and today > due_date


def effective_status(status: str, due_date: date | None, ongoing: bool, today: date) -> TaskStatus:
    """The status to show and export for a task whose stored status is `status`."""
    current = TaskStatus(status)
    if current in OPEN and current != TaskStatus.NOT_STARTED:
        return (
            TaskStatus.OVERDUE if is_overdue(due_date, ongoing, today) else TaskStatus.IN_PROGRESS
        )
    if current == TaskStatus.NOT_STARTED and is_overdue(due_date, ongoing, today):
        return TaskStatus.OVERDUE
    return current


def completion_status(due_date: date | None, ongoing: bool, done_on: date) -> TaskStatus:
    """The completed status a report filed on `done_on` gives the task."""
    if due_date is None or ongoing:
        return TaskStatus.DONE
    return TaskStatus.DONE_ON_TIME if done_on <= due_date else TaskStatus.DONE_LATE
