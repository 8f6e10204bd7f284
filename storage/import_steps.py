"""A new plan written in short transactions, out of sight until its last task is in.

SQLite has one writer: a new 5,000-task plan written in one transaction (storage.import_writes)
held every dialog step that writes for the database's own work on some 20,000 rows, a few
hundred milliseconds on a slow machine, and the steps that queued meanwhile took as long again
to drain. Here the plan is written first, marked as being imported (`Plan.importing`: not
followed, not listed, so no dialog, reminder, digest or export sees a half-written plan), then
its tasks a few hundred at a time (with their units and audit entries), each chunk its own
transaction with a pause after it so the writers that waited get their turn; the last
transaction makes the plan followed. An import that fails on the way removes what it wrote
and says so in the audit log; one killed on the way leaves a plan that stays hidden, and a
later import removes it (`drop_abandoned`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.import_writes import (
    AUDIT_LOG,
    GROUPS,
    TASK_UNITS,
    TASKS,
    TaskRow,
    Writes,
    groups_of,
    unit_rows,
    with_ids,
)
from storage.models import Base, Plan
from storage.prepared_rows import Later, execute, prepare_insert
from storage.repositories import plans as plan_store

PLANS = Base.metadata.tables["plans"]
CHUNK = 400  # tasks per transaction: some 15 ms of SQLite's own work on a slow machine
# Seconds between two chunks: a writer of another process waits in SQLite's busy handler,
# which sleeps up to 50 ms at a time once it has waited a while; it must find the file free.
PAUSE = 0.06
# An import still marked as running after this long was killed on the way (a 20,000-row
# appendix takes well under a minute): its plan is removed by the next import.
ABANDONED_AFTER = timedelta(minutes=10)


async def write_new_plan(session: AsyncSession, writes: Writes, plan: Plan, actor: str) -> None:
    """Write the new `plan` (added to `session`, unwritten) and the rows of `writes` in short
    transactions, each committed here; the plan is followed once the last has committed. On
    any failure what was written is removed again and the failure raised."""
    if writes.changed_tasks or writes.moved or writes.gone or writes.late_audits:
        raise ValueError("a new plan has no stored tasks to change")
    plan.followed, plan.importing = False, True
    await session.flush()
    groups = await groups_of(session, writes, plan.id)
    await session.commit()
    plan_id = plan.id  # readable without a query even once a rollback has expired it
    try:
        await _write_tasks(session, writes, plan_id, groups)
        await _reveal(session, writes, plan, actor)
    except BaseException:
        await session.rollback()
        await asyncio.shield(_drop(session, plan_id, writes.now, actor))
        raise


async def _write_tasks(
    session: AsyncSession, writes: Writes, plan_id: int, groups: dict[int, int]
) -> None:
    dialect = session.get_bind().dialect
    audits = {row["entity_id"]: row for row in writes.audits if row["entity"] == "task"}
    ids: dict[str, int] = {}

    def resolve(later: Later) -> int:
        if later.kind == "plan":
            return plan_id
        return groups[later.key] if later.kind == "group" else ids[later.key]

    for chunk in _chunks(writes.new_tasks):
        codes = [row.columns["code"] for row in chunk]
        columns = [with_ids(row) for row in chunk]
        tasks = prepare_insert(dialect, TASKS, columns, later=("plan_id", "group_id"))
        units = prepare_insert(dialect, TASK_UNITS, unit_rows(chunk), later=("task_id",))
        entries = prepare_insert(dialect, AUDIT_LOG, [audits[code] for code in codes])
        await execute(session, tasks, resolve)
        ids = await _new_ids(session, plan_id, codes)
        await execute(session, units, resolve)
        await execute(session, entries, resolve)
        await session.commit()
        await asyncio.sleep(PAUSE)


async def _reveal(session: AsyncSession, writes: Writes, plan: Plan, actor: str) -> None:
    """The plan's own audit entries, and the plan followed: one short transaction."""
    others = [row for row in writes.audits if row["entity"] != "task"]
    if others:
        await session.execute(insert(AUDIT_LOG), others)
    plan.followed, plan.importing = True, False
    plan_store.audit_created(session, plan, writes.now, actor)
    await session.commit()


def _chunks(rows: Sequence[TaskRow]) -> Iterator[Sequence[TaskRow]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


async def _new_ids(session: AsyncSession, plan_id: int, codes: list[str]) -> dict[str, int]:
    """The ids of the tasks just written, read back (an executemany gives none back)."""
    query = select(TASKS.c.code, TASKS.c.id).where(
        TASKS.c.plan_id == plan_id, TASKS.c.code.in_(codes)
    )
    return {code: task_id for code, task_id in (await session.execute(query)).all()}


async def drop_abandoned(session: AsyncSession, now: datetime, actor: str) -> None:
    """Remove the plans an import left half-written when it was killed (the caller commits)."""
    stale = select(Plan.id).where(Plan.importing.is_(True), Plan.created_at < now - ABANDONED_AFTER)
    for plan_id in (await session.scalars(stale)).all():
        await _remove(session, plan_id, now, actor)


async def _drop(session: AsyncSession, plan_id: int, now: datetime, actor: str) -> None:
    await _remove(session, plan_id, now, actor)
    await session.commit()


async def _remove(session: AsyncSession, plan_id: int, now: datetime, actor: str) -> None:
    """Every row of the hidden plan `plan_id`, and an audit entry saying it never came to be.
    Nothing else refers to its tasks: nobody could see them."""
    tasks = select(TASKS.c.id).where(TASKS.c.plan_id == plan_id)
    count = await session.scalar(select(func.count()).select_from(tasks.subquery()))
    name = await session.scalar(select(Plan.name).where(Plan.id == plan_id))
    await session.execute(delete(TASK_UNITS).where(TASK_UNITS.c.task_id.in_(tasks)))
    await session.execute(delete(TASKS).where(TASKS.c.plan_id == plan_id))
    await session.execute(delete(GROUPS).where(GROUPS.c.plan_id == plan_id))
    await session.execute(delete(PLANS).where(PLANS.c.id == plan_id))
    await session.execute(
        insert(AUDIT_LOG).values(
            at=now,
            actor=actor,
            action="plan.import_abandoned",
            entity="plan",
            entity_id=str(plan_id),
            details={"name": name, "tasks_written": int(count or 0)},
        )
    )
