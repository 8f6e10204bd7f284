"""People and how each channel knows them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, raiseload, selectinload

from storage.models import ChannelIdentity, Person, Role

# Built once: every update looks its sender up, and building the statement cost more than
# running it.
_BY_IDENTITY = (
    select(Person)
    .options(joinedload(Person.unit), raiseload(Person.identities))
    .join(ChannelIdentity)
    .where(
        ChannelIdentity.channel == bindparam("channel"),
        ChannelIdentity.external_id == bindparam("external_id"),
    )
)


async def find_by_identity(session: AsyncSession, channel: str, external_id: str) -> Person | None:
    """The person with their unit; their other identities are not needed on this hot path."""
    return await session.scalar(_BY_IDENTITY, {"channel": channel, "external_id": external_id})


async def create(
    session: AsyncSession,
    *,
    channel: str,
    external_id: str,
    chat_id: str,
    name: str,
    role: str,
    unit_id: int | None,
    language: str,
    now: datetime,
) -> Person:
    """A new person known on `channel` as `external_id`."""
    person = Person(
        full_name=name or external_id, role=role, unit_id=unit_id, language=language, created_at=now
    )
    person.identities.append(
        ChannelIdentity(
            channel=channel, external_id=external_id, chat_id=chat_id, display_name=name
        )
    )
    session.add(person)
    await session.flush()
    await session.refresh(person, ["unit"])
    return person


async def ensure_admin(
    session: AsyncSession,
    *,
    channel: str,
    external_id: str,
    chat_id: str,
    name: str,
    language: str,
    now: datetime,
) -> Person:
    """The admin named in ADMINS, created on first contact, promoted if known with another role."""
    person = await find_by_identity(session, channel, external_id)
    if person is None:
        return await create(
            session,
            channel=channel,
            external_id=external_id,
            chat_id=chat_id,
            name=name,
            role=Role.ADMIN,
            unit_id=None,
            language=language,
            now=now,
        )
    if person.role != Role.ADMIN:
        person.role = Role.ADMIN
    return person


async def mark_unreachable(session: AsyncSession, channel: str, external_id: str) -> None:
    await session.execute(
        update(ChannelIdentity)
        .where(ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id)
        .values(reachable=False)
    )


async def find_with_identities(
    session: AsyncSession, channel: str, external_id: str
) -> Person | None:
    """The person known as `external_id` on `channel`, with all their identities."""
    return await session.scalar(
        select(Person)
        .join(ChannelIdentity)
        .where(ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id)
    )


async def find_by_id_or_name(session: AsyncSession, who: str) -> Person | None:
    """A person by their number, or by their exact full name."""
    if who.isdigit():
        return await session.get(Person, int(who))
    return await session.scalar(select(Person).where(Person.full_name == who).limit(1))


async def ensure_identity(
    session: AsyncSession, person: Person, channel: str, external_id: str
) -> str:
    """The person's id on `channel`, adding `external_id` as that identity if they have none."""
    for identity in person.identities:
        if identity.channel == channel:
            return identity.external_id
    person.identities.append(
        ChannelIdentity(channel=channel, external_id=external_id, chat_id=external_id)
    )
    await session.flush()
    return external_id


async def reachable_chats(session: AsyncSession, person_id: int) -> list[tuple[str, str]]:
    """The (messenger, chat) pairs the bot may write to this person in."""
    rows = await session.execute(
        select(ChannelIdentity.channel, ChannelIdentity.chat_id).where(
            ChannelIdentity.person_id == person_id,
            ChannelIdentity.reachable.is_(True),
            ChannelIdentity.chat_id.is_not(None),
        )
    )
    return [(channel, chat_id) for channel, chat_id in rows.all() if chat_id is not None]


async def chats_by_role(
    session: AsyncSession, roles: Sequence[str]
) -> list[tuple[int, str, str | None, str | None]]:
    """(person, language, messenger, chat) for every person of these roles not revoked, one row
    per reachable chat, or one row with no chat for a person who has none (one query)."""
    reachable = and_(
        ChannelIdentity.person_id == Person.id,
        ChannelIdentity.reachable.is_(True),
        ChannelIdentity.chat_id.is_not(None),
    )
    rows = await session.execute(
        select(Person.id, Person.language, ChannelIdentity.channel, ChannelIdentity.chat_id)
        .outerjoin(ChannelIdentity, reachable)
        .where(Person.role.in_(roles), Person.revoked_at.is_(None))
        .order_by(Person.id, ChannelIdentity.channel, ChannelIdentity.chat_id)
    )
    return [(pid, lang, channel, chat) for pid, lang, channel, chat in rows.all()]


async def unit_members(session: AsyncSession, roles: Sequence[str]) -> Sequence[Person]:
    """The people of these roles who belong to a unit and are not revoked, with their unit and
    every identity (two statements)."""
    return (
        await session.scalars(
            select(Person)
            .where(Person.revoked_at.is_(None), Person.unit_id.is_not(None))
            .where(Person.role.in_(roles))
            .options(selectinload(Person.identities), selectinload(Person.unit))
            .order_by(Person.id)
        )
    ).all()
