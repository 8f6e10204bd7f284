"""The reminder scan: what the rules (scheduler.reminder_rules) say should be sent at `now`,
decided from the database and written to the outbox, never twice.

`scan` reads the followed plans' unfinished tasks, the registered people and the committee
groups in a fixed handful of queries, and returns `Decision`s: one per chat, each with an
outbox key that names what it is, so a second scan (or a scan on another instance) decides the
same keys and `enqueue` writes nothing more:

- ``remind:<task>:<rule>:<YYYY-MM-DD>:<person>:<channel>:<chat>`` a rung of a task's ladder
  (before / due / overdue) to one of the lead unit's officers or its head;
- ``escalate:<YYYY-MM-DD>:<channel>:<chat>`` the tasks reaching the set number of working days
  overdue that day, to a committee group;
- ``call:<YYYY-MM>:<person>:<channel>:<chat>`` the month's call for reports, to an officer;
- ``missing:<YYYY-MM>:<channel>:<chat>`` the units that have not reported by the due day, to a
  committee group.

Nothing is decided on a day off. The recipients of a unit are the people of that unit (or, for
a collective unit such as "UBND các quận, huyện", of the kinds it stands for) with the rung's
role, not revoked, with a reachable chat. Payloads are those of handlers.notices (kind
"reminder"); a reminder on one task carries "Báo cáo ngay" (option `rpt:<task id>`), which
opens /baocao at that task.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.i18n import day, t
from handlers.options import REPORT_NOW
from handlers.wording import short
from scheduler.calendar import WorkingCalendar
from scheduler.reminder_rules import (
    CALL,
    ESCALATE,
    MISSING,
    OFFICERS,
    ReminderRules,
    Rung,
)
from storage.models import Person, Role, Task, Unit, UnitKind
from storage.repositories import bound_chats, outbox
from storage.repositories import people as people_store
from storage.repositories import plans as plan_store
from storage.repositories import tasks as task_store
from storage.status import DONE

KIND = "reminder"
LISTED = 10  # tasks listed in one call before "… and N more"


@dataclass(frozen=True)
class Decision:
    """One message to one chat, decided by the scan."""

    key: str
    rule: str
    channel: str
    chat_id: str
    lang: str
    text: str
    options: tuple[tuple[str, str], ...] = ()
    to: str = ""  # the person's name or the group's title, for operators
    unit: str = ""  # the unit concerned (empty for a committee listing)
    subject: str = ""  # the task, or the listing's heading, for operators

    def payload(self) -> dict[str, object]:
        """As handlers.notices.payload writes it (what the dispatcher sends)."""
        return {
            "text": self.text,
            "options": [list(option) for option in self.options],
            "columns": 1,
            "extras": {"lang": self.lang, "rule": self.rule},
        }


@dataclass(frozen=True)
class Scan:
    """What a scan decided, and the units that should have been told but cannot be: nobody
    registered (or reachable) for them."""

    decisions: list[Decision] = field(default_factory=list)
    unreached: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Recipient:
    person_id: int
    name: str
    role: str
    lang: str
    chats: tuple[tuple[str, str], ...]  # (channel, chat id), reachable ones only


@dataclass
class _World:
    """Everything a scan reads, loaded once."""

    today: date
    tasks: list[Task]
    people: dict[int, list[Recipient]]  # unit id → its registered people
    kinds: dict[str, list[Recipient]]  # unit kind → people of units of that kind
    groups: list[tuple[str, str, str]]  # committee groups: (channel, chat id, title)
    plans_followed: int
    lang: str


async def scan(
    session: AsyncSession,
    now: datetime,
    rules: ReminderRules,
    calendar: WorkingCalendar,
    lang: str = "vi",
) -> Scan:
    """What is due at `now` (aware); nothing on a day off. `lang` words the committee's."""
    today = now.astimezone(calendar.tz).date()
    if not calendar.is_working_day(today):
        return Scan()
    world = await _load(session, today, lang)
    found = Scan()
    _ladder(world, rules, calendar, found)
    _periodic(world, rules, calendar, found)
    return Scan(found.decisions, sorted(set(found.unreached)))


async def enqueue(
    session: AsyncSession, decisions: Iterable[Decision], now: datetime, calendar: WorkingCalendar
) -> list[tuple[Decision, bool]]:
    """Each decision written to the outbox unless its key is there already (True: written),
    to go out at `now` when the office is open, else at its next opening. The caller commits."""
    not_before = calendar.next_opening(now)
    done = []
    for decision in decisions:
        new = await outbox.enqueue(
            session,
            key=decision.key,
            channel=decision.channel,
            chat_id=decision.chat_id,
            kind=KIND,
            payload=decision.payload(),
            now=now,
            not_before=not_before,
        )
        done.append((decision, new))
    return done


