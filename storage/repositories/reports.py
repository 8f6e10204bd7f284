"""Progress reports: each submission a new version, never an overwrite."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import EvidenceFile, Person, Report, Task


async def add(
    session: AsyncSession,
    *,
    task: Task,
    person: Person,
    status: str,
    percent: int,
    results: str,
    difficulties: str,
    proposals: str,
    files: list[EvidenceFile],
    channel: str,
    now: datetime,
) -> Report:
    """Store a report; the task's status, percent and last report time follow it."""
    assert person.unit_id is not None
    previous = await session.scalar(
        select(Report)
        .where(Report.task_id == task.id, Report.unit_id == person.unit_id)
        .order_by(Report.version.desc())
        .limit(1)
    )
    report = Report(
        task_id=task.id,
        unit_id=person.unit_id,
        person_id=person.id,
        status=status,
        percent=percent,
        results=results,
        difficulties=difficulties,
        proposals=proposals,
        version=(previous.version + 1) if previous else 1,
        corrects_id=previous.id if previous else None,
        channel=channel,
        created_at=now,
    )
    session.add(report)
    await session.flush()
    for evidence in files:
        evidence.report_id = report.id
        session.add(evidence)
    task.status, task.percent, task.last_report_at, task.updated_at = status, percent, now, now
    await session.flush()
    return report


async def recent_for_unit(session: AsyncSession, unit_id: int, limit: int = 10) -> list[Report]:
    return list(
        (
            await session.scalars(
                select(Report)
                .where(Report.unit_id == unit_id)
                .order_by(Report.created_at.desc(), Report.id.desc())
                .limit(limit)
            )
        ).all()
    )


async def count_for_task(session: AsyncSession, task_id: int) -> int:
    return int(await session.scalar(select(func.count()).where(Report.task_id == task_id)) or 0)
