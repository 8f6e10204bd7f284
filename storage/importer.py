"""Importing a plan appendix into one plan of the database: all or nothing, updating that
plan's tasks by code (storage.plan_choice says which plan; other plans are never touched).

Every problem of the file is collected (row, column, value, reason) before anything is written;
a file with any problem stores nothing. Units the catalog lacks are listed apart and created
only when asked (`add_units`), in the same transaction. A re-import of the same file writes
nothing at all; a changed file updates tasks by code with one audit row per change, and tasks
that disappeared are marked inactive and reported, never deleted. A file that would leave more
than half of the tracked tasks out is another plan, not a new version: it is refused unless
`replace` is given.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.appendix import COLUMN_NAMES, ParsedPlan, ParsedTask, Problem, parse_plan
from storage.deadlines import DeadlineError, parse_deadline
from storage.import_units import NewUnit, create_units, unknown_units
from storage.models import (
    AuditLog,
    ExtensionRequest,
    ExtensionState,
    Task,
    TaskGroup,
    TaskUnit,
    Unit,
)
from storage.plan_choice import PlanOutcome, choose_plan
from storage.plan_title import read_title
from storage.units import UnitIndex, seed_units

Progress = Callable[[int, int], None]
PROGRESS_EVERY = 500
# Fields compared between the file and the database; a difference is an audited update.
AUDITED = (
    "group_id",
    "number",
    "title",
    "lead_unit_id",
    "deadline_text",
    "due_date",
    "ongoing",
    "expected_output",
    "budget",
    "notes",
    "active",
    "units",
)


class ImportProblems(Exception):
    """The file has rows that cannot be imported, or names units the catalog lacks and
    `add_units` was not given; nothing was stored."""

    def __init__(self, problems: list[Problem], new_units: list[NewUnit] | None = None) -> None:
        super().__init__(f"{len(problems)} problems, {len(new_units or [])} new units")
        self.problems = problems
        self.new_units = new_units or []


class PlanWouldBeReplaced(Exception):
    """The file leaves out more than half of the tracked tasks and `replace` was not given."""

    def __init__(self, missing: list[str], active: int) -> None:
        super().__init__(f"{len(missing)} of {active} active tasks missing")
        self.missing, self.active = missing, active


class AnotherPlanPresent(Exception):
    """The database holds a plan this file would change, and the caller wanted none changed."""

    def __init__(self, tasks: int) -> None:
        super().__init__(f"{tasks} tasks of another plan")
        self.tasks = tasks


@dataclass
class ImportResult:
    groups: int = 0
    tasks: int = 0
    created: list[str] = field(default_factory=list)
    updated: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    unchanged: int = 0
    disappeared: list[str] = field(default_factory=list)
    ongoing: int = 0
    dry_run: bool = False
    sheet: str = ""
    new_units: list[NewUnit] = field(default_factory=list)
    units_added: bool = False
    active_before: int = 0
    tasks_before: int = 0  # active or not
    # A dry run of a file that leaves out more than half of the tracked tasks.
    needs_replace: bool = False
    plan: PlanOutcome = field(default_factory=PlanOutcome)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.disappeared)


@dataclass
class _Row:
    """A task of the file with its units and deadline resolved."""

    task: ParsedTask
    values: dict[str, Any]


async def import_plan(
    sessions: async_sessionmaker[AsyncSession],
    path: Path,
    *,
    sheet: str | None = None,
    dry_run: bool = False,
    add_units: bool = False,
    replace: bool = False,
    keep_other_plan: bool = False,
    plan_name: str | None = None,
    plan_short: str | None = None,
    actor: str = "cli",
    progress: Progress | None = None,
    max_bytes: int = 20 * 1024 * 1024,
    max_rows: int = 20_000,
) -> ImportResult:
    """Import the appendix at `path`; nothing is stored when it raises.

    BadWorkbook: the file is not a readable appendix. ImportProblems: bad rows, or new units
    without `add_units` (a dry run lists new units in its result instead). PlanWouldBeReplaced:
    more than half of the active tasks would be left out and `replace` is not set.
    AnotherPlanPresent: `keep_other_plan` is set and the database holds tasks this file would
    change (the demo's guard). The tasks go to the plan `plan_name` names (created when new),
    or as storage.plan_choice decides without it: PlanNeeded when several plans exist,
    PlanNameTaken when a new plan's name or `plan_short` is another plan's. Everything else
    (codes, groups, the half-plan guard) is looked at within that plan only."""
    plan = await asyncio.to_thread(
        parse_plan, path, sheet=sheet, max_bytes=max_bytes, max_rows=max_rows
    )
    async with sessions() as session:
        try:
            title = read_title(plan.title_rows)
            chosen = await choose_plan(
                session, plan_name, plan_short, title, path, datetime.now(UTC), actor
            )
            await seed_units(session)
            index = await UnitIndex.load(session)
            new_units = _check(plan, index, add_units or dry_run, add_units)
            if new_units:
                await create_units(session, new_units, index, actor, datetime.now(UTC))
            rows = _resolve(plan, index)
            result = await _apply(
                session, plan, rows, actor, progress, replace or dry_run, chosen.plan.id
            )
            result.plan = chosen.outcome()
            result.dry_run, result.sheet = dry_run, plan.sheet
            result.new_units, result.units_added = new_units, add_units and bool(new_units)
            if keep_other_plan and result.tasks_before and result.changed:
                raise AnotherPlanPresent(result.tasks_before)
            if dry_run:
                await session.rollback()
            else:
                await session.commit()
            return result
        except BaseException:
            await session.rollback()
            raise


def _check(plan: ParsedPlan, index: UnitIndex, may_add: bool, add_units: bool) -> list[NewUnit]:
    """Every problem of the file at once; the new units it names when they may be added."""
    unit_problems, new_units = unknown_units(plan.tasks, index)
    problems = plan.problems + unit_problems + _row_problems(plan, index)
    if problems:
        raise ImportProblems(sorted(problems, key=lambda p: p.row), new_units)
    if new_units and not may_add:
        raise ImportProblems([], new_units)
    return new_units


def _row_problems(plan: ParsedPlan, index: UnitIndex) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for task in plan.tasks:
        if task.code in seen:
            problems.append(
                Problem(
                    task.row,
                    COLUMN_NAMES["stt"],
                    task.number,
                    f"trùng mã nhiệm vụ {task.code} (đã có ở dòng {seen[task.code]})",
                )
            )
        seen.setdefault(task.code, task.row)
        if not task.title:
            problems.append(Problem(task.row, COLUMN_NAMES["title"], "", "thiếu nội dung nhiệm vụ"))
        lead = index.match_roles(task.lead)
        if not lead.lead:
            reason = "thiếu cơ quan chủ trì"
            if lead.coop:
                reason += " (ô chỉ nêu cơ quan phối hợp)"
            problems.append(Problem(task.row, COLUMN_NAMES["lead"], task.lead, reason))
        try:
            parse_deadline(task.deadline)
        except DeadlineError as exc:
            problems.append(
                Problem(task.row, COLUMN_NAMES["deadline"], _shown(task.deadline), str(exc))
            )
    return problems


def _resolve(plan: ParsedPlan, index: UnitIndex) -> list[_Row]:
    """The file's tasks with their units and deadlines, once every check has passed."""
    rows: list[_Row] = []
    for task in plan.tasks:
        lead, coop = index.match_roles(task.lead), index.match_roles(task.coop)
        # Units the lead cell marks as helping ("phối hợp với …") cooperate, as do all of the
        # cooperating cell's.
        leads = _unit_ids(lead.lead, task.lead)
        coops = _unit_ids([*lead.coop, *coop.lead, *coop.coop], task.coop)
        deadline = parse_deadline(task.deadline)
        values = _values(task, leads, coops, deadline.due_date, deadline.ongoing, deadline.text)
        rows.append(_Row(task, values))
    return rows


def _unit_ids(items: list[Unit | str], cell: str) -> list[int]:
    unknown = [item for item in items if isinstance(item, str)]
    if unknown:  # every piece was judged by _check: this is a bug, not bad input
        raise RuntimeError(f"unresolved unit pieces {unknown} in {cell!r}")
    return [item.id for item in items if isinstance(item, Unit)]


def _values(
    task: ParsedTask, leads: list[int], coops: list[int], due: date | None, ongoing: bool, text: str
) -> dict[str, Any]:
    units = [(unit_id, "lead") for unit_id in dict.fromkeys(leads)]
    units += [(unit_id, "cooperating") for unit_id in dict.fromkeys(coops) if unit_id not in leads]
    return {
        "number": task.number,
        "title": task.title,
        "lead_unit_id": leads[0],
        "deadline_text": text,
        "due_date": due,
        "ongoing": ongoing,
        "expected_output": task.output,
        "budget": task.budget,
        "notes": task.notes,
        "active": True,
        "units": units,
    }


def _shown(value: Any) -> str:
    return "" if value is None else str(value)


async def _apply(
    session: AsyncSession,
    plan: ParsedPlan,
    rows: list[_Row],
    actor: str,
    progress: Progress | None,
    replace: bool,
    plan_id: int,
) -> ImportResult:
    now = datetime.now(UTC)
    result = ImportResult(groups=len(plan.groups), tasks=len(rows))
    in_plan = select(Task).where(Task.plan_id == plan_id)
    existing = {t.code: t for t in (await session.scalars(in_plan)).all()}
    in_file = {row.task.code for row in rows}
    active = [code for code, task in existing.items() if task.active]
    missing = [code for code in active if code not in in_file]
    result.active_before, result.tasks_before = len(active), len(existing)
    if len(missing) * 2 > len(active):
        if not replace:
            raise PlanWouldBeReplaced(missing, len(active))
        result.needs_replace = True
    groups = await _upsert_groups(session, plan, actor, now, plan_id)
    extended = await _extended(session, plan_id)
    for done, row in enumerate(rows, start=1):
        row.values["group_id"] = groups[row.task.group_number].id
        task = existing.get(row.task.code)
        if task is None:
            _create(session, row, now, actor, plan_id)
            result.created.append(row.task.code)
        else:
            _keep_extension(task, row, extended.get(task.id))
            changes = _update(task, row, now)
            if "units" in changes:
                await _replace_units(session, task, row.values["units"])
            if changes:
                result.updated[task.code] = changes
                session.add(_audit(now, actor, "task.updated", task.code, changes))
            else:
                result.unchanged += 1
        if progress and (done % PROGRESS_EVERY == 0 or done == len(rows)):
            progress(done, len(rows))
    for code, task in existing.items():
        if task.active and code not in in_file:
            task.active, task.updated_at = False, now
            result.disappeared.append(code)
            session.add(_audit(now, actor, "task.missing_from_import", code, {}))
    result.ongoing = sum(1 for row in rows if row.values["ongoing"])
    await session.flush()
    return result


async def _upsert_groups(
    session: AsyncSession, plan: ParsedPlan, actor: str, now: datetime, plan_id: int
) -> dict[int, TaskGroup]:
    in_plan = select(TaskGroup).where(TaskGroup.plan_id == plan_id)
    groups = {g.number: g for g in (await session.scalars(in_plan)).all()}
    for parsed in plan.groups:
        group = groups.get(parsed.number)
        if group is None:
            group = TaskGroup(
                plan_id=plan_id, number=parsed.number, roman=parsed.roman, name=parsed.name
            )
            session.add(group)
            groups[parsed.number] = group
            session.add(_audit(now, actor, "group.created", parsed.roman, {"name": parsed.name}))
        elif group.name != parsed.name and parsed.name:
            session.add(
                _audit(
                    now, actor, "group.updated", parsed.roman, {"name": [group.name, parsed.name]}
                )
            )
            group.name = parsed.name
    await session.flush()
    return groups


def _create(session: AsyncSession, row: _Row, now: datetime, actor: str, plan_id: int) -> None:
    values = dict(row.values)
    units = values.pop("units")
    task = Task(
        plan_id=plan_id,
        code=row.task.code,
        position=row.task.position,
        created_at=now,
        updated_at=now,
        **values,
    )
    task.units = [TaskUnit(unit_id=u, role=r, position=i) for i, (u, r) in enumerate(units)]
    session.add(task)
    session.add(_audit(now, actor, "task.created", row.task.code, {"title": row.task.title}))


async def _extended(session: AsyncSession, plan_id: int) -> dict[int, date]:
    """The tasks whose due date is an approved extension's: {task id: that date}."""
    rows = await session.execute(
        select(Task.id, ExtensionRequest.proposed_date)
        .join(ExtensionRequest, ExtensionRequest.task_id == Task.id)
        .where(
            Task.plan_id == plan_id,
            ExtensionRequest.state == ExtensionState.APPROVED,
            ExtensionRequest.proposed_date == Task.due_date,
        )
    )
    return {task_id: proposed for task_id, proposed in rows.all()}


def _keep_extension(task: Task, row: _Row, extended_to: date | None) -> None:
    """An approved extension stands against an appendix that still shows an earlier (or no)
    deadline: re-importing the same file must not move the due date back. A file whose
    deadline is as late or later decides again."""
    if extended_to is None:
        return
    in_file = row.values["due_date"]
    if in_file is None or in_file < extended_to:
        for name in ("deadline_text", "due_date", "ongoing"):
            row.values[name] = getattr(task, name)


def _update(task: Task, row: _Row, now: datetime) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    current_units = [(tu.unit_id, tu.role) for tu in task.units]
    for name in AUDITED:
        old = current_units if name == "units" else getattr(task, name)
        new = row.values[name]
        if old != new:
            changes[name] = [_plain(old), _plain(new)]
    task.position = row.task.position
    if not changes:
        return changes
    for name, value in row.values.items():
        if name != "units":
            setattr(task, name, value)
    task.updated_at = now
    return changes


async def _replace_units(session: AsyncSession, task: Task, units: list[tuple[int, str]]) -> None:
    # The old rows are deleted first: a flush would otherwise insert before deleting and
    # trip the (task, unit, role) uniqueness.
    task.units.clear()
    await session.flush()
    task.units = [TaskUnit(unit_id=u, role=r, position=i) for i, (u, r) in enumerate(units)]


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [list(item) if isinstance(item, tuple) else item for item in value]
    return value


def _audit(now: datetime, actor: str, action: str, code: str, details: dict[str, Any]) -> AuditLog:
    return AuditLog(
        at=now,
        actor=actor,
        action=action,
        entity="task" if action.startswith("task") else "group",
        entity_id=code,
        details=details,
    )
