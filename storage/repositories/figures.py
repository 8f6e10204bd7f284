"""Loading what the status figures need, in a few set-based queries.

The weekly digest runs on 10,000 tasks and 200,000 reports within its time budget, so nothing
here queries task by task or loads the reports themselves: the tasks come as plain columns (with
the time of their latest report, kept on the task), the lead units and pending extensions in one
query each, and a period's reports as the set of tasks reported on plus the few that raised
difficulties or proposals.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.figures import (
    LIMIT,
    SOON_DAYS,
    Activity,
    Figures,
    GroupRow,
    Period,
    PlanRow,
    Raised,
    Source,
    TaskRow,
    UnitRow,
    compute,
)
from storage.models import Plan, Report, ReportKind, Task, TaskGroup, TaskUnit, Unit
from storage.repositories.tasks import LEAD, pending_extensions


async def load_figures(
    session: AsyncSession,
    today: date,
    *,
    plan_id: int | None = None,
    period: Period | None = None,
    limit: int = LIMIT,
    soon_days: int = SOON_DAYS,
) -> Figures:
    """The figures on `today` (the city's calendar day) of the plan `plan_id` (followed or
    closed), or else of every followed plan; with `period`, also the units that did not report
    in it and the difficulties and proposals raised in it."""
    source = await load_source(session, plan_id=plan_id, period=period)
    return compute(source, today, limit=limit, soon_days=soon_days)


async def load_source(
    session: AsyncSession, *, plan_id: int | None = None, period: Period | None = None
) -> Source:
    """The rows `storage.figures.compute` reads (see `load_figures`)."""
    plans = await _plans(session, plan_id)
    plan_ids = [plan.id for plan in plans]
    scope = Task.active.is_(True) & Task.plan_id.in_(plan_ids)
    leads = await _lead_units(session, scope)
    pending = await pending_extensions(session)
    tasks = _task_rows(await session.execute(_TASKS.where(scope)), leads, pending)
    return Source(
        plans=plans,
        groups=await _groups(session, plan_ids),
        units=await _units(session, scope),
        tasks=tasks,
        activity=await _activity(session, scope, plans, period) if period else None,
    )


async def _plans(session: AsyncSession, plan_id: int | None) -> list[PlanRow]:
    query = select(Plan.id, Plan.name, Plan.short_name, Plan.decision).order_by(Plan.id)
    query = query.where(Plan.id == plan_id if plan_id is not None else Plan.followed.is_(True))
    return [PlanRow(*row) for row in await session.execute(query)]


_TASKS = select(
    Task.id,
    Task.plan_id,
    Task.group_id,
    Task.position,
    Task.code,
    Task.title,
    Task.due_date,
    Task.ongoing,
    Task.status,
    Task.last_report_at,
    Task.lead_unit_id,
    Task.percent,
)


def _task_rows(
    rows: Iterable[Sequence[Any]], leads: dict[int, tuple[int, ...]], pending: Container[int]
) -> list[TaskRow]:
    return [
        TaskRow(
            id=task_id,
            plan_id=plan_id,
            group_id=group_id,
            position=position,
            code=code,
            title=title,
            due_date=due_date,
            ongoing=bool(ongoing),
            status=status,
            last_report_at=last_report_at,
            extension_pending=task_id in pending,
            lead_unit_ids=leads.get(task_id, (lead_unit_id,)),
            percent=int(percent or 0),
        )
        for (
            task_id,
            plan_id,
            group_id,
            position,
            code,
            title,
            due_date,
            ongoing,
            status,
            last_report_at,
            lead_unit_id,
            percent,
        ) in rows
    ]


async def _lead_units(
    session: AsyncSession, scope: ColumnElement[bool]
) -> dict[int, tuple[int, ...]]:
    """Each task's lead units in the appendix's order (a cell may name several)."""
    rows = await session.execute(
        select(TaskUnit.task_id, TaskUnit.unit_id)
        .where(TaskUnit.role == LEAD, TaskUnit.task_id.in_(select(Task.id).where(scope)))
        .order_by(TaskUnit.task_id, TaskUnit.position)
    )
    leads: dict[int, tuple[int, ...]] = {}
    for task_id, unit_id in rows:
        leads[task_id] = (*leads.get(task_id, ()), unit_id)
    return leads


async def _groups(session: AsyncSession, plan_ids: list[int]) -> dict[int, GroupRow]:
    rows = await session.execute(
        select(TaskGroup.id, TaskGroup.number, TaskGroup.roman, TaskGroup.name).where(
            TaskGroup.plan_id.in_(plan_ids)
        )
    )
    return {row.id: GroupRow(*row) for row in rows}


async def _units(session: AsyncSession, scope: ColumnElement[bool]) -> dict[int, UnitRow]:
    """The units leading the tasks in scope."""
    leading = or_(
        Unit.id.in_(select(Task.lead_unit_id).where(scope)),
        Unit.id.in_(
            select(TaskUnit.unit_id).where(
                TaskUnit.role == LEAD, TaskUnit.task_id.in_(select(Task.id).where(scope))
            )
        ),
    )
    rows = await session.execute(select(Unit.id, Unit.name, Unit.short_name).where(leading))
    return {row.id: UnitRow(*row) for row in rows}


async def _activity(
    session: AsyncSession, scope: ColumnElement[bool], plans: list[PlanRow], period: Period
) -> Activity:
    """The tasks reported on in the period, and the difficulties and proposals raised (each
    unit's latest report comes with the tasks: Task.last_report_at, no scan of the reports)."""
    since, until = period.bounds()
    in_period = (Report.created_at >= since) & (Report.created_at < until)
    reports_only = Report.kind == ReportKind.REPORT
    scoped = Report.task_id.in_(select(Task.id).where(scope))
    reported = await session.scalars(
        select(Report.task_id).where(reports_only, in_period, scoped).distinct()
    )
    return Activity(
        period=period,
        reported_task_ids=frozenset(reported.all()),
        raised=await _raised(session, in_period & scoped, plans, period),
    )


async def _raised(
    session: AsyncSession, condition: ColumnElement[bool], plans: list[PlanRow], period: Period
) -> tuple[Raised, ...]:
    """Difficulties and proposals written in the period, oldest first; of several submissions
    by one unit on one task, the latest (a new version repeats what still stands)."""
    shorts = {plan.id: plan.short_name for plan in plans}
    rows = await session.execute(
        select(
            Report.task_id,
            Report.unit_id,
            Report.difficulties,
            Report.proposals,
            Report.created_at,
            Task.plan_id,
            Task.code,
            Task.title,
            Unit.short_name,
        )
        .join(Task, Report.task_id == Task.id)
        .join(Unit, Report.unit_id == Unit.id)
        .where(condition, or_(Report.difficulties != "", Report.proposals != ""))
        .order_by(Report.created_at, Report.id)
    )
    latest: dict[tuple[int, int], Raised] = {}
    for task_id, unit_id, difficulties, proposals, at, plan_id, code, title, unit in rows:
        if not (difficulties.strip() or proposals.strip()):
            continue
        latest.pop((task_id, unit_id), None)  # re-inserted last: keeps the order by time
        latest[(task_id, unit_id)] = Raised(
            shorts[plan_id],
            code,
            title,
            unit,
            period.local_day(at),
            difficulties.strip(),
            proposals.strip(),
        )
    return tuple(latest.values())
