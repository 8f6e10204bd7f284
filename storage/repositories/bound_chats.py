"""Group chats bound to a purpose: the steering committee's groups, on any messenger."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import BoundChat
from storage.textfold import words

COMMITTEE = "committee"
TITLE_MAX = 200  # the column's length
_POSITION = re.compile(r"[0-9]{1,4}")  # ASCII only: int() takes other digits, people do not


async def find(session: AsyncSession, channel: str, chat_id: str) -> BoundChat | None:
    return await session.scalar(
        select(BoundChat).where(BoundChat.channel == channel, BoundChat.chat_id == chat_id)
    )


async def committee_groups(session: AsyncSession) -> Sequence[BoundChat]:
    """Every bound committee group, oldest binding first."""
    return (
        await session.scalars(
            select(BoundChat)
            .where(BoundChat.purpose == COMMITTEE)
            .order_by(BoundChat.bound_at, BoundChat.id)
        )
    ).all()


def bind(session: AsyncSession, channel: str, chat_id: str, title: str, now: datetime) -> BoundChat:
    """The group bound as a committee group. A group bound twice at once breaks the unique
    (channel, chat_id) constraint at commit: the caller's transaction is retried and finds it."""
    chat = BoundChat(
        channel=channel, chat_id=chat_id, purpose=COMMITTEE, title=title[:TITLE_MAX], bound_at=now
    )
    session.add(chat)
    return chat


async def unbind(session: AsyncSession, chat: BoundChat) -> bool:
    """The binding removed; False when another transaction removed it first (a DELETE by the
    ORM would only warn of the row it did not find, so its count is checked here)."""
    result = await session.execute(delete(BoundChat).where(BoundChat.id == chat.id))
    session.expunge(chat)
    return cast(CursorResult[Any], result).rowcount == 1


def named(groups: Sequence[BoundChat], wanted: str) -> BoundChat | None:
    """The group `wanted` names among `groups`: its position in the list (from 1), its chat
    id, or its title (no case, no diacritics); None when none or several titles match."""
    text = wanted.strip()
    if _POSITION.fullmatch(text) and 1 <= int(text) <= len(groups):
        return groups[int(text) - 1]
    by_id = [group for group in groups if group.chat_id == text]
    if by_id:
        return by_id[0]
    folded = words(text)
    by_title = [group for group in groups if folded and words(group.title) == folded]
    return by_title[0] if len(by_title) == 1 else None
