"""The tasks a unit answers for: as lead, as cooperating unit, or through a collective.

Only tasks of followed plans count: a closed plan's tasks are neither offered nor accepted
(its reports are kept; the exports still reach them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, bindparam, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload
from sqlalchemy.sql.elements import BindParameter

from storage.models import ExtensionRequest, ExtensionState, Plan, Task, TaskUnit, Unit
from storage.repositories import plans as plan_store
from storage.status import is_late

LEAD, COOPERATING = "lead", "cooperating"

_COLLECTIVES = select(Unit.id, Unit.covers).where(Unit.kind == "collective")
_FOLLOWED = Task.plan_id.in_(select(Plan.id).where(Plan.followed.is_(True)))


async def unit_scope(session: AsyncSession, unit: Unit) -> list[int]:
    """The unit's id and those of the collectives that stand for it ("Các sở, ban, ngành")."""
    collectives = (await session.execute(_COLLECTIVES)).all()
    return [unit.id, *(id_ for id_, covers in collectives if unit.kind in covers.split(","))]


def _yours(scope: list[int]) -> Select[Any]:
    """The active tasks of followed plans that the units of `scope` lead or cooperate on."""
    return (
        select(Task)
        .where(Task.active.is_(True), _FOLLOWED)
        .where(
            or_(
                Task.lead_unit_id.in_(scope),
                Task.id.in_(select(TaskUnit.task_id).where(TaskUnit.unit_id.in_(scope))),
            )
        )
    )


async def plan_count(session: AsyncSession, unit: Unit) -> int:
    """In how many followed plans the unit has active tasks (chat names the plan from two)."""
    scope = await unit_scope(session, unit)
    mine = _yours(scope).with_only_columns(Task.plan_id).distinct().subquery()
    return int(await session.scalar(select(func.count()).select_from(mine)) or 0)


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
    """Active tasks of the unit in followed plans, led and cooperating apart; in each, plan by
    plan (in the order plans were created), overdue first, then by due date (no deadline
    last), then plan order."""
    scope = await unit_scope(session, unit)
    tasks = (await session.scalars(_yours(scope))).all()

    def order(task: Task) -> tuple[int, int, date, int]:
        late = 0 if is_late(task, today) else 1
        return (task.plan_id, late, task.due_date or date.max, task.position)

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
    .where(Task.id == bindparam("task_id"), Task.active.is_(True), _FOLLOWED)
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


async def find_code_for_unit(
    session: AsyncSession, unit: Unit, code: str, plan: str = ""
) -> list[Assignment]:
    """The unit's tasks with this code, one per followed plan that has it (several when plans
    reuse codes), or only in the plan `plan` names (its short name or name, folded)."""
    query = select(Task.id).where(Task.code.in_(_spellings(code)), _FOLLOWED)
    if plan:
        named = await plan_store.find(session, plan)
        if named is None:
            return []
        query = query.where(Task.plan_id == named.id)
    found = []
    for task_id in (await session.scalars(query.order_by(Task.plan_id))).all():
        picked = await assignment(session, unit, task_id)
        if picked is not None:
            found.append(picked)
    return found


def _spellings(code: str) -> set[str]:
    """ "vii.3", "VII.3" → "VII.3"; "i.3.a" → "I.3.a" (sub-items are lower-case letters)."""
    typed = code.strip()
    head, _, rest = typed.partition(".")
    return {typed, typed.upper(), f"{head.upper()}.{rest.lower()}" if rest else head.upper()}


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


async def unfinished_in_followed_plans(
    session: AsyncSession, done: Sequence[str]
) -> Sequence[Task]:
    """The active tasks of followed plans whose status is none of `done`, in the appendix's
    order (their groups and units not loaded)."""
    return (
        await session.scalars(
            select(Task)
            .join(Plan, Plan.id == Task.plan_id)
            .where(Plan.followed.is_(True), Task.active.is_(True))
            .where(Task.status.not_in(list(done)))
            .options(raiseload(Task.group), raiseload(Task.units))
            .order_by(Task.plan_id, Task.position, Task.id)
        )
    ).all()
