"""The audit log: who did what, when, to what, with the before and after.

Every admin action, every refused command and every change of a task is written here in the
transaction that makes it, so the log never tells of a change that did not happen.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditLog

# An entry's details are kept short enough to read; a long text is cut, never dropped.
MAX_DETAIL = 2000


def record(
    session: AsyncSession,
    *,
    now: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: object,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    entry = AuditLog(
        at=now,
        actor=actor[:120],
        action=action[:60],
        entity=entity[:60],
        entity_id=str(entity_id)[:60],
        details={key: _short(value) for key, value in (details or {}).items()},
    )
    session.add(entry)
    return entry


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_DETAIL:
        return value[:MAX_DETAIL] + "…"
    return value


async def since(
    session: AsyncSession, start: datetime | None = None, limit: int | None = None
) -> Sequence[AuditLog]:
    """Entries from `start` on (all when None), oldest first; with `limit`, the latest ones."""
    query = select(AuditLog)
    if start is not None:
        query = query.where(AuditLog.at >= start)
    if limit is None:
        return (await session.scalars(query.order_by(AuditLog.at, AuditLog.id))).all()
    latest = (
        await session.scalars(query.order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit))
    ).all()
    return list(reversed(latest))


async def find(
    session: AsyncSession, action: str, entity: str, entity_id: object
) -> AuditLog | None:
    """The entry of this action on this entity (the first, if several)."""
    return await session.scalar(
        select(AuditLog)
        .where(
            AuditLog.action == action,
            AuditLog.entity == entity,
            AuditLog.entity_id == str(entity_id),
        )
        .order_by(AuditLog.id)
        .limit(1)
    )
