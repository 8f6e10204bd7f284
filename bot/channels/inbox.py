"""Updates confirmed to the platform whose answer is still to be sent (the inbox table).

A chat that Telegram asks to wait (a flood limit) must not hold back everyone's polling
offset, so its update is confirmed at once; this row is what still knows, across a restart
or a shutdown in the middle of the wait, that its answer (kept on processed_updates until
delivered) has to go out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import InboxEvent

Sessions = async_sessionmaker[AsyncSession]


async def remember(
    sessions: Sessions, channel: str, key: str, payload: dict[str, Any], now: datetime
) -> None:
    """Keep `payload` under `key` until `forget`; remembering it twice keeps it once."""
    async with sessions() as session:
        known = await session.scalar(
            select(InboxEvent.id).where(InboxEvent.channel == channel, InboxEvent.event_key == key)
        )
        if known is not None:
            return
        session.add(InboxEvent(channel=channel, event_key=key, payload=payload, received_at=now))
        try:
            await session.commit()
        except IntegrityError:  # another instance remembered it meanwhile: once is enough
            await session.rollback()


async def pending(sessions: Sessions, channel: str) -> list[tuple[str, dict[str, Any]]]:
    """What is remembered and not yet forgotten, oldest first: (key, payload)."""
    async with sessions() as session:
        rows = await session.execute(
            select(InboxEvent.event_key, InboxEvent.payload)
            .where(InboxEvent.channel == channel, InboxEvent.handled_at.is_(None))
            .order_by(InboxEvent.id)
        )
        return [(key, dict(payload)) for key, payload in rows]


async def forget(sessions: Sessions, channel: str, key: str, now: datetime) -> None:
    """Its answer went out: the row stays as a record, no longer pending."""
    async with sessions() as session:
        await session.execute(
            update(InboxEvent)
            .where(InboxEvent.channel == channel, InboxEvent.event_key == key)
            .values(handled_at=now)
        )
        await session.commit()
