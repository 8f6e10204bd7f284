"""The tasks a unit answers for: as lead, as cooperating unit, or through a collective."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import bindparam, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload
from sqlalchemy.sql.elements import BindParameter

from storage.models import ExtensionRequest, ExtensionState, Task, TaskUnit, Unit
from storage.status import is_late

LEAD, COOPERATING = "lead", "cooperating"

_COLLECTIVES = select(Unit.id, Unit.covers).where(Unit.kind == "collective")


async def unit_scope(session: AsyncSession, unit: Unit) -> list[int]:
    """The unit's id and those of the collectives that stand for it ("Các sở, ban, ngành")."""
    collectives = (await session.execute(_COLLECTIVES)).all()
    return [unit.id, *(id_ for id_, covers in collectives if unit.kind in covers.split(","))]


@dataclass(frozen=True)
class UnitTasks:
    """A unit's active tasks, most urgent first: those it leads and those it cooperates on."""

    led: list[Task] = field(default_factory=list)
    cooperating: list[Task] = field(default_factory=list)

    def all(self) -> list[Task]:
        return [*self.led, *self.cooperating]


def leads(task: Task, scope: list[int]) -> bool:
    """The unit (or a collective standing for it) is among the task's lead units."""
    return task.lead_unit_id in scope or any(
        tu.role == LEAD and tu.unit_id in scope for tu in task.units
    )


async def for_unit(session: AsyncSession, unit: Unit, today: date) -> UnitTasks:
    """Active tasks of the unit, led and cooperating apart; in each, overdue first, then by
    due date (no deadline last), then plan order."""
    scope = await unit_scope(session, unit)
    tasks = (
        await session.scalars(
            select(Task)
            .where(Task.active.is_(True))
            .where(
                or_(
                    Task.lead_unit_id.in_(scope),
                    Task.id.in_(select(TaskUnit.task_id).where(TaskUnit.unit_id.in_(scope))),
                )
            )
        )
    ).all()

    def order(task: Task) -> tuple[int, date, int]:
        return (0 if is_late(task, today) else 1, task.due_date or date.max, task.position)

    ordered = sorted(tasks, key=order)
    return UnitTasks(
        led=[task for task in ordered if leads(task, scope)],
        cooperating=[task for task in ordered if not leads(task, scope)],
    )


_SCOPE: BindParameter[list[int]] = bindparam("scope", expanding=True)
_LEADS = or_(
    Task.lead_unit_id.in_(_SCOPE),
    exists().where(
        TaskUnit.task_id == Task.id, TaskUnit.role == LEAD, TaskUnit.unit_id.in_(_SCOPE)
    ),
)
_FOR_UNIT = (
    select(Task, _LEADS.label("leads"))
    .options(raiseload(Task.units), raiseload(Task.group), raiseload(Task.lead_unit))
    .where(Task.id == bindparam("task_id"), Task.active.is_(True))
    .where(
        or_(
            Task.lead_unit_id.in_(_SCOPE),
            Task.id.in_(
                select(TaskUnit.task_id).where(
                    TaskUnit.task_id == bindparam("task_id"), TaskUnit.unit_id.in_(_SCOPE)
                )
            ),
        )
    )
)


@dataclass(frozen=True)
class Assignment:
    """A task the unit answers for, and whether it leads it (else it cooperates)."""

    task: Task
    leads: bool


async def assignment(session: AsyncSession, unit: Unit, task_id: int) -> Assignment | None:
    """The task and the unit's part in it, or None if the unit may not report on it (a forged
    id ends here)."""
    scope = await unit_scope(session, unit)
    row = (await session.execute(_FOR_UNIT, {"task_id": task_id, "scope": scope})).first()
    return Assignment(row[0], bool(row[1])) if row else None


async def find_code_for_unit(session: AsyncSession, unit: Unit, code: str) -> Assignment | None:
    task_id = await session.scalar(select(Task.id).where(Task.code == code.strip().upper()))
    return await assignment(session, unit, task_id) if task_id else None


@dataclass(frozen=True)
class PendingExtension:
    """An extension request waiting for a decision: the date asked for and when it was asked."""

    proposed_date: date
    requested_at: datetime


async def pending_extensions(
    session: AsyncSession, task_ids: list[int] | None = None
) -> dict[int, PendingExtension]:
    """Pending extension requests by task (of `task_ids`, or of every task when None)."""
    query = select(
        ExtensionRequest.task_id, ExtensionRequest.proposed_date, ExtensionRequest.created_at
    ).where(ExtensionRequest.state == ExtensionState.PENDING)
    if task_ids is not None:
        query = query.where(ExtensionRequest.task_id.in_(task_ids))
    rows = await session.execute(query.order_by(ExtensionRequest.created_at))
    found: dict[int, PendingExtension] = {}
    for task_id, proposed, at in rows.all():
        found.setdefault(task_id, PendingExtension(proposed, at))  # the first one asked
    return found
