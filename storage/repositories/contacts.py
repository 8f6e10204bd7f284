"""Who can be reached where: each unit's contacts, the tasks it leads, and revoking a person.

`/donvi` asks which units lead tasks but have nobody to remind, and who the others' contacts
are. Everything comes from four set-based queries whatever the number of units (the tasks with
their lead units, the units, the people with their messengers, each unit's latest report); a
collective lead ("UBND các quận, huyện") stands for the units of the kinds it covers, as it does
in each unit's own task list. People are found by number ("#12") or by a part of their name,
folded (no case, no diacritics), and revoking one is written to the audit log.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import ChannelIdentity, Person, Plan, Report, Task, TaskStatus, TaskUnit, Unit
from storage.repositories import audit
from storage.repositories.tasks import COOPERATING, LEAD
from storage.status import DONE, is_overdue
from storage.textfold import words
from storage.units import UnitIndex, fold

_FOLLOWED = Task.active.is_(True) & Task.plan_id.in_(select(Plan.id).where(Plan.followed.is_(True)))
REVOKED, RESTORED = "person.revoked", "person.restored"
# A typed name this short matches too many units by its letters alone.
MIN_PART = 3
MAX_CANDIDATES = 8
# A name offered for a slip of the keyboard must be spelled this much like what was typed.
ALIKE = 0.6


@dataclass(frozen=True)
class Contact:
    """A registered person as /donvi shows them: messengers as (channel, reachable)."""

    person_id: int
    name: str
    role: str
    unit_id: int | None
    revoked: bool
    channels: tuple[tuple[str, bool], ...] = ()

    @property
    def reachable(self) -> bool:
        """Someone a reminder can reach: not revoked, and reachable on some messenger."""
        return not self.revoked and any(ok for _, ok in self.channels)


@dataclass
class UnitContacts:
    """A unit, its people, and the active tasks of followed plans it leads."""

    unit_id: int
    name: str
    short_name: str
    contacts: list[Contact] = field(default_factory=list)
    led: int = 0
    done: int = 0
    overdue: int = 0  # unfinished and past the due date, reported or not
    not_reported: int = 0
    last_report: datetime | None = None  # the unit's latest report or contribution

    @property
    def reachable(self) -> bool:
        return any(contact.reachable for contact in self.contacts)


@dataclass(frozen=True)
class Directory:
    """Units leading tasks with nobody to remind (most overdue first), the units with people
    (most overdue first), and the people attached to no unit."""

    unreached: list[UnitContacts]
    reached: list[UnitContacts]
    unattached: list[Contact]

    def unit(self, unit_id: int) -> UnitContacts | None:
        return next((u for u in (*self.unreached, *self.reached) if u.unit_id == unit_id), None)


@dataclass(frozen=True)
class _UnitRow:
    id: int
    name: str
    short_name: str
    kind: str
    covers: str


async def directory(session: AsyncSession, today: date) -> Directory:
    """Every unit that leads an active task of a followed plan or has someone registered,
    counted on `today` (the city's calendar day)."""
    units = {row.id: row for row in await _units(session)}
    members = _members(units.values())
    lines: dict[int, UnitContacts] = {}

    def line(unit_id: int) -> UnitContacts:
        if unit_id not in lines:
            row = units[unit_id]
            lines[unit_id] = UnitContacts(row.id, row.name, row.short_name)
        return lines[unit_id]

    for status, due, ongoing, reported, leads in await _led_tasks(session):
        done = TaskStatus(status) in DONE
        for unit_id in {m for lead in leads if lead in units for m in members.get(lead, [lead])}:
            counted = line(unit_id)
            counted.led += 1
            counted.done += done
            counted.overdue += not done and is_overdue(due, ongoing, today)
            counted.not_reported += not done and not reported
    unattached: list[Contact] = []
    for contact in await _contacts(session):
        if contact.unit_id is None or contact.unit_id not in units:
            unattached.append(contact)
        else:
            line(contact.unit_id).contacts.append(contact)
    for unit_id, at in await _last_reports(session):
        if unit_id in lines:
            lines[unit_id].last_report = at
    return _sorted(lines.values(), unattached)


def _sorted(lines: Iterable[UnitContacts], unattached: list[Contact]) -> Directory:
    ordered = sorted(lines, key=lambda u: (-u.overdue, -u.led, fold(u.name)))
    return Directory(
        unreached=[u for u in ordered if u.led and not u.reachable],
        reached=[u for u in ordered if u.reachable or (u.contacts and not u.led)],
        unattached=unattached,
    )


def _members(units: Iterable[_UnitRow]) -> dict[int, list[int]]:
    """Each collective that covers kinds of units, with the units of those kinds."""
    rows = list(units)
    return {
        c.id: [u.id for u in rows if u.kind in c.covers.split(",")]
        for c in rows
        if c.kind == "collective" and c.covers
    }


async def _units(session: AsyncSession) -> list[_UnitRow]:
    query = select(Unit.id, Unit.name, Unit.short_name, Unit.kind, Unit.covers)
    return [_UnitRow(*row) for row in await session.execute(query)]


async def _led_tasks(
    session: AsyncSession,
) -> list[tuple[str, date | None, bool, bool, set[int]]]:
    """Active tasks of followed plans as (status, due date, ongoing, reported, lead units)."""
    rows = await session.execute(
        select(
            Task.id,
            Task.status,
            Task.due_date,
            Task.ongoing,
            Task.last_report_at,
            Task.lead_unit_id,
            TaskUnit.unit_id,
        )
        .outerjoin(TaskUnit, (TaskUnit.task_id == Task.id) & (TaskUnit.role == LEAD))
        .where(_FOLLOWED)
    )
    tasks: dict[int, tuple[str, date | None, bool, bool, set[int]]] = {}
    for task_id, status, due, ongoing, last, lead_id, unit_id in rows:
        found = tasks.setdefault(task_id, (status, due, bool(ongoing), last is not None, set()))
        found[4].update(uid for uid in (lead_id, unit_id) if uid is not None)
    return list(tasks.values())


async def _contacts(session: AsyncSession) -> list[Contact]:
    """Every person with their messengers, by name."""
    rows = await session.execute(
        select(
            Person.id,
            Person.full_name,
            Person.role,
            Person.unit_id,
            Person.revoked_at,
            ChannelIdentity.channel,
            ChannelIdentity.reachable & ChannelIdentity.chat_id.is_not(None),
        )
        .outerjoin(ChannelIdentity, ChannelIdentity.person_id == Person.id)
        .order_by(Person.full_name, Person.id, ChannelIdentity.channel)
    )
    people: dict[int, tuple[str, str, int | None, bool]] = {}
    channels: dict[int, list[tuple[str, bool]]] = defaultdict(list)
    for person_id, name, role, unit_id, revoked_at, channel, reachable in rows:
        people[person_id] = (name, role, unit_id, revoked_at is not None)
        if channel is not None:
            channels[person_id].append((channel, bool(reachable)))
    return [Contact(pid, *about, channels=tuple(channels[pid])) for pid, about in people.items()]


async def _last_reports(session: AsyncSession) -> Sequence[tuple[int, datetime]]:
    rows = await session.execute(
        select(Report.unit_id, func.max(Report.created_at)).group_by(Report.unit_id)
    )
    return [(unit_id, at) for unit_id, at in rows]


async def cooperating_count(session: AsyncSession, unit_id: int) -> int:
    """How many active tasks of followed plans the unit cooperates on (named as such)."""
    query = select(func.count(func.distinct(TaskUnit.task_id))).where(
        TaskUnit.unit_id == unit_id,
        TaskUnit.role == COOPERATING,
        TaskUnit.task_id.in_(select(Task.id).where(_FOLLOWED)),
    )
    return int(await session.scalar(query) or 0)


# Finding a unit as an admin types it.


@dataclass(frozen=True)
class UnitLookup:
    """The unit a typed name names, or else the units it may mean, best first."""

    unit: Unit | None
    candidates: list[Unit] = field(default_factory=list)


class UnitFinder:
    """Every unit with its spellings, loaded once, to read what an admin typed."""

    def __init__(self, units: Sequence[Unit]) -> None:
        self.units = units
        self.index = UnitIndex(units)

    def look_up(self, text: str) -> UnitLookup:
        """A unit by any spelling (full, short, abbreviated, without diacritics); else the
        units whose spellings contain what was typed ("Kiến" → Kiến An, Kiến Thụy), or failing
        that the closest names ("Sở Thông tin và Truyền thôg")."""
        found = self.index.find(text)
        if found is not None:
            return UnitLookup(found)
        key = fold(text)
        joinable = [unit for unit in self.units if not stands_for_others(unit)]
        containing = [
            unit
            for unit in joinable
            if len(key) >= MIN_PART and any(key in spelling for spelling in _keys(unit))
        ]
        if containing:
            best = sorted(containing, key=lambda unit: (_closeness(key, unit), fold(unit.name)))
            return UnitLookup(None, best[:MAX_CANDIDATES])
        by_name = {unit.name: unit for unit in joinable}
        closest = [by_name[name] for name in self.index.closest(text, 6) if name in by_name]
        alike = [unit for unit in closest if -_closeness(key, unit) >= ALIKE]
        return UnitLookup(None, alike[:3])

    def by_ids(self, ids: Iterable[object]) -> list[Unit]:
        """The units with these ids, in that order (ids of no unit left out)."""
        known = {unit.id: unit for unit in self.units}
        return [known[uid] for uid in ids if isinstance(uid, int) and uid in known]


async def unit_finder(session: AsyncSession) -> UnitFinder:
    units = (await session.scalars(select(Unit).options(selectinload(Unit.aliases)))).all()
    return UnitFinder(units)


def _keys(unit: Unit) -> set[str]:
    return {fold(unit.name), fold(unit.short_name), *(alias.key for alias in unit.aliases)}


def _closeness(key: str, unit: Unit) -> float:
    return -max(difflib.SequenceMatcher(None, key, k).ratio() for k in _keys(unit))


def stands_for_others(unit: Unit) -> bool:
    """A collective that covers kinds of units ("Các sở, ban, ngành"): a name for several
    units, not one to join (each of its units is invited instead)."""
    return unit.kind == "collective" and bool(unit.covers)


# Finding and revoking a person.


async def matching(session: AsyncSession, text: str) -> list[Person]:
    """The people `text` names: "#12" or "12" by number; otherwise by name, folded, each word
    typed the beginning of a word of the name ("van an" → Nguyễn Văn An); a name typed in full
    matches only the people with exactly that name."""
    typed = text.strip().removeprefix("#").strip()
    if typed.isascii() and typed.isdigit():
        person = await session.get(Person, int(typed)) if len(typed) <= 18 else None
        return [person] if person is not None else []
    wanted = words(text)
    if not wanted:
        return []
    names = (await session.execute(select(Person.id, Person.full_name))).all()
    exact = [pid for pid, name in names if words(name) == wanted]
    ids = exact or [pid for pid, name in names if _starts_words(wanted, words(name))]
    return await people_by_ids(session, ids)


async def people_by_ids(session: AsyncSession, ids: list[int]) -> list[Person]:
    """The people with these ids (with their units), by name."""
    if not ids:
        return []
    query = select(Person).where(Person.id.in_(ids)).order_by(Person.full_name, Person.id)
    return list((await session.scalars(query)).all())


def _starts_words(wanted: list[str], name: list[str]) -> bool:
    """Each typed word begins a different word of the name, in the name's order."""
    position = 0
    for word in wanted:
        while position < len(name) and not name[position].startswith(word):
            position += 1
        if position == len(name):
            return False
        position += 1
    return True


def set_revoked(
    session: AsyncSession, person: Person, *, revoked: bool, now: datetime, actor: str
) -> bool:
    """Revoke `person` (or give their access back), audited with the before and after;
    False, and nothing written, when they already were so."""
    before = person.revoked_at
    if (before is not None) == revoked:
        return False
    person.revoked_at = now if revoked else None
    audit.record(
        session,
        now=now,
        actor=actor,
        action=REVOKED if revoked else RESTORED,
        entity="person",
        entity_id=person.id,
        details={
            "name": person.full_name,
            "role": person.role,
            "unit_id": person.unit_id,
            "before": {"revoked_at": before.isoformat() if before else None},
            "after": {"revoked_at": now.isoformat() if revoked else None},
        },
    )
    return True
