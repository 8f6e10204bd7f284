"""The tasks a unit answers for: as lead, as cooperating unit, or through a collective."""

from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from storage.models import ExtensionRequest, ExtensionState, Task, TaskUnit, Unit
from storage.status import effective_status

URGENT_FIRST = ("overdue",)


_COLLECTIVES = select(Unit.id, Unit.covers).where(Unit.kind == "collective")


async def unit_scope(session: AsyncSession, unit: Unit) -> list[int]:
    """The unit's id and those of the collectives that stand for it ("Các sở, ban, ngành")."""
    collectives = (await session.execute(_COLLECTIVES)).all()
    return [unit.id, *(id_ for id_, covers in collectives if unit.kind in covers.split(","))]


async def for_unit(session: AsyncSession, unit: Unit, today: date) -> list[Task]:
    """Active tasks of the unit, overdue first, then by due date (no deadline last), then code."""
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
        overdue = effective_status(task.status, task.due_date, task.ongoing, today) == "overdue"
        return (0 if overdue else 1, task.due_date or date.max, task.position)

    return sorted(tasks, key=order)


_FOR_UNIT = (
    select(Task)
    .options(raiseload(Task.units), raiseload(Task.group), raiseload(Task.lead_unit))
    .where(Task.id == bindparam("task_id"), Task.active.is_(True))
    .where(
        or_(
            Task.lead_unit_id.in_(bindparam("scope", expanding=True)),
            Task.id.in_(
                select(TaskUnit.task_id).where(
                    TaskUnit.task_id == bindparam("task_id"),
                    TaskUnit.unit_id.in_(bindparam("scope", expanding=True)),
                )
            ),
        )
    )
)


async def get_for_unit(session: AsyncSession, unit: Unit, task_id: int) -> Task | None:
    """The task if the unit may report on it, else None (a forged id ends here)."""
    scope = await unit_scope(session, unit)
    return await session.scalar(_FOR_UNIT, {"task_id": task_id, "scope": scope})


async def find_code_for_unit(session: AsyncSession, unit: Unit, code: str) -> Task | None:
    task_id = await session.scalar(select(Task.id).where(Task.code == code.strip().upper()))
    return await get_for_unit(session, unit, task_id) if task_id else None


async def pending_extensions(session: AsyncSession, task_ids: list[int]) -> dict[int, date]:
    rows = await session.execute(
        select(ExtensionRequest.task_id, ExtensionRequest.proposed_date)
        .where(ExtensionRequest.task_id.in_(task_ids))
        .where(ExtensionRequest.state == ExtensionState.PENDING)
    )
    return {task_id: proposed for task_id, proposed in rows.all()}