# --- loading ---------------------------------------------------------------------------------


async def _load(session: AsyncSession, today: date, lang: str) -> _World:
    """The unfinished tasks of followed plans, the registered officers and heads with their
    chats, and the committee groups: five statements whatever the numbers."""
    done = [status.value for status in DONE]
    tasks = await task_store.unfinished_in_followed_plans(session, done)
    people = await people_store.unit_members(session, [Role.OFFICER.value, Role.HEAD.value])
    followed = await plan_store.followed_count(session)
    groups = [(g.channel, g.chat_id, g.title) for g in await bound_chats.committee_groups(session)]
    by_unit: dict[int, list[Recipient]] = defaultdict(list)
    by_kind: dict[str, list[Recipient]] = defaultdict(list)
    for person in people:
        recipient = _recipient(person)
        assert person.unit_id is not None and person.unit is not None
        by_unit[person.unit_id].append(recipient)
        by_kind[person.unit.kind].append(recipient)
    return _World(today, list(tasks), by_unit, by_kind, groups, int(followed or 0), lang)


def _recipient(person: Person) -> Recipient:
    chats = tuple(
        (identity.channel, identity.chat_id)
        for identity in sorted(person.identities, key=lambda i: i.id)
        if identity.reachable and identity.chat_id
    )
    return Recipient(person.id, person.full_name, person.role, person.language, chats)


def _unit_people(world: _World, unit: Unit, roles: Sequence[str]) -> list[Recipient]:
    """Who speaks for `unit` in `roles`: its own people, or for a collective those of every
    unit of the kinds it stands for."""
    if unit.kind == UnitKind.COLLECTIVE:
        found = [p for kind in unit.covers.split(",") for p in world.kinds.get(kind.strip(), [])]
    else:
        found = world.people.get(unit.id, [])
    return [person for person in found if person.role in roles and person.chats]


# --- the ladder of each task -----------------------------------------------------------------


def _ladder(world: _World, rules: ReminderRules, calendar: WorkingCalendar, found: Scan) -> None:
    listed: list[tuple[Task, int]] = []
    for task in world.tasks:
        if task.due_date is None or task.ongoing:
            continue  # no deadline: only the periodic calls concern it
        due = calendar.effective_due(task.due_date)
        days_left = calendar.working_days_between(world.today, due)
        if rules.escalates(days_left):
            listed.append((task, -days_left))
        rung = rules.rung(days_left)
        if rung is not None:
            _remind(world, task, due, rung, found)
    if listed:
        found.decisions.extend(
            _to_committee(world, ESCALATE, world.today.isoformat(), _escalation_text(world, listed))
        )


def _remind(world: _World, task: Task, due: date, rung: Rung, found: Scan) -> None:
    people = _unit_people(world, task.lead_unit, rung.roles)
    if not people:
        found.unreached.append(task.lead_unit.name)
    for person in people:
        text = _task_text(world, task, due, rung, person.lang)
        option = (REPORT_NOW.id(task.id), t(person.lang, "remind_report_now"))
        stem = f"remind:{task.id}:{rung.rule}:{world.today.isoformat()}:{person.person_id}"
        for channel, chat_id in person.chats:
            found.decisions.append(
                Decision(
                    key=f"{stem}:{channel}:{chat_id}",
                    rule=rung.rule,
                    channel=channel,
                    chat_id=chat_id,
                    lang=person.lang,
                    text=text,
                    options=(option,),
                    to=person.name,
                    unit=task.lead_unit.name,
                    subject=_task_name(world, task, person.lang),
                )
            )


def _task_name(world: _World, task: Task, lang: str) -> str:
    """ "I.3 — Title", with the plan's short name when several plans are followed."""
    code = task.code
    if world.plans_followed > 1:
        code = t(lang, "plan_code", plan=task.plan.short_name, code=task.code)
    return f"{code} — {short(task.title, 160)}"


def _deadline(task: Task, due: date, lang: str) -> str:
    assert task.due_date is not None
    if due == task.due_date:
        return day(due)
    return t(lang, "remind_moved", due=day(task.due_date), counted=day(due))


