"""The status figures of the followed plans on a day, as the standing agency quotes them.

Per plan and in total: how many active tasks, how many completed (on time, late, without a
deadline), in progress within the deadline, overdue, never reported (and how many of those are
past due), blocked, paused, waiting for an extension; the same counts by group; the most overdue
tasks; the tasks falling due soon; and, for a period, the units that did not report on tasks they
lead and the difficulties and proposals raised. /tinhhinh and the weekly digest both read these.

Pure: the rows come from storage.repositories.figures, "today" is passed in, and every task's
status is storage.status's `effective_status`, the one rule every view shares.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage.models import TaskStatus
from storage.status import DONE, effective_status, is_overdue

LIMIT = 10  # tasks listed as most overdue, and as falling due soon
SOON_DAYS = 7  # "sắp đến hạn": due within this many days from today


@dataclass(frozen=True)
class Period:
    """The days from `start` to `end`, both included, in the city's time zone `tz`."""

    start: date
    end: date
    tz: ZoneInfo

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as UTC instants [from, until): stored times are UTC."""
        first = datetime.combine(self.start, time(), self.tz)
        after = datetime.combine(self.end + timedelta(days=1), time(), self.tz)
        return first.astimezone(UTC), after.astimezone(UTC)

    def local_day(self, moment: datetime) -> date:
        """The city's calendar day of a stored time."""
        return _utc(moment).astimezone(self.tz).date()


def _utc(moment: datetime) -> datetime:
    """A stored time made aware (zoneless means UTC, as SQLite gives it back)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# What the repository loads: plain rows, no ORM objects.


@dataclass(frozen=True)
class PlanRow:
    id: int
    name: str
    short_name: str
    decision: str


@dataclass(frozen=True)
class GroupRow:
    id: int
    number: int
    roman: str
    name: str


@dataclass(frozen=True)
class UnitRow:
    id: int
    name: str
    short_name: str


@dataclass(frozen=True)
class TaskRow:
    """An active task as the figures need it; `lead_unit_ids` in the appendix's order."""

    id: int
    plan_id: int
    group_id: int
    position: int
    code: str
    title: str
    due_date: date | None
    ongoing: bool
    status: str
    last_report_at: datetime | None  # the lead unit's latest report, None: never reported
    extension_pending: bool
    lead_unit_ids: tuple[int, ...]
    percent: int = 0  # as the lead unit last reported it (the digest's task sheet shows it)

    @property
    def reported(self) -> bool:
        """storage.status's `reported`: the lead unit has filed a report."""
        return self.last_report_at is not None


@dataclass(frozen=True)
class Raised:
    """Difficulties and proposals one unit wrote on one task in the period (its latest)."""

    plan_short: str
    code: str
    title: str
    unit: str  # the unit's short name
    day: date  # when, in the city's calendar
    difficulties: str
    proposals: str


@dataclass(frozen=True)
class Activity:
    """What happened in a period on the tasks counted: those a report was filed on, and the
    difficulties and proposals raised."""

    period: Period
    reported_task_ids: frozenset[int]
    raised: tuple[Raised, ...] = ()


@dataclass(frozen=True)
class Source:
    plans: Sequence[PlanRow]
    groups: Mapping[int, GroupRow]
    units: Mapping[int, UnitRow]
    tasks: Sequence[TaskRow]
    activity: Activity | None = None


# What the figures say.


@dataclass(frozen=True)
class Counts:
    """Active tasks by effective status; `late` counts every unfinished task past its due date,
    whatever was reported, and `not_reported_late` those of them nobody reported on."""

    tasks: int = 0
    by_status: Mapping[TaskStatus, int] = field(default_factory=dict)
    late: int = 0
    not_reported_late: int = 0

    def of(self, *statuses: TaskStatus) -> int:
        return sum(self.by_status.get(status, 0) for status in statuses)

    def share(self, count: int) -> float:
        """`count` as a percentage of the tasks (0 when there are none)."""
        return 100 * count / self.tasks if self.tasks else 0.0

    @property
    def done(self) -> int:
        return self.of(*DONE)

    @property
    def in_progress(self) -> int:
        return self.of(TaskStatus.IN_PROGRESS)

    @property
    def overdue(self) -> int:
        return self.of(TaskStatus.OVERDUE)

    @property
    def not_reported(self) -> int:
        return self.of(TaskStatus.NOT_REPORTED)


