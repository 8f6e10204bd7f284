"""The one entry point of every channel: an Incoming in, the replies to show out.

Each update is handled in one transaction that also records it (with its replies) as
processed, so a redelivered update has its effect once; a conflicting concurrent step (the
conversation's version moved on, or the row appeared meanwhile) is retried from a fresh read.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from handlers.context import Ctx, HandlerConfig
from handlers.events import Incoming, Option, Reply
from handlers.i18n import t
from handlers.router import route
from handlers.steps import unsupported_hint
from storage.db import is_busy
from storage.repositories import inbox, people, updates

__all__ = ["Dispatcher", "Handled", "HandlerConfig", "utc_now"]
log = logging.getLogger(__name__)
ATTEMPTS = 6
KEY_SEPARATOR = "\x1f"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Handled:
    replies: list[Reply]
    delivery_key: str | None


class Dispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        config: HandlerConfig,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.sessions, self.config, self.clock = sessions, config, clock
        self._to_mark: list[tuple[str | None, tuple[str, str] | None, asyncio.Future[None]]] = []
        self._marker: asyncio.Task[None] | None = None

    async def handle(self, event: Incoming) -> Handled:
        """Handle `event` once; retried internally when a concurrent step got there first."""
        for attempt in range(ATTEMPTS):
            try:
                return await self._handle_once(event)
            except (StaleDataError, IntegrityError) as exc:
                log.info(
                    "step conflict for %s/%s (attempt %d): %s",
                    event.channel,
                    event.chat_id,
                    attempt + 1,
                    type(exc).__name__,
                )
            except DBAPIError as exc:
                if not is_busy(exc):  # by its type or the database's code, not its wording
                    raise
                log.info(
                    "database busy for %s/%s (attempt %d)",
                    event.channel,
                    event.chat_id,
                    attempt + 1,
                )
            await asyncio.sleep(0.02 * (attempt + 1) + random.random() * 0.03)
        log.warning(
            "gave up on an update of %s/%s after %d conflicts",
            event.channel,
            event.chat_id,
            ATTEMPTS,
        )
        return Handled([Reply(t(self.config.default_language, "busy"))], None)

    async def _handle_once(self, event: Incoming) -> Handled:
        now = self.clock()
        async with self.sessions() as session:
            try:
                if event.update_key:
                    done = await updates.find(session, event.channel, event.update_key)
                    if done is not None:
                        return self._again(event, done.replies, done.delivered_at is None)
                ctx = await Ctx.load(session, self.config, event, now)
                replies = _in_language(await _answer(ctx), ctx.lang)
                await ctx.save()
                key = None
                if event.update_key:
                    updates.record(
                        session, event.channel, event.update_key, [_plain(r) for r in replies], now
                    )
                    key = f"{event.channel}{KEY_SEPARATOR}{event.update_key}"
                await session.commit()
                _after_commit(ctx)
                return Handled(replies, key)
            except BaseException:
                await session.rollback()
                raise

    def _again(self, event: Incoming, replies: list[Any] | None, undelivered: bool) -> Handled:
        if not undelivered:
            return Handled([], None)
        key = f"{event.channel}{KEY_SEPARATOR}{event.update_key}"
        return Handled([_reply(item) for item in replies or []], key)

    async def mark_delivered(
        self, delivery_key: str | None, inbox_key: tuple[str, str] | None = None
    ) -> None:
        """Record that the replies were sent (and close the event's inbox row, given as
        (channel, key)); returns once that is committed.

        Marks arriving together are committed together (one statement each, one
        transaction), so many chats answered at once do not each wait for a write of their own.
        """
        if delivery_key is None and inbox_key is None:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._to_mark.append((delivery_key, inbox_key, done))
        if self._marker is None or self._marker.done():
            self._marker = asyncio.create_task(self._mark_pending())
        await done

    async def _mark_pending(self) -> None:
        while self._to_mark:
            batch, self._to_mark = self._to_mark, []
            delivered: dict[str, list[str]] = {}
            answered: dict[str, list[str]] = {}
            for delivery_key, inbox_key, _ in batch:
                if delivery_key is not None:
                    channel, _, key = delivery_key.partition(KEY_SEPARATOR)
                    delivered.setdefault(channel, []).append(key)
                if inbox_key is not None:
                    answered.setdefault(inbox_key[0], []).append(inbox_key[1])
            try:
                async with self.sessions() as session:
                    now = self.clock()
                    for channel, keys in delivered.items():
                        await updates.mark_delivered(session, channel, keys, now)
                    for channel, keys in answered.items():
                        await inbox.close(session, channel, keys, now)
                    await session.commit()
            except Exception as exc:
                for _, _, done in batch:
                    done.set_exception(exc)
            else:
                for _, _, done in batch:
                    done.set_result(None)

    async def mark_unreachable(self, channel: str, external_id: str) -> None:
        async with self.sessions() as session:
            await people.mark_unreachable(session, channel, external_id)
            await session.commit()


async def _answer(ctx: Ctx) -> list[Reply]:
    """The route's answer; for a kind of message no dialog reads (a sticker, a voice
    message), a hint in a private chat and silence in a group, the dialog left as it was."""
    if not ctx.event.unsupported:
        return await route(ctx)
    if ctx.event.chat_type != "private":
        return []
    return [Reply(ctx.t(unsupported_hint(ctx)))]


def _after_commit(ctx: Ctx) -> None:
    """Start what the step left for after its commit; a failure to start is logged, the
    step's replies stand (it did commit)."""
    for job in ctx.after_commit:
        try:
            job()
        except Exception:
            log.exception("after-commit work of %s/%s failed", ctx.event.channel, ctx.event.chat_id)


def _in_language(replies: list[Reply], lang: str) -> list[Reply]:
    # A channel that writes its own hints (Zalo's "Trả lời 1, 2 hoặc 3") writes them in the
    # person's language; kept with the replies, so a redelivery says them the same way.
    return [replace(r, extras={**r.extras, "lang": lang}) for r in replies]


def _plain(reply: Reply) -> dict[str, Any]:
    # Files are not kept: dialogs send none, and bytes do not belong in this table.
    return {
        "text": reply.text,
        "options": [[o.id, o.label] for o in reply.options],
        "replace_prompt": reply.replace_prompt,
        "columns": reply.columns,
        "extras": dict(reply.extras),
    }


def _reply(item: dict[str, Any]) -> Reply:
    return Reply(
        item["text"],
        tuple(Option(i, label) for i, label in item["options"]),
        replace_prompt=item["replace_prompt"],
        columns=item["columns"],
        extras=dict(item.get("extras") or {}),
    )
