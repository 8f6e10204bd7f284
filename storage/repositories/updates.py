"""Updates already handled, with their replies until delivered: the once-only guard."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedUpdate

_BY_KEY = select(ProcessedUpdate).where(
    ProcessedUpdate.channel == bindparam("channel"),
    ProcessedUpdate.update_key == bindparam("key"),
)


async def find(session: AsyncSession, channel: str, key: str) -> ProcessedUpdate | None:
    return await session.scalar(_BY_KEY, {"channel": channel, "key": key})


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