@dataclass(frozen=True)
class GroupFigures:
    roman: str
    number: int
    name: str
    counts: Counts


@dataclass(frozen=True)
class OverdueTask:
    """An unfinished task past its due date; `status` tells, e.g., that nobody reported."""

    plan_short: str
    code: str
    title: str
    lead_units: tuple[str, ...]  # short names
    due_date: date
    days_overdue: int
    status: TaskStatus


@dataclass(frozen=True)
class DueSoonTask:
    plan_short: str
    code: str
    title: str
    lead_units: tuple[str, ...]
    due_date: date
    days_left: int  # 0: due today
    status: TaskStatus


@dataclass(frozen=True)
class PlanFigures:
    id: int
    name: str
    short_name: str
    decision: str
    counts: Counts
    groups: tuple[GroupFigures, ...]
    most_overdue: tuple[OverdueTask, ...]
    due_soon: tuple[DueSoonTask, ...]
    due_soon_total: int


@dataclass(frozen=True)
class SilentUnit:
    """A unit leading unfinished tasks with no report in the period on `missing` of the
    `owed` ones; `last_report` is the day of the latest report on any task it leads (None:
    never), which may fall after a period in the past."""

    unit_id: int
    name: str
    short_name: str
    owed: int
    missing: int
    last_report: date | None


@dataclass(frozen=True)
class Figures:
    today: date
    plans: tuple[PlanFigures, ...]
    total: Counts
    most_overdue: tuple[OverdueTask, ...]  # across plans
    due_soon: tuple[DueSoonTask, ...]
    due_soon_total: int
    soon_days: int
    period: Period | None = None
    silent_units: tuple[SilentUnit, ...] = ()
    raised: tuple[Raised, ...] = ()

    @property
    def several(self) -> bool:
        """More than one plan: sections per plan, and task codes named with their plan."""
        return len(self.plans) > 1


@dataclass(frozen=True)
class Rated:
    """A task with its effective status on the day; `late`: unfinished and past its due date."""

    row: TaskRow
    status: TaskStatus
    late: bool

    def days_overdue(self, today: date) -> int:
        """Calendar days past the due date (0 unless late), as the figures count them."""
        return (today - self.row.due_date).days if self.late and self.row.due_date else 0


def compute(
    source: Source, today: date, *, limit: int = LIMIT, soon_days: int = SOON_DAYS
) -> Figures:
    """The figures of `source` on `today`: per plan (in the order given), in total, and for the
    period of `source.activity` when there is one."""
    rated = [rate(row, today) for row in source.tasks]
    by_plan: dict[int, list[Rated]] = defaultdict(list)
    for item in rated:
        by_plan[item.row.plan_id].append(item)
    shorts = {plan.id: plan.short_name for plan in source.plans}
    plans = tuple(
        _plan(plan, by_plan[plan.id], source, shorts, today, limit, soon_days)
        for plan in source.plans
    )
    soon = _due_soon(rated, source.units, shorts, today, soon_days)
    activity = source.activity
    return Figures(
        today=today,
        plans=plans,
        total=_counts(rated),
        most_overdue=_most_overdue(rated, source.units, shorts, today, limit),
        due_soon=tuple(soon[:limit]),
        due_soon_total=len(soon),
        soon_days=soon_days,
        period=activity.period if activity else None,
        silent_units=_silent_units(rated, source.units, activity) if activity else (),
        raised=activity.raised if activity else (),
    )


def rate(row: TaskRow, today: date) -> Rated:
    """`row` with its effective status on `today` (storage.status's one rule)."""
    status = effective_status(
        row.status,
        row.due_date,
        row.ongoing,
        today,
        reported=row.reported,
        extension_pending=row.extension_pending,
    )
    late = status not in DONE and is_overdue(row.due_date, row.ongoing, today)
    return Rated(row, status, late)


def _counts(items: Iterable[Rated]) -> Counts:
    statuses: Counter[TaskStatus] = Counter()
    late = not_reported_late = 0
    for item in items:
        statuses[item.status] += 1
        late += item.late
        not_reported_late += item.late and item.status == TaskStatus.NOT_REPORTED
    return Counts(sum(statuses.values()), dict(statuses), late, not_reported_late)


