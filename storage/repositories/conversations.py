"""Where each person's dialog stands, per channel and chat."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation

_FOR_CHAT = select(Conversation).where(
    Conversation.channel == bindparam("channel"),
    Conversation.chat_id == bindparam("chat_id"),
    Conversation.person_key == bindparam("person_key"),
)


async def for_chat(
    session: AsyncSession, channel: str, chat_id: str, person_key: str, now: datetime
) -> Conversation:
    """The saved state, or a fresh one (not yet added to the session) for a first message."""
    state = await session.scalar(
        _FOR_CHAT, {"channel": channel, "chat_id": chat_id, "person_key": person_key}
    )
    if state is not None:
        return state
    return Conversation(
        channel=channel,
        chat_id=chat_id,
        person_key=person_key,
        dialog=None,
        step=None,
        data={},
        updated_at=now,
    )
