"""Invite codes: made by an admin, redeemed once per person, limited in uses and time.

A use is claimed by one conditional UPDATE of the counter, so however many people redeem a
code at the same moment, on SQLite or PostgreSQL, no more than `max_uses` get in. Wrong codes
are written to the audit log per chat, which throttles guessing across restarts and instances.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditLog, Invite, InviteUse, Person

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are typed on phones
# Guessing: this many wrong codes from one chat within WRONG_WINDOW close it for LOCKOUT.
WRONG_LIMIT = 5
WRONG_WINDOW = timedelta(minutes=10)
LOCKOUT = timedelta(minutes=10)
WRONG_CODE = "invite.wrong_code"


class InviteCheck(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED_UP = "used_up"
    ALREADY_USED = "already_used"


def new_code(length: int = 8) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


async def create(
    session: AsyncSession,
    *,
    unit_id: int | None,
    role: str,
    max_uses: int,
    expires_at: datetime | None,
    now: datetime,
) -> Invite:
    invite = Invite(
        code=new_code(),
        unit_id=unit_id,
        role=role,
        max_uses=max_uses,
        expires_at=expires_at,
        created_at=now,
    )
    session.add(invite)
    await session.flush()
    return invite


async def find(session: AsyncSession, code: str) -> Invite | None:
    return await session.scalar(select(Invite).where(func.upper(Invite.code) == code.upper()))


async def check(
    session: AsyncSession, invite: Invite | None, person: Person | None, now: datetime
) -> InviteCheck:
    """Whether `person` (None for a newcomer) may redeem `invite` now."""
    if invite is None:
        return InviteCheck.UNKNOWN
    if person is not None and await session.scalar(
        select(InviteUse.id).where(
            InviteUse.invite_id == invite.id, InviteUse.person_id == person.id
        )
    ):
        return InviteCheck.ALREADY_USED
    if invite.expires_at is not None and _aware(invite.expires_at) <= now:
        return InviteCheck.EXPIRED
    if invite.uses >= invite.max_uses:
        return InviteCheck.USED_UP
    return InviteCheck.OK


async def claim(session: AsyncSession, invite: Invite, now: datetime) -> bool:
    """Take one use of `invite` if one is left and it has not expired; False otherwise.

    One statement decides: PostgreSQL re-checks the condition on the row a concurrent claim
    just updated, SQLite has one writer at a time; either way the counter never passes
    `max_uses`. The caller's transaction holds the claim until it commits (or gives it back).
    """
    result = await session.execute(
        update(Invite)
        .where(
            Invite.id == invite.id,
            Invite.uses < Invite.max_uses,
            or_(Invite.expires_at.is_(None), Invite.expires_at > now),
        )
        .values(uses=Invite.uses + 1)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def redeem(session: AsyncSession, invite: Invite, person: Person, now: datetime) -> None:
    """Record that `person` used `invite` (after a successful `claim`)."""
    session.add(InviteUse(invite_id=invite.id, person_id=person.id, used_at=now))
    await session.flush()


async def locked_until(session: AsyncSession, chat: str, now: datetime) -> datetime | None:
    """When `chat` may try codes again, if too many wrong ones came from it lately."""
    recent = (
        await session.scalars(
            select(AuditLog.at)
            .where(
                AuditLog.action == WRONG_CODE,
                AuditLog.entity_id == chat,
                AuditLog.at > now - WRONG_WINDOW - LOCKOUT,
            )
            .order_by(AuditLog.at.desc())
            .limit(WRONG_LIMIT)
        )
    ).all()
    if len(recent) < WRONG_LIMIT:
        return None
    newest, oldest = _aware(recent[0]), _aware(recent[-1])
    if newest - oldest > WRONG_WINDOW:
        return None
    until = newest + LOCKOUT
    return until if until > now else None


def wrong_code(session: AsyncSession, chat: str, actor: str, now: datetime) -> None:
    """Write down a wrong code tried from `chat` (never the code itself: it may be close)."""
    session.add(
        AuditLog(at=now, actor=actor, action=WRONG_CODE, entity="chat", entity_id=chat, details={})
    )


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
