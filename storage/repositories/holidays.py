"""The override table: each year's government letter, day by day (an extra day off, or a make-up
working Saturday), over the statutory calendar the `holidays` package knows.

One row per day (the table's unique constraint): a second entry for a day is refused unless the
caller asks to replace it, so nothing is ever overwritten silently; every change is written to
the audit log with what was there before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditLog, HolidayOverride

NOTE_MAX = 200  # the column's length


@dataclass(frozen=True)
class Override:
    """One override as plain values (readable after its session has closed)."""

    day: date
    is_working_day: bool
    note: str


class OverrideExists(Exception):
    """The day already has an override (`existing`; None when another transaction added it
    between our look and our write)."""

    def __init__(self, day: date, existing: Override | None) -> None:
        super().__init__(day, existing)
        self.day = day
        self.existing = existing


async def working_overrides(session: AsyncSession) -> dict[date, bool]:
    """Every override, day → is a working day: what `WorkingCalendar` takes."""
    rows = await session.execute(select(HolidayOverride.day, HolidayOverride.is_working_day))
    return {day: bool(working) for day, working in rows}


async def in_year(session: AsyncSession, year: int) -> list[Override]:
    """The overrides of `year`, in date order."""
    rows = await session.scalars(
        select(HolidayOverride)
        .where(HolidayOverride.day >= date(year, 1, 1), HolidayOverride.day <= date(year, 12, 31))
        .order_by(HolidayOverride.day)
    )
    return [_plain(row) for row in rows]


async def find(session: AsyncSession, day: date) -> Override | None:
    row = await _row(session, day)
    return _plain(row) if row else None


async def add(
    session: AsyncSession,
    override: Override,
    *,
    replace: bool,
    now: datetime,
    actor: str,
) -> Override | None:
    """Record `override`; returns the override it replaced (None when the day had none; equal
    to `override` when it was already recorded so, in which case nothing is written).

    A day that already has one raises OverrideExists unless `replace` is given. When another
    transaction adds the same day meanwhile, the unique constraint refuses ours: OverrideExists
    too, and the caller's transaction must be rolled back."""
    row = await _row(session, override.day)
    before = _plain(row) if row else None
    if row is not None and not replace:
        raise OverrideExists(override.day, before)
    if before == override:
        return before  # the same entry again: nothing to change, nothing to log
    if row is None:
        session.add(
            HolidayOverride(
                day=override.day, is_working_day=override.is_working_day, note=override.note
            )
        )
    else:
        row.is_working_day = override.is_working_day
        row.note = override.note
    session.add(
        _audit(now, actor, "holiday.replace" if before else "holiday.add", override, before)
    )
    try:
        await session.flush()
    except IntegrityError:
        raise OverrideExists(override.day, None) from None
    return before


async def remove(session: AsyncSession, day: date, *, now: datetime, actor: str) -> Override | None:
    """Delete the day's override; returns it, or None when the day had none."""
    row = await _row(session, day)
    if row is None:
        return None
    removed = _plain(row)
    await session.delete(row)
    session.add(_audit(now, actor, "holiday.remove", removed, None))
    await session.flush()
    return removed


async def _row(session: AsyncSession, day: date) -> HolidayOverride | None:
    return await session.scalar(select(HolidayOverride).where(HolidayOverride.day == day))


def _plain(row: HolidayOverride) -> Override:
    return Override(row.day, bool(row.is_working_day), row.note or "")


def _audit(
    now: datetime, actor: str, action: str, override: Override, before: Override | None
) -> AuditLog:
    details: dict[str, object] = {"working": override.is_working_day, "note": override.note}
    if before is not None:
        details["before"] = {"working": before.is_working_day, "note": before.note}
    return AuditLog(
        at=now,
        actor=actor,
        action=action,
        entity="holiday_override",
        entity_id=override.day.isoformat(),
        details=details,
    )
