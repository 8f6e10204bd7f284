"""Chats the platform asked to wait: their answers wait in order, every other chat goes on.

A flood limit (Telegram's 429 with `retry_after`) concerns one chat. Waiting for it inline
would hold up whoever shares the poller with that chat, so each held chat gets a queue and a
task of its own that sends when the wait is over. A shutdown cancels those tasks at once:
what they held was written down before it was queued (see storage.repositories.inbox), so nothing is
lost, and it goes out after the restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
# After an unexpected failure a held answer is tried again this much later.
RETRY_PAUSE = 30.0


@dataclass(frozen=True)
class Wait(Generic[T]):
    """Sending was refused for `seconds`; `rest` is what remains to send after that."""

    seconds: float
    rest: T


Send = Callable[[T], Awaitable["Wait[T] | None"]]


class ChatHolds(Generic[T]):
    """Per chat: the time it may be written to again, and what waits for that time."""

    def __init__(self, send: Send[T]) -> None:
        self._send = send
        self._queues: dict[str, deque[T]] = {}
        self._until: dict[str, float] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}

    def holding(self, chat: str) -> bool:
        """Whether `chat` has answers waiting: a new one must then queue behind them."""
        return chat in self._queues

    def hold(self, chat: str, seconds: float, item: T) -> None:
        """Send `item` to `chat` after `seconds`, and after what the chat already holds."""
        loop = asyncio.get_running_loop()
        until = loop.time() + max(0.0, seconds)
        self._until[chat] = max(self._until.get(chat, until), until)
        self._queues.setdefault(chat, deque()).append(item)
        if chat not in self._workers:
            self._workers[chat] = asyncio.create_task(self._drain(chat), name=f"held:{chat}")

    async def close(self) -> None:
        """Stop waiting at once; what is still held stays where it was written down."""
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._queues.clear()
        self._until.clear()
        self._workers.clear()

    async def _drain(self, chat: str) -> None:
        loop = asyncio.get_running_loop()
        queue = self._queues[chat]
        while queue:
            while (delay := self._until[chat] - loop.time()) > 0:  # a later 429 moves it on
                await asyncio.sleep(delay)
            try:
                wait = await self._send(queue[0])
            except Exception:
                log.exception("a held answer to chat %s failed; trying again later", chat)
                self._until[chat] = loop.time() + RETRY_PAUSE
                continue
            if wait is None:
                queue.popleft()
            else:
                queue[0] = wait.rest
                self._until[chat] = loop.time() + wait.seconds
        # No await since the queue was seen empty: nothing was added in between.
        del self._queues[chat], self._until[chat], self._workers[chat]
