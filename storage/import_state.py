"""What one plan holds before an import: its tasks with their units, its groups, and the due
dates that are approved extensions.

Read as plain columns, not ORM objects: the importer only compares values, and 5,000 tasks with
their units, groups and lead units loaded as objects cost seconds and tens of megabytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ExtensionRequest, ExtensionState, Task, TaskGroup, TaskUnit

# The task's columns an import compares with the file (its units are compared too, apart).
TASK_FIELDS = (
    "group_id",
    "number",
    "title",
    "lead_unit_id",
    "deadline_text",
    "due_date",
    "ongoing",
    "expected_output",
    "budget",
    "notes",
    "active",
)


@dataclass
class StoredTask:
    """A task of the plan as stored: TASK_FIELDS and `units` ([(unit id, role)], in order)."""

    id: int
    position: int
    values: dict[str, Any]

    @property
    def active(self) -> bool:
        return bool(self.values["active"])


@dataclass
class StoredGroup:
    id: int
    name: str


@dataclass
class PlanState:
    tasks: dict[str, StoredTask] = field(default_factory=dict)  # by code, in id order
    groups: dict[int, StoredGroup] = field(default_factory=dict)  # by number
    extended: dict[int, date] = field(default_factory=dict)  # task id: its approved date


async def read_plan(session: AsyncSession, plan_id: int) -> PlanState:
    """Everything of plan `plan_id` an import compares with its file."""
    return PlanState(
        await _tasks(session, plan_id),
        await _groups(session, plan_id),
        await _extended(session, plan_id),
    )


async def _tasks(session: AsyncSession, plan_id: int) -> dict[str, StoredTask]:
    columns = [getattr(Task, name) for name in TASK_FIELDS]
    rows = await session.execute(
        select(Task.id, Task.code, Task.position, *columns)
        .where(Task.plan_id == plan_id)
        .order_by(Task.id)
    )
    tasks: dict[str, StoredTask] = {}
    by_id: dict[int, StoredTask] = {}
    for task_id, code, position, *values in rows.all():
        fields = dict(zip(TASK_FIELDS, values, strict=True))
        stored = StoredTask(task_id, position, {**fields, "units": []})
        tasks[code] = by_id[task_id] = stored
    units = await session.execute(
        select(TaskUnit.task_id, TaskUnit.unit_id, TaskUnit.role)
        .join(Task, Task.id == TaskUnit.task_id)
        .where(Task.plan_id == plan_id)
        .order_by(TaskUnit.task_id, TaskUnit.position, TaskUnit.id)
    )
    for task_id, unit_id, role in units.all():
        by_id[task_id].values["units"].append((unit_id, role))
    return tasks


async def _groups(session: AsyncSession, plan_id: int) -> dict[int, StoredGroup]:
    rows = await session.execute(
        select(TaskGroup.number, TaskGroup.id, TaskGroup.name).where(TaskGroup.plan_id == plan_id)
    )
    return {number: StoredGroup(group_id, name) for number, group_id, name in rows.all()}


async def _extended(session: AsyncSession, plan_id: int) -> dict[int, date]:
    """The tasks whose due date is an approved extension's: {task id: that date}."""
    rows = await session.execute(
        select(Task.id, ExtensionRequest.proposed_date)
        .join(ExtensionRequest, ExtensionRequest.task_id == Task.id)
        .where(
            Task.plan_id == plan_id,
            ExtensionRequest.state == ExtensionState.APPROVED,
            ExtensionRequest.proposed_date == Task.due_date,
        )
    )
    return {task_id: proposed for task_id, proposed in rows.all()}
