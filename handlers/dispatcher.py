"""The one entry point of every channel: an Incoming in, its replies written to the outbox.

Each update is handled in one transaction that also records it as processed (an event written to
the inbox first by closing its inbox row, any other by a processed-update row) and writes its
replies as outbox rows (handlers.replies), so a redelivered update has its effect once and
its answer is never lost: the caller sends the rows at once (written already held by it, see
`Holder`), or whichever process is alive does when the lease runs out. A conflicting
concurrent step (the conversation's version moved on, or the row appeared meanwhile) is
retried from a fresh read.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from handlers import replies as reply_rows
from handlers.context import Ctx, HandlerConfig
from handlers.events import Incoming, Reply
from handlers.i18n import t
from handlers.router import route
from handlers.steps import unsupported_hint
from storage.db import is_busy
from storage.repositories import inbox, outbox, people, updates
from storage.repositories.inbox import Seen
from storage.repositories.outbox import Claimed, Holder

__all__ = ["Dispatcher", "Handled", "HandlerConfig", "Holder", "utc_now"]
log = logging.getLogger(__name__)
ATTEMPTS = 6


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Handled:
    """What a step said (`replies`) and the outbox rows that say it (`rows`; held by the
    caller's `Holder` when it gave one). A redelivered update has neither: its replies are in
    the outbox already."""

    replies: list[Reply]
    rows: list[Claimed]


class Dispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        config: HandlerConfig,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.sessions, self.config, self.clock = sessions, config, clock

    async def handle(
        self, event: Incoming, holder: Holder | None = None, close_inbox: bool = False
    ) -> Handled:
        """Handle `event` once; retried internally when a concurrent step got there first.

        The reply rows are written held by `holder` (who sends them right after), pending
        without one; `close_inbox` closes the event's inbox row in the same transaction.
        """
        for attempt in range(ATTEMPTS):
            try:
                return await self._handle_once(event, holder, close_inbox)
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
        busy = [Reply(t(self.config.default_language, "busy"))]
        async with self.sessions() as session:  # the step is not recorded: it may come again
            rows = await self._write_replies(session, replace(event, update_key=None), busy, holder)
            if close_inbox and event.update_key:
                await inbox.close(session, event.channel, [event.update_key], self.clock())
            await session.commit()
        return Handled(busy, rows)

    async def _handle_once(
        self, event: Incoming, holder: Holder | None, close_inbox: bool
    ) -> Handled:
        now = self.clock()
        async with self.sessions() as session:
            try:
                key = event.update_key
                if key and await _seen(session, event.channel, key, close_inbox):
                    return Handled([], [])  # its replies are in the outbox already
                ctx = await Ctx.load(session, self.config, event, now)
                replies = _in_language(await _answer(ctx), ctx.lang)
                # Rendered before the step's writes: on SQLite every moment between its first
                # write and its commit is a moment no other chat's step may write.
                drafts = reply_rows.drafts(event, replies, self.config.data_dir)
                await ctx.save()
                if key:
                    await _record(session, event.channel, key, now, close_inbox)
                rows = await outbox.add_claimed(session, drafts, holder, self.clock())
                await session.commit()
                _after_commit(ctx)
                return Handled(replies, rows)
            except BaseException:
                await session.rollback()
                raise

    async def _write_replies(
        self, session: AsyncSession, event: Incoming, replies: list[Reply], holder: Holder | None
    ) -> list[Claimed]:
        drafts = reply_rows.drafts(event, replies, self.config.data_dir)
        return await outbox.add_claimed(session, drafts, holder, self.clock())

    async def close_inbox(self, channel: str, keys: list[str]) -> None:
        """Close inbox rows that hold no event to handle."""
        async with self.sessions() as session:
            await inbox.close(session, channel, keys, self.clock())
            await session.commit()

    async def mark_unreachable(self, channel: str, external_id: str) -> None:
        async with self.sessions() as session:
            await people.mark_unreachable(session, channel, external_id)
            await session.commit()


async def _seen(session: AsyncSession, channel: str, key: str, inbox_first: bool) -> bool:
    """Whether the update was handled already: its inbox row closed, for an event written
    there first; else (or when it has no such row) its processed-update row."""
    if inbox_first:
        stands = await inbox.state(session, channel, key)
        if stands is not None:
            return stands is Seen.HANDLED
    return await updates.seen(session, channel, key)


async def _record(
    session: AsyncSession, channel: str, key: str, now: datetime, inbox_first: bool
) -> None:
    """Record the update as handled, in the step's transaction. An event written to the inbox
    first is recorded by closing its row (one write less on every step); if another step
    closed it meanwhile, this one is a repeat and is retried, to find it handled."""
    if inbox_first:
        if await inbox.close_open(session, channel, key, now):
            return
        if await inbox.state(session, channel, key) is not None:
            raise StaleDataError(f"inbox row {channel}/{key}: closed already")
    updates.record(session, channel, key, now)


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
