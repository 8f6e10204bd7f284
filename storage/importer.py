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

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.appendix import COLUMN_NAMES, ParsedPlan, ParsedTask, Problem, parse_plan
from storage.deadlines import DeadlineError, parse_deadline
from storage.import_state import TASK_FIELDS, PlanState, StoredTask, read_plan
from storage.import_steps import write_new_plan
from storage.import_units import NewUnit, create_units, unknown_units
from storage.import_writes import TaskRow, Writes, no_collection, write
from storage.models import Unit
from storage.plan_choice import Chosen, PlanOutcome, choose_plan
from storage.plan_title import read_title
from storage.units import UnitIndex, seed_units

Progress = Callable[[int, int], None]
PROGRESS_EVERY = 500
# Fields compared between the file and the database, in the order a change is worded; a
# difference is an audited update.
AUDITED = (*TASK_FIELDS, "units")


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
    PlanNameTaken when a new plan's name or `plan_short` is another plan's (these come before
    the file's own problems). Everything else (codes, groups, the half-plan guard) is looked
    at within that plan only.

    Everything is read and decided before the tasks are written, in a few bulk statements
    (storage.import_writes): on SQLite the first write takes the one write lock every dialog
    waits for. Only new units (`add_units`) are written earlier; a dry run writes nothing
    more than those, and rolls them back. A new plan's tasks are written a few hundred at a
    time, the plan hidden until the last are in (storage.import_steps); a failure on the way
    takes them back, so the import stays all or nothing as anyone sees it."""
    plan = await asyncio.to_thread(
        parse_plan, path, sheet=sheet, max_bytes=max_bytes, max_rows=max_rows
    )
    async with sessions() as session:
        try:
            rows, new_units, refused = await _units(session, plan, add_units, dry_run, actor)
            # A new plan is written as it is chosen: SQLite's write lock may be held from here.
            with no_collection():
                chosen = await choose_plan(
                    session,
                    plan_name,
                    plan_short,
                    read_title(plan.title_rows),
                    path,
                    datetime.now(UTC),
                    actor,
                )
                if refused:  # after the plan's own refusals, which have always come first
                    raise refused
                result, writes = await _apply(
                    session, plan, rows, actor, progress, replace or dry_run, chosen
                )
                result.plan = chosen.outcome()
                result.dry_run, result.sheet = dry_run, plan.sheet
                result.new_units, result.units_added = new_units, add_units and bool(new_units)
                if keep_other_plan and result.tasks_before and result.changed:
                    raise AnotherPlanPresent(result.tasks_before)
                if dry_run:
                    await session.rollback()
                elif chosen.created:  # hidden until its last task is in, written in steps
                    await write_new_plan(session, writes, chosen.plan, actor)
                else:
                    await write(session, writes, chosen.plan)
                    await session.commit()
            return result
        except BaseException:
            await session.rollback()
            raise


async def _units(
    session: AsyncSession, plan: ParsedPlan, add_units: bool, dry_run: bool, actor: str
) -> tuple[list[_Row], list[NewUnit], ImportProblems | None]:
    """The file's rows with their units (new units created when they may be), or why not.

    Units are every plan's, so this comes before the plan is chosen: choosing a new plan
    writes it at once, and the checking would then hold SQLite's write lock."""
    await seed_units(session)
    index = await UnitIndex.load(session)
    try:
        new_units = _check(plan, index, add_units or dry_run, add_units)
    except ImportProblems as exc:
        return [], [], exc
    if new_units:
        await create_units(session, new_units, index, actor, datetime.now(UTC))
    return _resolve(plan, index), new_units, None


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
    chosen: Chosen,
) -> tuple[ImportResult, Writes]:
    """What the file changes in the chosen plan, and the writes that make it so."""
    # A plan created just now holds nothing; and what choosing the plan changed in it stays
    # unwritten while the plan is read.
    with session.no_autoflush:
        state = PlanState() if chosen.created else await read_plan(session, chosen.plan.id)
    now = datetime.now(UTC)
    result = ImportResult(groups=len(plan.groups), tasks=len(rows))
    in_file = {row.task.code for row in rows}
    active = [code for code, task in state.tasks.items() if task.active]
    missing = [code for code in active if code not in in_file]
    result.active_before, result.tasks_before = len(active), len(state.tasks)
    if len(missing) * 2 > len(active):
        if not replace:
            raise PlanWouldBeReplaced(missing, len(active))
        result.needs_replace = True
    writes = Writes(now, group_ids={number: group.id for number, group in state.groups.items()})
    _groups(plan, state, writes, actor)
    for done, row in enumerate(rows, start=1):
        row.values["group_id"] = writes.group_ids.get(row.task.group_number)
        stored = state.tasks.get(row.task.code)
        if stored is None:
            _create(writes, row, actor)
            result.created.append(row.task.code)
        else:
            _keep_extension(stored, row, state.extended.get(stored.id))
            changes = _update(writes, stored, row)
            if changes:
                result.updated[row.task.code] = changes
                audit = _audit(now, actor, "task.updated", row.task.code, changes)
                # Moved into a group this import creates: the entry names its id, known later.
                late = row.values["group_id"] is None
                (writes.late_audits if late else writes.audits).append(audit)
            else:
                result.unchanged += 1
        if progress and (done % PROGRESS_EVERY == 0 or done == len(rows)):
            progress(done, len(rows))
    for code, stored in state.tasks.items():
        if stored.active and code not in in_file:
            writes.gone.append(stored.id)
            result.disappeared.append(code)
            writes.audits.append(_audit(now, actor, "task.missing_from_import", code, {}))
    result.ongoing = sum(1 for row in rows if row.values["ongoing"])
    return result, writes


