"""Platform events written down until their answer went out (the inbox_events table).

Two uses: an event of a platform without offsets (Zalo) is written here before it is handled,
since once fetched the platform forgets it; and an event whose answer a flood limit holds is
written here so that a restart still sends it. `handled_at` closes a row; closed rows stay as
the record that makes a repeated event harmless: for an event written here first, the closed
row is its once-only guard, closed by the step's own transaction (`close_open`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import InboxEvent

Sessions = async_sessionmaker[AsyncSession]
# INSERT … ON CONFLICT DO NOTHING RETURNING, as each engine spells it.
_INSERTS: dict[str, Any] = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}


class Seen(StrEnum):
    NEW = "new"  # written now
    PENDING = "pending"  # written before, its answer not yet out
    HANDLED = "handled"  # written before and answered: a repeat


async def remember_many(
    session: AsyncSession, channel: str, events: dict[str, dict[str, Any]], now: datetime
) -> dict[str, Seen]:
    """Write the events (key → payload) not yet known; how each key stood before.

    One statement writes them, skipping the keys already there (whoever wrote them, another
    instance included), and says which it wrote; only those skipped are looked up. Not
    committed here.
    """
    rows = [
        {"channel": channel, "event_key": key, "payload": payload, "received_at": now}
        for key, payload in events.items()
    ]
    insert = _INSERTS[session.get_bind().dialect.name]
    written = set(
        await session.scalars(
            insert(InboxEvent)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["channel", "event_key"])
            .returning(InboxEvent.event_key)
        )
    )
    skipped = [key for key in events if key not in written]
    known = {}
    if skipped:
        found = await session.execute(
            select(InboxEvent.event_key, InboxEvent.handled_at).where(
                InboxEvent.channel == channel, InboxEvent.event_key.in_(skipped)
            )
        )
        known = {key: Seen.PENDING if handled is None else Seen.HANDLED for key, handled in found}
    return {key: Seen.NEW if key in written else known.get(key, Seen.PENDING) for key in events}


async def remember(
    sessions: Sessions, channel: str, key: str, payload: dict[str, Any], now: datetime
) -> Seen:
    """Keep `payload` under `key` until `forget`, in a transaction of its own."""
    async with sessions() as session:
        seen = await remember_many(session, channel, {key: payload}, now)
        await session.commit()
        return seen[key]


async def pending(sessions: Sessions, channel: str) -> list[tuple[str, dict[str, Any]]]:
    """What is written down and not yet answered, oldest first: (key, payload)."""
    async with sessions() as session:
        rows = await session.execute(
            select(InboxEvent.event_key, InboxEvent.payload)
            .where(InboxEvent.channel == channel, InboxEvent.handled_at.is_(None))
            .order_by(InboxEvent.id)
        )
        return [(key, dict(payload)) for key, payload in rows]


async def close(session: AsyncSession, channel: str, keys: Iterable[str], now: datetime) -> None:
    """Their answers went out: the rows stay as a record, no longer pending (not committed)."""
    await session.execute(
        update(InboxEvent)
        .where(
            InboxEvent.channel == channel,
            InboxEvent.event_key.in_(list(keys)),
            InboxEvent.handled_at.is_(None),
        )
        .values(handled_at=now)
    )


_EVENTS = cast(Table, InboxEvent.__table__)
# (bindparam names differ from the columns': an UPDATE keeps those for its SET clause)
_THE_EVENT = (
    _EVENTS.c.channel == bindparam("of_channel"),
    _EVENTS.c.event_key == bindparam("of_key"),
)
_CLOSE_OPEN = (
    update(_EVENTS)
    .where(*_THE_EVENT, _EVENTS.c.handled_at.is_(None))
    .values(handled_at=bindparam("closed_at"))
)
_HANDLED_AT = select(_EVENTS.c.id, _EVENTS.c.handled_at).where(*_THE_EVENT)


async def close_open(session: AsyncSession, channel: str, key: str, now: datetime) -> bool:
    """Close `key`'s row if it is still open (not committed); False when it was closed already
    (handled by someone else) or was never written."""
    result = await session.execute(
        _CLOSE_OPEN, {"of_channel": channel, "of_key": key, "closed_at": now}
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


async def state(session: AsyncSession, channel: str, key: str) -> Seen | None:
    """How `key`'s row stands: PENDING, HANDLED, or None when it was never written."""
    row = (await session.execute(_HANDLED_AT, {"of_channel": channel, "of_key": key})).first()
    if row is None:
        return None
    return Seen.PENDING if row.handled_at is None else Seen.HANDLED


async def forget(sessions: Sessions, channel: str, key: str, now: datetime) -> None:
    """`close` for one key, in a transaction of its own."""
    async with sessions() as session:
        await close(session, channel, [key], now)
        await session.commit()
