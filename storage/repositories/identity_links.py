"""One person on several messengers: an invite made for a person adds an identity to them.

Whoever redeems an invite made with `tiendo invite --for PERSON` on a messenger where they are
not yet known becomes that person there: a second identity of the same person, with the same
unit, role and history. The invite says so by an audit-log row written when it was made
(who made it for whom), so no new column is needed and the record of it stays.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditLog, ChannelIdentity, Invite, Person

FOR_PERSON = "invite.for_person"


def mark_for(
    session: AsyncSession, invite: Invite, person: Person, actor: str, now: datetime
) -> None:
    """Record that `invite` is for `person` (after the invite was flushed)."""
    session.add(
        AuditLog(
            at=now,
            actor=actor,
            action=FOR_PERSON,
            entity="invite",
            entity_id=str(invite.id),
            details={"person_id": person.id},
        )
    )


async def person_for(session: AsyncSession, invite: Invite) -> int | None:
    """The id of the person `invite` was made for, or None for an ordinary invite."""
    details = await session.scalar(
        select(AuditLog.details)
        .where(
            AuditLog.action == FOR_PERSON,
            AuditLog.entity == "invite",
            AuditLog.entity_id == str(invite.id),
        )
        .limit(1)
    )
    person_id = (details or {}).get("person_id")
    return person_id if isinstance(person_id, int) else None


async def attach(
    session: AsyncSession, person_id: int, channel: str, external_id: str, chat_id: str, name: str
) -> Person | None:
    """Add the identity (`channel`, `external_id`) to the person; the person, with their unit."""
    person = await session.get(Person, person_id)
    if person is None:
        return None
    session.add(
        ChannelIdentity(
            person_id=person.id,
            channel=channel,
            external_id=external_id,
            chat_id=chat_id,
            display_name=name,
        )
    )
    await session.flush()
    await session.refresh(person, ["unit"])
    return person
