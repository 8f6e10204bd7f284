"""Invite codes: made by an admin, redeemed once per person, limited in uses and time."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Invite, InviteUse, Person

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are typed on phones


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


async def redeem(session: AsyncSession, invite: Invite, person: Person, now: datetime) -> None:
    invite.uses += 1
    session.add(InviteUse(invite_id=invite.id, person_id=person.id, used_at=now))
    await session.flush()


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