def _task_text(world: _World, task: Task, due: date, rung: Rung, lang: str) -> str:
    return t(
        lang,
        f"remind_{rung.rule}",
        task=_task_name(world, task, lang),
        unit=task.lead_unit.name,
        due=_deadline(task, due, lang),
        days=rung.days,
    )


def _escalation_text(world: _World, listed: list[tuple[Task, int]]) -> str:
    lang = world.lang
    lines = [t(lang, "remind_escalate_head", today=day(world.today), count=len(listed))]
    for number, (task, overdue) in enumerate(listed, start=1):
        assert task.due_date is not None
        lines.append(
            t(
                lang,
                "remind_escalate_line",
                number=number,
                task=_task_name(world, task, lang),
                unit=task.lead_unit.name,
                due=day(task.due_date),
                days=overdue,
            )
        )
    return "\n".join(lines)


def _to_committee(world: _World, rule: str, stamp: str, text: str) -> list[Decision]:
    return [
        Decision(
            key=f"{rule}:{stamp}:{channel}:{chat_id}",
            rule=rule,
            channel=channel,
            chat_id=chat_id,
            lang=world.lang,
            text=text,
            to=title or chat_id,
            subject=text.splitlines()[0],
        )
        for channel, chat_id, title in world.groups
    ]


# --- the periodic reports --------------------------------------------------------------------


def _periodic(world: _World, rules: ReminderRules, calendar: WorkingCalendar, found: Scan) -> None:
    """The month's call on its (working) call day; the silent units the working day after its
    due day."""
    today = world.today
    month = today.replace(day=1)
    call_day = calendar.effective_due(month.replace(day=rules.report_call_day))
    due_day = calendar.effective_due(month.replace(day=rules.report_due_day))
    by_unit: dict[int, list[Task]] = defaultdict(list)
    units: dict[int, Unit] = {}
    for task in world.tasks:
        by_unit[task.lead_unit_id].append(task)
        units[task.lead_unit_id] = task.lead_unit
    if today == call_day:
        for unit_id, tasks in by_unit.items():
            _call(world, units[unit_id], tasks, due_day, found)
    if today == calendar.add_working_days(due_day, 1):
        since = datetime.combine(month, time(0), tzinfo=calendar.tz).astimezone(UTC)
        silent = [
            (units[unit_id], [t_ for t_ in tasks if _silent(t_, since)], len(tasks))
            for unit_id, tasks in by_unit.items()
        ]
        silent = [item for item in silent if item[1]]
        if silent:
            text = _missing_text(world, month, due_day, silent)
            found.decisions.extend(_to_committee(world, MISSING, f"{month:%Y-%m}", text))


def _silent(task: Task, since: datetime) -> bool:
    reported = task.last_report_at
    if reported is not None and reported.tzinfo is None:
        reported = reported.replace(tzinfo=UTC)  # SQLite gives back naive UTC
    return reported is None or reported < since


def _call(world: _World, unit: Unit, tasks: list[Task], due: date, found: Scan) -> None:
    people = _unit_people(world, unit, OFFICERS)
    if not people:
        found.unreached.append(unit.name)
    stamp = f"{world.today:%Y-%m}"
    for person in people:
        lang = person.lang
        lines = [
            t(
                lang,
                "remind_call",
                month=f"{world.today:%m/%Y}",
                unit=unit.name,
                due=day(due),
                count=len(tasks),
            )
        ]
        lines += [f"- {_task_name(world, task, lang)}" for task in tasks[:LISTED]]
        if len(tasks) > LISTED:
            lines.append(t(lang, "remind_more", count=len(tasks) - LISTED))
        text = "\n".join(lines)
        for channel, chat_id in person.chats:
            found.decisions.append(
                Decision(
                    key=f"{CALL}:{stamp}:{person.person_id}:{channel}:{chat_id}",
                    rule=CALL,
                    channel=channel,
                    chat_id=chat_id,
                    lang=lang,
                    text=text,
                    to=person.name,
                    unit=unit.name,
                    subject=lines[0].splitlines()[0],
                )
            )


def _missing_text(
    world: _World, month: date, due: date, silent: list[tuple[Unit, list[Task], int]]
) -> str:
    lang = world.lang
    lines = [
        t(lang, "remind_missing_head", month=f"{month:%m/%Y}", due=day(due), count=len(silent))
    ]
    for unit, tasks, total in sorted(silent, key=lambda item: item[0].name):
        lines.append(
            t(lang, "remind_missing_line", unit=unit.name, missing=len(tasks), total=total)
        )
    return "\n".join(lines)
