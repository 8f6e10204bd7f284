"""Updates already handled: the once-only guard (their replies are outbox rows)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedUpdate

_BY_KEY = select(ProcessedUpdate.id).where(
    ProcessedUpdate.channel == bindparam("channel"),
    ProcessedUpdate.update_key == bindparam("key"),
)


async def seen(session: AsyncSession, channel: str, key: str) -> bool:
    """Whether the update `key` of `channel` was handled already."""
    return await session.scalar(_BY_KEY, {"channel": channel, "key": key}) is not None


def record(session: AsyncSession, channel: str, key: str, now: datetime) -> None:
    session.add(ProcessedUpdate(channel=channel, update_key=key, handled_at=now))
