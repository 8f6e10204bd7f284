"""An import's writes: decided in full first (storage.importer), then made in a few bulk
statements.

SQLite has one writer: from an import's first write to its commit, every dialog step that
writes waits. Written row by row through the ORM's flush, a 5,000-task appendix (some 20,000
rows: tasks, their units, audit rows) held that lock for seconds. Here the rows are turned
into the driver's values before the first write (storage.prepared_rows), then sent as one
executemany per table; the only read meanwhile is the new tasks' ids. A new plan's rows are
written in short transactions instead (storage.import_steps).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base, Plan
from storage.prepared_rows import Later, Prepared, execute, prepare_insert, prepare_update

# Plain tables, not the ORM's bulk statements; the big ones prepared (storage.prepared_rows).
TASKS, GROUPS, TASK_UNITS, AUDIT_LOG = (
    Base.metadata.tables[name] for name in ("tasks", "task_groups", "task_units", "audit_log")
)

Units = list[tuple[int, str]]  # (unit id, role), in the cell's order


@dataclass
class TaskRow:
    """A task to insert, or an existing one (`columns` has its id) to update."""

    group: int  # its group's number: the group may be one this import creates
    columns: dict[str, Any]
    units: Units | None = None  # None: an existing task's units stay as they are


@dataclass
class Writes:
    """Every row an import writes, decided before the first is written."""

    now: datetime
    group_ids: dict[int, int] = field(default_factory=dict)  # the plan's groups: number → id
    new_groups: dict[int, dict[str, Any]] = field(default_factory=dict)  # by number
    renamed_groups: dict[int, str] = field(default_factory=dict)  # group id → new name
    new_tasks: list[TaskRow] = field(default_factory=list)
    changed_tasks: list[TaskRow] = field(default_factory=list)
    moved: list[dict[str, Any]] = field(default_factory=list)  # {id, position}, nothing else
    gone: list[int] = field(default_factory=list)  # task ids to mark inactive
    audits: list[dict[str, Any]] = field(default_factory=list)  # AuditLog columns, in order
    # Audited group changes whose new value is a group this import creates: its id is known
    # once it is written, so these entries are written last.
    new_group_changes: list[tuple[list[Any], int]] = field(default_factory=list)
    late_audits: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def no_collection() -> Iterator[None]:
    """Python's cycle collector paused while the write lock may be held: what an import makes
    lives until its commit, so collections would free next to nothing, and with the rows of
    5,000 tasks about, those that run meanwhile held the lock a third longer (measured)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


async def write(session: AsyncSession, writes: Writes, plan: Plan) -> None:
    """Make every write of `writes` into `plan` (new ones are written here first); the
    caller commits."""
    dialect = session.get_bind().dialect
    tasks, units, changed, moved, gone, audits = _prepare(dialect, writes)  # nothing locked yet
    await session.flush()  # the plan when new, and what choosing it changed: the first write
    groups = await groups_of(session, writes, plan.id)
    for change, number in writes.new_group_changes:
        change[1] = groups[number]
    new_ids: dict[str, int] = {}

    def resolve(later: Later) -> int:
        if later.kind == "plan":
            return plan.id
        return groups[later.key] if later.kind == "group" else new_ids[later.key]

    await execute(session, tasks, resolve)
    if writes.new_tasks:
        new_ids.update(await _codes(session, plan.id))
    for prepared in (changed, moved, gone):
        await execute(session, prepared, resolve)
    await _drop_units(session, writes)
    await execute(session, units, resolve)
    await execute(session, audits, resolve)
    if writes.late_audits:
        await session.execute(insert(AUDIT_LOG), writes.late_audits)


def _prepare(dialect: Dialect, writes: Writes) -> tuple[Prepared, ...]:
    """Every bulk statement of `writes`, its rows in the driver's values."""
    new = [with_ids(row) for row in writes.new_tasks]
    changed = [with_ids(row) for row in writes.changed_tasks]
    names = [name for name in changed[0] if name != "id"] if changed else []
    gone = [{"id": task_id, "active": False, "updated_at": writes.now} for task_id in writes.gone]
    return (
        prepare_insert(dialect, TASKS, new, later=("plan_id", "group_id")),
        prepare_insert(dialect, TASK_UNITS, _units_changing(writes), later=("task_id",)),
        prepare_update(dialect, TASKS, names, changed, later=("group_id",)),
        prepare_update(dialect, TASKS, ["position"], writes.moved),
        prepare_update(dialect, TASKS, ["active", "updated_at"], gone),
        prepare_insert(dialect, AUDIT_LOG, writes.audits),
    )


def with_ids(row: TaskRow) -> dict[str, Any]:
    """The task's columns, its plan and group standing for ids still to come when new."""
    columns = dict(row.columns)
    if "id" not in columns:
        columns["plan_id"] = Later("plan")
    if columns.get("group_id") is None:
        columns["group_id"] = Later("group", row.group)
    return columns


def _units_changing(writes: Writes) -> list[dict[str, Any]]:
    """The units of the new tasks and of those whose units change."""
    changed = [(row.columns["id"], row) for row in writes.changed_tasks if row.units is not None]
    return unit_rows(writes.new_tasks) + unit_rows_of(changed)


def unit_rows(new_tasks: Sequence[TaskRow]) -> list[dict[str, Any]]:
    """The units of new tasks, each naming its task's id still to come."""
    return unit_rows_of([(Later("task", row.columns["code"]), row) for row in new_tasks])


def unit_rows_of(tasks: Sequence[tuple[int | Later, TaskRow]]) -> list[dict[str, Any]]:
    return [
        {"task_id": task_id, "unit_id": unit_id, "role": role, "position": position}
        for task_id, row in tasks
        for position, (unit_id, role) in enumerate(row.units or [])
    ]


async def groups_of(session: AsyncSession, writes: Writes, plan_id: int) -> dict[int, int]:
    ids = dict(writes.group_ids)
    if writes.new_groups:
        rows = [{**group, "plan_id": plan_id} for group in writes.new_groups.values()]
        added = await session.execute(insert(GROUPS).returning(GROUPS.c.number, GROUPS.c.id), rows)
        ids.update({number: group_id for number, group_id in added.all()})
    for group_id, name in writes.renamed_groups.items():
        await session.execute(update(GROUPS).where(GROUPS.c.id == group_id).values(name=name))
    return ids


async def _codes(session: AsyncSession, plan_id: int) -> dict[str, int]:
    """The plan's tasks' ids by code, the new ones' included (read in the writing
    transaction: an executemany gives no ids back)."""
    rows = await session.execute(select(TASKS.c.code, TASKS.c.id).where(TASKS.c.plan_id == plan_id))
    return {code: task_id for code, task_id in rows.all()}


async def _drop_units(session: AsyncSession, writes: Writes) -> None:
    """The units of the tasks whose units change: the new rows would meet the (task, unit,
    role) uniqueness."""
    replaced = [row.columns["id"] for row in writes.changed_tasks if row.units is not None]
    if replaced:
        await session.execute(
            delete(TASK_UNITS).where(TASK_UNITS.c.task_id == bindparam("old_task")),
            [{"old_task": task_id} for task_id in replaced],
        )