def _groups(plan: ParsedPlan, state: PlanState, writes: Writes, actor: str) -> None:
    """The file's groups: new ones to create, renamed ones (a group is never removed)."""
    names = {number: group.name for number, group in state.groups.items()}
    for parsed in plan.groups:
        name = names.get(parsed.number)
        if name is None:
            writes.new_groups[parsed.number] = {
                "number": parsed.number,
                "roman": parsed.roman,
                "name": parsed.name,
            }
            details: dict[str, Any] = {"name": parsed.name}
            writes.audits.append(_audit(writes.now, actor, "group.created", parsed.roman, details))
        elif name != parsed.name and parsed.name:
            details = {"name": [name, parsed.name]}
            writes.audits.append(_audit(writes.now, actor, "group.updated", parsed.roman, details))
            if parsed.number in writes.new_groups:  # the file names a new group twice
                writes.new_groups[parsed.number]["name"] = parsed.name
            else:
                writes.renamed_groups[state.groups[parsed.number].id] = parsed.name
        else:
            continue
        names[parsed.number] = parsed.name


def _create(writes: Writes, row: _Row, actor: str) -> None:
    """A new task of the plan (its plan's id is filled in as it is written)."""
    columns = {name: value for name, value in row.values.items() if name != "units"}
    columns.update(
        code=row.task.code,
        position=row.task.position,
        created_at=writes.now,
        updated_at=writes.now,
    )
    writes.new_tasks.append(TaskRow(row.task.group_number, columns, row.values["units"]))
    details = {"title": row.task.title}
    writes.audits.append(_audit(writes.now, actor, "task.created", row.task.code, details))


def _keep_extension(stored: StoredTask, row: _Row, extended_to: date | None) -> None:
    """An approved extension stands against an appendix that still shows an earlier (or no)
    deadline: re-importing the same file must not move the due date back. A file whose
    deadline is as late or later decides again."""
    if extended_to is None:
        return
    in_file = row.values["due_date"]
    if in_file is None or in_file < extended_to:
        for name in ("deadline_text", "due_date", "ongoing"):
            row.values[name] = stored.values[name]


def _update(writes: Writes, stored: StoredTask, row: _Row) -> dict[str, list[Any]]:
    """The audited changes of a stored task, and its update (or only its new position)."""
    changes: dict[str, list[Any]] = {}
    for name in AUDITED:
        old, new = stored.values[name], row.values[name]
        if old != new:
            changes[name] = [_plain(old), _plain(new)]
    if row.values["group_id"] is None:  # a group this import creates: its id comes later
        writes.new_group_changes.append((changes["group_id"], row.task.group_number))
    if not changes:
        if stored.position != row.task.position:
            writes.moved.append({"id": stored.id, "position": row.task.position})
        return changes
    columns = {name: value for name, value in row.values.items() if name != "units"}
    columns.update(id=stored.id, position=row.task.position, updated_at=writes.now)
    units = row.values["units"] if "units" in changes else None
    writes.changed_tasks.append(TaskRow(row.task.group_number, columns, units))
    return changes


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [list(item) if isinstance(item, tuple) else item for item in value]
    return value


def _audit(
    now: datetime, actor: str, action: str, code: str, details: dict[str, Any]
) -> dict[str, Any]:
    """An AuditLog row's columns."""
    return {
        "at": now,
        "actor": actor,
        "action": action,
        "entity": "task" if action.startswith("task") else "group",
        "entity_id": code,
        "details": details,
    }
