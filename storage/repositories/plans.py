"""The plans a database follows side by side: finding one by name, creating, renaming, closing.

A plan is named by its full name or its short name, compared folded ("KH2023" = "KH 2023" =
"kh 2023"). Every change writes an audit row; a closed plan keeps its tasks and reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditLog, Plan, Task, TaskStatus
from storage.plan_title import key

DONE = (TaskStatus.DONE_ON_TIME, TaskStatus.DONE_LATE, TaskStatus.DONE)


@dataclass(frozen=True)
class PlanInfo:
    """A plan's names and decision as plain values: what an error carries out of a session
    that was rolled back (its ORM objects then no longer readable)."""

    name: str
    short_name: str
    decision: str

    @classmethod
    def of(cls, plan: Plan) -> PlanInfo:
        return cls(plan.name, plan.short_name, plan.decision)


class PlanNameTaken(Exception):
    """Another plan already has this name or short name (compared folded)."""

    def __init__(self, name: str, other: Plan) -> None:
        super().__init__(f"{name!r} is taken by plan {other.id}")
        self.name, self.other = name, PlanInfo.of(other)


async def every(session: AsyncSession, importing: bool = False) -> list[Plan]:
    """Every plan, followed or closed, in the order they were created; those an import is
    still writing (storage.import_steps) only with `importing`, where a name is checked."""
    query = select(Plan).order_by(Plan.id)
    if not importing:
        query = query.where(Plan.importing.is_(False))
    return list((await session.scalars(query)).all())


def match(plans: list[Plan], wanted: str) -> Plan | None:
    """The plan `wanted` names: its short name first, then its full name, folded."""
    wanted_key = key(wanted)
    if not wanted_key:
        return None
    for attribute in ("short_name", "name"):
        for plan in plans:
            if key(getattr(plan, attribute)) == wanted_key:
                return plan
    return None


async def find(session: AsyncSession, wanted: str) -> Plan | None:
    return match(await every(session), wanted)


def check_free(plans: list[Plan], name: str, short: str, itself: Plan | None = None) -> None:
    """PlanNameTaken when another plan already uses `name` or `short`, as a name or a short
    name (a short name that is another plan's name would make "/baocao NAME I.3" ambiguous)."""
    for text in (name, short):
        for other in plans:
            if other is not itself and key(text) in (key(other.name), key(other.short_name)):
                raise PlanNameTaken(text, other)


def create(
    session: AsyncSession, *, name: str, short: str, decision: str, period: str, now: datetime
) -> Plan:
    """A new plan, added to `session`: written, and given its id, at the next flush (an
    import decides everything before its first write; see storage.import_writes). Audited
    with audit_created once written."""
    plan = Plan(
        name=name,
        short_name=short,
        decision=decision,
        period=period,
        followed=True,
        importing=False,
        created_at=now,
    )
    session.add(plan)
    return plan


def audit_created(session: AsyncSession, plan: Plan, now: datetime, actor: str) -> None:
    """The audit entry of a plan `create` made, once written (it names the plan's id)."""
    details = {"name": plan.name, "short_name": plan.short_name, "decision": plan.decision}
    session.add(_audit(now, actor, "plan.created", plan, details))


def set_decision(
    session: AsyncSession, plan: Plan, decision: str, now: datetime, actor: str
) -> None:
    session.add(_audit(now, actor, "plan.updated", plan, {"decision": [plan.decision, decision]}))
    plan.decision = decision


def rename(
    session: AsyncSession, plan: Plan, name: str, short: str, now: datetime, actor: str
) -> dict[str, list[str]]:
    """Rename the plan; the changes made, as [old, new] by field."""
    changes = {
        field: [old, new]
        for field, old, new in (("name", plan.name, name), ("short_name", plan.short_name, short))
        if old != new
    }
    if changes:
        plan.name, plan.short_name = name, short
        session.add(_audit(now, actor, "plan.renamed", plan, changes))
    return changes


def set_followed(
    session: AsyncSession, plan: Plan, followed: bool, now: datetime, actor: str
) -> bool:
    """Close (`followed` False) or reopen the plan; False when it already was so."""
    if plan.followed == followed:
        return False
    plan.followed = followed
    plan.closed_at = None if followed else now
    action = "plan.opened" if followed else "plan.closed"
    session.add(_audit(now, actor, action, plan, {"name": plan.name}))
    return True


@dataclass(frozen=True)
class Progress:
    """A plan's active tasks and how many of them are completed."""

    tasks: int
    done: int

    @property
    def share(self) -> float:
        return 100 * self.done / self.tasks if self.tasks else 0.0


async def progress(session: AsyncSession) -> dict[int, Progress]:
    """Active tasks and completed ones, by plan id (plans without tasks are absent)."""
    done = func.sum(case((Task.status.in_([s.value for s in DONE]), 1), else_=0))
    rows = await session.execute(
        select(Task.plan_id, func.count(), done).where(Task.active.is_(True)).group_by(Task.plan_id)
    )
    return {plan_id: Progress(int(count), int(finished or 0)) for plan_id, count, finished in rows}


def _audit(now: datetime, actor: str, action: str, plan: Plan, details: dict[str, Any]) -> AuditLog:
    return AuditLog(
        at=now, actor=actor, action=action, entity="plan", entity_id=str(plan.id), details=details
    )


async def followed_count(session: AsyncSession) -> int:
    followed = select(func.count()).select_from(Plan).where(Plan.followed.is_(True))
    return int(await session.scalar(followed) or 0)
