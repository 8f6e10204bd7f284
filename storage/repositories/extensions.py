"""Extension requests waiting for a decision, and the decision itself.

A decision is one conditional UPDATE (`… WHERE state = 'pending'`): of two admins deciding one
request at the same moment, exactly one changes the row and the other learns from the row count
that someone was first. An approval moves the task's due date in the same transaction, so the
log never shows an approval without its new date, nor the reverse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import ExtensionRequest, ExtensionState, Person, Plan, Task, Unit

# The office writes a date cell as dd/mm/yyyy; the mark says the date is not the appendix's.
EXTENDED_MARK = "(gia hạn)"


@dataclass(frozen=True)
class RequestView:
    """A request with what a decision shows: its task, the requesting unit and person, and who
    decided it (once decided)."""

    request: ExtensionRequest
    task: Task
    unit: Unit
    requester: Person
    decider: Person | None


_DECIDER = aliased(Person)


def _views() -> Any:
    return (
        select(ExtensionRequest, Task, Unit, Person, _DECIDER)
        .join(Task, ExtensionRequest.task_id == Task.id)
        .join(Unit, ExtensionRequest.unit_id == Unit.id)
        .join(Person, ExtensionRequest.person_id == Person.id)
        .outerjoin(_DECIDER, ExtensionRequest.decided_by_id == _DECIDER.id)
        # A decision just made by another session must be seen as it is, not as this session
        # first loaded it.
        .execution_options(populate_existing=True)
    )


def _pending(unit_id: int | None) -> Any:
    condition = ExtensionRequest.state == ExtensionState.PENDING
    if unit_id is None:
        return condition
    return condition & (ExtensionRequest.unit_id == unit_id)


async def count_pending(session: AsyncSession, unit_id: int | None = None) -> int:
    """How many requests wait (of the unit that asked, or of every unit)."""
    query = select(func.count()).select_from(ExtensionRequest).where(_pending(unit_id))
    return int(await session.scalar(query) or 0)


async def pending(
    session: AsyncSession, unit_id: int | None = None, offset: int = 0, limit: int | None = None
) -> list[RequestView]:
    """The waiting requests (of the unit that asked, or of every unit), oldest first."""
    query = (
        _views()
        .where(_pending(unit_id))
        .order_by(ExtensionRequest.created_at, ExtensionRequest.id)
        .offset(offset)
        .limit(limit)
    )
    return [RequestView(*row) for row in (await session.execute(query)).all()]


async def find(session: AsyncSession, request_id: int) -> RequestView | None:
    """The request with this id, whatever its state; None when there is none (a forged id)."""
    row = (await session.execute(_views().where(ExtensionRequest.id == request_id))).first()
    return RequestView(*row) if row else None


async def several_plans(session: AsyncSession) -> bool:
    """More than one plan is followed: a task code then needs its plan's short name."""
    query = select(func.count()).select_from(Plan).where(Plan.followed.is_(True))
    return int(await session.scalar(query) or 0) > 1


async def decide(
    session: AsyncSession,
    request_id: int,
    *,
    state: ExtensionState,
    by: int,
    at: datetime,
    note: str = "",
) -> bool:
    """Marks a pending request approved or rejected; False when it was no longer pending
    (someone decided first, or it was never there): nothing is changed then."""
    statement = (
        update(ExtensionRequest)
        .where(ExtensionRequest.id == request_id, ExtensionRequest.state == ExtensionState.PENDING)
        .values(state=state.value, decided_by_id=by, decided_at=at, decision_note=note)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def extended_text(new: date) -> str:
    """The deadline cell an approved extension leaves: the new date as the office writes a
    date, marked as extended ("30/06/2028 (gia hạn)"); it reads back as the same due date."""
    return f"{new:%d/%m/%Y} {EXTENDED_MARK}"


def move_due_date(task: Task, new: date, now: datetime) -> dict[str, list[Any]]:
    """Gives the task its extended due date (and a deadline text that says the same); returns
    what changed as [before, after] pairs, for the audit log. A task that had no final
    deadline ("Thường xuyên") gets one: the approved date."""
    before = _deadline_of(task)
    task.due_date, task.deadline_text, task.ongoing = new, extended_text(new), False
    task.updated_at = now
    after = _deadline_of(task)
    # The due date always goes in, even unchanged: the log shows what the approval set.
    return {
        name: [_plain(before[name]), _plain(after[name])]
        for name in before
        if before[name] != after[name] or name == "due_date"
    }


def _deadline_of(task: Task) -> dict[str, Any]:
    return {"due_date": task.due_date, "deadline_text": task.deadline_text, "ongoing": task.ongoing}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value