def _plan(
    plan: PlanRow,
    items: list[Rated],
    source: Source,
    shorts: Mapping[int, str],
    today: date,
    limit: int,
    soon_days: int,
) -> PlanFigures:
    soon = _due_soon(items, source.units, shorts, today, soon_days)
    return PlanFigures(
        id=plan.id,
        name=plan.name,
        short_name=plan.short_name,
        decision=plan.decision,
        counts=_counts(items),
        groups=_groups(items, source.groups),
        most_overdue=_most_overdue(items, source.units, shorts, today, limit),
        due_soon=tuple(soon[:limit]),
        due_soon_total=len(soon),
    )


def _groups(items: list[Rated], groups: Mapping[int, GroupRow]) -> tuple[GroupFigures, ...]:
    members: dict[int, list[Rated]] = defaultdict(list)
    for item in items:
        members[item.row.group_id].append(item)
    ordered = sorted(members, key=lambda group_id: groups[group_id].number)
    return tuple(
        GroupFigures(groups[gid].roman, groups[gid].number, groups[gid].name, _counts(members[gid]))
        for gid in ordered
    )


def _leads(row: TaskRow, units: Mapping[int, UnitRow]) -> tuple[str, ...]:
    return tuple(units[uid].short_name for uid in row.lead_unit_ids if uid in units)


def _most_overdue(
    items: Iterable[Rated],
    units: Mapping[int, UnitRow],
    shorts: Mapping[int, str],
    today: date,
    limit: int,
) -> tuple[OverdueTask, ...]:
    """The late tasks, longest overdue first (then plan and appendix order), at most `limit`."""
    late = sorted(
        (item for item in items if item.late),
        key=lambda item: (item.row.due_date or today, item.row.plan_id, item.row.position),
    )
    return tuple(
        OverdueTask(
            shorts[item.row.plan_id],
            item.row.code,
            item.row.title,
            _leads(item.row, units),
            item.row.due_date,
            (today - item.row.due_date).days,
            item.status,
        )
        for item in late[:limit]
        if item.row.due_date is not None
    )


def _due_soon(
    items: Iterable[Rated],
    units: Mapping[int, UnitRow],
    shorts: Mapping[int, str],
    today: date,
    soon_days: int,
) -> list[DueSoonTask]:
    """Unfinished tasks due from today to `soon_days` days ahead, soonest first."""
    found = [
        DueSoonTask(
            shorts[item.row.plan_id],
            item.row.code,
            item.row.title,
            _leads(item.row, units),
            item.row.due_date,
            (item.row.due_date - today).days,
            item.status,
        )
        for item in items
        if item.status not in DONE
        and not item.row.ongoing
        and item.row.due_date is not None
        and 0 <= (item.row.due_date - today).days <= soon_days
    ]
    return sorted(found, key=lambda task: (task.due_date, task.plan_short, task.code))


def _silent_units(
    items: Iterable[Rated], units: Mapping[int, UnitRow], activity: Activity
) -> tuple[SilentUnit, ...]:
    """Units leading unfinished tasks that got no report in the period, most missing first.

    A report by any unit on the task counts (a task with two lead units needs one report)."""
    owed: Counter[int] = Counter()
    missing: Counter[int] = Counter()
    latest: dict[int, datetime] = {}
    for item in items:
        at = item.row.last_report_at
        for unit_id in item.row.lead_unit_ids:
            if at is not None and (unit_id not in latest or _utc(at) > latest[unit_id]):
                latest[unit_id] = _utc(at)
            if item.status not in DONE:
                owed[unit_id] += 1
                missing[unit_id] += item.row.id not in activity.reported_task_ids
    silent = [
        SilentUnit(
            unit_id,
            units[unit_id].name,
            units[unit_id].short_name,
            owed[unit_id],
            missing[unit_id],
            activity.period.local_day(latest[unit_id]) if unit_id in latest else None,
        )
        for unit_id in missing
        if missing[unit_id] and unit_id in units
    ]
    return tuple(sorted(silent, key=lambda unit: (-unit.missing, unit.name)))
