"""Platform events written down until their answer went out (the inbox_events table).

Two uses: an event of a platform without offsets (Zalo) is written here before it is handled,
since once fetched the platform forgets it; and an event whose answer a flood limit holds is
written here so that a restart still sends it. `handled_at` closes a row; closed rows stay as
the record that makes a repeated event harmless.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
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


async def forget(sessions: Sessions, channel: str, key: str, now: datetime) -> None:
    """`close` for one key, in a transaction of its own."""
    async with sessions() as session:
        await close(session, channel, [key], now)
        await session.commit()
