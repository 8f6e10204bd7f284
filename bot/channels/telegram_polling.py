"""Long polling that confirms an update only after it was handled and answered.

python-telegram-bot's Updater confirms updates as soon as it fetched them; a process killed
before handling one would lose it. Here the offset moves past an update only once its turn is
done, so after a crash the server hands it over again and the dispatcher's once-only record
decides what remains to do.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from contextlib import suppress

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut

from bot.channels.stoppable import Stopped, unless_stopped
from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)
POLL_TIMEOUT = 25
MAX_BACKOFF = 60.0
# An update that fails this often is set aside (logged), so one poison update cannot stall
# its chat, or the offset of everyone, forever.
MAX_UPDATE_ATTEMPTS = 5


def _chat_of(update: Update) -> int:
    chat = update.effective_chat
    return chat.id if chat is not None else 0


async def poll(channel: TelegramChannel, stop: asyncio.Event, timeout: int = POLL_TIMEOUT) -> None:
    """Fetch and handle updates until `stop` is set; chats in parallel, each chat in order."""
    offset: int | None = None
    failures = 0
    attempts: dict[int, int] = defaultdict(int)
    while not stop.is_set():
        try:
            updates = await unless_stopped(_fetch(channel, offset, timeout), stop)
            failures = 0
        except Stopped:
            break
        except RetryAfter as exc:
            wait = exc.retry_after
            await _sleep(stop, wait.total_seconds() if hasattr(wait, "total_seconds") else wait)
            continue
        except InvalidToken:
            raise
        except (TimedOut, NetworkError, Conflict) as exc:
            failures += 1
            delay = min(MAX_BACKOFF, 0.5 * 2**failures) * (0.5 + random.random())
            log.warning("getUpdates failed (%s); retrying in %.1fs", type(exc).__name__, delay)
            await _sleep(stop, delay)
            continue
        if not updates:
            continue
        done = await _handle_batch(channel, updates, attempts)
        if done:
            offset = done + 1
        if done != max(u.update_id for u in updates):
            await _sleep(stop, 0.5 + random.random())  # something failed: give it a moment
    await _confirm(channel, offset)


async def _fetch(channel: TelegramChannel, offset: int | None, timeout: int) -> list[Update]:
    """The next updates (a long poll of up to `timeout` seconds)."""
    updates = await channel.bot.get_updates(
        offset=offset, timeout=timeout, allowed_updates=["message", "callback_query"]
    )
    return list(updates)


async def _confirm(channel: TelegramChannel, offset: int | None) -> None:
    """Tell the server what was handled, so a restart does not fetch it again."""
    if offset is None:
        return
    try:
        await channel.bot.get_updates(offset=offset, timeout=0, limit=1)
    except (TimedOut, NetworkError) as exc:
        log.info("could not confirm handled updates on stop: %s", type(exc).__name__)


async def _handle_batch(
    channel: TelegramChannel, updates: list[Update], attempts: dict[int, int]
) -> int | None:
    """Handle a batch; returns the highest update id up to which everything is done."""
    by_chat: dict[int, list[Update]] = defaultdict(list)
    for update in updates:
        by_chat[_chat_of(update)].append(update)
    failed: set[int] = set()

    async def run_chat(chat_updates: list[Update]) -> None:
        for update in chat_updates:
            try:
                await channel.handle_update(update)
            except Exception:
                attempts[update.update_id] += 1
                if attempts[update.update_id] >= MAX_UPDATE_ATTEMPTS:
                    log.exception(
                        "update %s failed %d times; set aside",
                        update.update_id,
                        MAX_UPDATE_ATTEMPTS,
                    )
                    continue
                log.exception("update %s failed; it will be fetched again", update.update_id)
                failed.add(update.update_id)
                return  # later updates of this chat wait, to keep the chat in order
            attempts.pop(update.update_id, None)

    await asyncio.gather(*(run_chat(items) for items in by_chat.values()))
    ordered = sorted(u.update_id for u in updates)
    if not failed:
        return ordered[-1]
    first_failed = min(failed)
    before = [uid for uid in ordered if uid < first_failed]
    return before[-1] if before else None


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
