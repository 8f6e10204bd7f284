"""Updates already handled, with their replies until delivered: the once-only guard."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedUpdate


async def find(session: AsyncSession, channel: str, key: str) -> ProcessedUpdate | None:
    return await session.scalar(
        select(ProcessedUpdate).where(
            ProcessedUpdate.channel == channel, ProcessedUpdate.update_key == key
        )
    )


def record(
    session: AsyncSession, channel: str, key: str, replies: list[dict[str, Any]], now: datetime
) -> None:
    session.add(ProcessedUpdate(channel=channel, update_key=key, replies=replies, handled_at=now))


async def mark_delivered(
    session: AsyncSession, channel: str, keys: list[str], now: datetime
) -> None:
    await session.execute(
        update(ProcessedUpdate)
        .where(ProcessedUpdate.channel == channel, ProcessedUpdate.update_key.in_(keys))
        .values(delivered_at=now, replies=None)
    )
