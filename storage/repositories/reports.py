"""Reports and contributions on tasks: each submission a new version, never an overwrite.

Versions are numbered per task (a unique constraint), so two officers saving at once must get
versions 2 and 3. The number is computed inside the INSERT itself: on SQLite, whose one writer
holds the database while the statement runs, that is enough. On PostgreSQL two transactions could
compute the same number, so a submission first takes its task's row (SELECT … FOR UPDATE; a
report's UPDATE of the task takes that lock a moment later anyway): a second submission on
the task waits for the first to commit, then counts. Without it, the later one failed on the
constraint and counted again in a savepoint; 200 officers saving on one task at once
(bench/dialog_bench.py) failed 4,558 times, and 189 steps started over: 84 steps/s instead
of 142. The savepoint's retry stays for a writer that does not take the row first. SQLite
gets no savepoint: the Python driver opens no transaction before SAVEPOINT, so its RELEASE
would commit the whole unit of work early.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import EvidenceFile, Person, Report, ReportKind, Task
from storage.repositories import audit

ATTEMPTS = 20  # 200 officers saving on one task at once settle within it


@dataclass(frozen=True)
class Submission:
    """What an officer filed: a lead unit's report (status, percent) or a contribution."""

    kind: ReportKind
    results: str
    difficulties: str
    proposals: str
    status: str = ""
    percent: int = 0


async def add(
    session: AsyncSession,
    *,
    task: Task,
    person: Person,
    submission: Submission,
    files: list[EvidenceFile],
    channel: str,
    now: datetime,
) -> Report:
    """Store a submission as the task's next version.

    A report sets the task's status, percent and last report time; a contribution changes
    nothing on the task (it does not count as the task being reported on).
    """
    assert person.unit_id is not None
    if _dialect(session) != "sqlite":  # see the module's notes: wait for the task, not collide
        await session.execute(select(Task.id).where(Task.id == task.id).with_for_update())
    previous = await session.scalar(
        select(Report.id)
        .where(
            Report.task_id == task.id,
            Report.unit_id == person.unit_id,
            Report.kind == submission.kind,
        )
        .order_by(Report.version.desc())
        .limit(1)
    )
    report = await _insert(session, task, person, submission, previous, channel, now)
    for evidence in files:
        evidence.report_id = report.id
        session.add(evidence)
    before = {"status": task.status, "percent": task.percent}
    if submission.kind == ReportKind.REPORT:
        task.status, task.percent = submission.status, submission.percent
        task.last_report_at = task.updated_at = now
    _audit(session, report, task, person, before, now)
    await session.flush()
    return report


def _audit(
    session: AsyncSession,
    report: Report,
    task: Task,
    person: Person,
    before: dict[str, object],
    now: datetime,
) -> None:
    """Every change of a task is audited; a contribution changes nothing, but is filed too."""
    after = {"status": task.status, "percent": task.percent}
    audit.record(
        session,
        now=now,
        actor=f"person:{person.id} {report.channel}",
        action=f"task.{report.kind}",
        entity="task",
        entity_id=task.id,
        details={
            "plan": task.plan_id,
            "code": task.code,
            "report": report.id,
            "version": report.version,
            "before": before,
            "after": after,
        },
    )


def _next_version(task_id: int) -> object:
    return (
        select(func.coalesce(func.max(Report.version), 0) + 1)
        .where(Report.task_id == task_id)
        .scalar_subquery()
    )


async def _insert(
    session: AsyncSession,
    task: Task,
    person: Person,
    submission: Submission,
    previous: int | None,
    channel: str,
    now: datetime,
) -> Report:
    retries = ATTEMPTS - 1 if _dialect(session) != "sqlite" else 0
    while True:
        report = Report(
            task_id=task.id,
            unit_id=person.unit_id,
            person_id=person.id,
            kind=submission.kind,
            status=submission.status,
            percent=submission.percent,
            results=submission.results,
            difficulties=submission.difficulties,
            proposals=submission.proposals,
            version=_next_version(task.id),
            corrects_id=previous,
            channel=channel,
            created_at=now,
        )
        try:
            async with _savepoint(session):
                session.add(report)
                await session.flush()
        except IntegrityError:
            # Another transaction took this version meanwhile: count again.
            if retries == 0:
                raise
            retries -= 1
            continue
        await session.refresh(report, ["version"])
        return report


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


@contextlib.asynccontextmanager
async def _savepoint(session: AsyncSession) -> AsyncIterator[None]:
    if _dialect(session) == "sqlite":
        yield
        return
    async with session.begin_nested():
        yield


async def history_for_unit(
    session: AsyncSession, unit_id: int, led_task_ids: list[int], limit: int = 10
) -> list[Report]:
    """The unit's latest submissions, and the contributions other units made to its tasks."""
    return list(
        (
            await session.scalars(
                select(Report)
                .where(
                    or_(
                        Report.unit_id == unit_id,
                        and_(
                            Report.kind == ReportKind.CONTRIBUTION,
                            Report.task_id.in_(led_task_ids),
                        ),
                    )
                )
                .order_by(Report.created_at.desc(), Report.id.desc())
                .limit(limit)
            )
        ).all()
    )


async def every_report(
    session: AsyncSession, tasks: ColumnElement[bool] | None = None
) -> list[Report]:
    """Every report and contribution ever filed, oldest first (for the exports); with `tasks`
    (a condition on Task, e.g. the plans exported), only those on such tasks."""
    query = select(Report).order_by(Report.created_at, Report.id)
    if tasks is not None:
        query = query.join(Task, Report.task_id == Task.id).where(tasks)
    return list((await session.scalars(query)).all())


async def count_for_task(session: AsyncSession, task_id: int) -> int:
    return int(await session.scalar(select(func.count()).where(Report.task_id == task_id)) or 0)


async def reported_since(
    session: AsyncSession, task_ids: Collection[int], since: datetime
) -> dict[int, datetime]:
    """Of `task_ids`, those with a report (not a contribution: it does not count as the task
    reported on) filed from `since` on, each with the time of its latest one."""
    if not task_ids:
        return {}
    rows = await session.execute(
        select(Report.task_id, func.max(Report.created_at))
        .where(
            Report.kind == ReportKind.REPORT,
            Report.created_at >= since,
            Report.task_id.in_(list(task_ids)),
        )
        .group_by(Report.task_id)
    )
    return {task_id: at for task_id, at in rows.all()}
