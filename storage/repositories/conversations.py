"""Where each person's dialog stands, per channel and chat."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

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


async def data_of_dialog(session: AsyncSession, dialog: str) -> Sequence[dict[str, Any]]:
    """The saved data of every conversation standing in `dialog`."""
    rows = await session.scalars(select(Conversation.data).where(Conversation.dialog == dialog))
    return [dict(data or {}) for data in rows]
