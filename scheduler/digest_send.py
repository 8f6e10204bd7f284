"""The week's digest to the steering committee's groups: the one path of `tiendo digest --send`,
the digest job of `tiendo run` and /baocaotuan in chat.

Each bound committee group gets the week's digest once (scheduler.digest: the outbox key names
the ISO week and the group). The groups that already have it are looked up first, so asking
again in the same week neither draws the chart and workbook again nor writes anything; what is
new goes out at the next office opening (at once when the office is open). The caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler import digest_correction
from scheduler.calendar import WorkingCalendar
from scheduler.digest import (
    Digest,
    Queued,
    build_digest,
    digest_key,
    enqueue_digest,
    week_label,
    week_of,
)
from storage.figures import Period
from storage.repositories import bound_chats, outbox


@dataclass(frozen=True)
class Earlier:
    """A group's row of the week already in the outbox: when it was queued, and when it goes
    (or went) out."""

    key: str
    state: str
    queued_at: datetime
    not_before: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class WeekSend:
    """What one send did: a `Queued` per bound group (none bound: empty), the rows that were
    there before (by key), when the new ones go out, and the digest when one was built."""

    week: str
    period: Period
    not_before: datetime
    queued: list[Queued]
    earlier: dict[str, Earlier] = field(default_factory=dict)
    digest: Digest | None = None

    @property
    def new(self) -> list[Queued]:
        return [item for item in self.queued if item.new]


async def send_week(
    session: AsyncSession,
    now: datetime,
    calendar: WorkingCalendar,
    *,
    lang: str,
    data_dir: Path,
) -> WeekSend:
    """The week of `now` (in `calendar`'s time zone) to every bound committee group that does
    not have it yet, in `lang`."""
    period = week_of(now, calendar.tz)
    week = week_label(period)
    not_before = calendar.next_opening(now)
    groups = await bound_chats.committee_groups(session)
    keys = {digest_key(week, group.channel, group.chat_id) for group in groups}
    earlier = await earlier_rows(session, keys)
    if keys <= earlier.keys():  # every group has it (or none is bound): nothing to draw
        queued = [
            Queued(g.channel, g.chat_id, g.title, digest_key(week, g.channel, g.chat_id), False)
            for g in groups
        ]
        return WeekSend(week, period, not_before, queued, earlier)
    digest = await build_digest(session, now, calendar.tz, lang)
    queued = await enqueue_digest(
        session, digest, data_dir=data_dir, now=now, not_before=not_before
    )
    # A report committed while the chart and the workbook were drawn is not in the text: the
    # digest just written is corrected at once (after it, in its chat's order).
    await digest_correction.correct(session, now, calendar.tz, partial(_same, calendar))
    # A row another instance wrote between the look and the insert: read it too.
    earlier = await earlier_rows(session, {item.key for item in queued if not item.new})
    return WeekSend(week, period, not_before, queued, earlier, digest)


async def earlier_rows(session: AsyncSession, keys: Iterable[str]) -> dict[str, Earlier]:
    wanted = sorted(keys)
    if not wanted:
        return {}
    rows = await outbox.states_of(session, wanted)
    return {
        key: Earlier(key, state, _aware(queued), _aware(not_before), _aware_or_none(sent))
        for key, state, queued, not_before, sent in rows
    }


def _aware(value: datetime) -> datetime:
    """SQLite gives stored times back without their zone; they are UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _aware_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else _aware(value)


async def _same(calendar: WorkingCalendar) -> WorkingCalendar:
    return calendar
