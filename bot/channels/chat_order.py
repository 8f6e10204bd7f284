"""Jobs of one chat run one after another, in the order they came; chats run side by side.

A platform that hands over one event per call (Zalo) is polled by one loop that must not
wait for each answer, or every chat would wait for the slowest; and a person's messages must
still be taken in the order they were typed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)
Job = Callable[[], Awaitable[Any]]


class ChatOrder:
    def __init__(self) -> None:
        self._queues: dict[str, deque[tuple[Job, asyncio.Future[Any]]]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}

    def submit(self, chat: str, job: Job) -> asyncio.Future[Any]:
        """Run `job` after the chat's earlier jobs; its result (or error) in the future."""
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queues.setdefault(chat, deque()).append((job, done))
        if chat not in self._workers:
            self._workers[chat] = asyncio.create_task(self._drain(chat), name=f"chat:{chat}")
        return done

    @property
    def busy(self) -> int:
        """How many chats have jobs running or waiting."""
        return len(self._workers)

    async def close(self, grace: float) -> None:
        """Let the jobs in hand finish for up to `grace` seconds, then cancel the rest (what
        they held is written down and taken up again after a restart)."""
        workers = list(self._workers.values())
        if workers:
            await asyncio.wait(workers, timeout=grace)
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for queue in self._queues.values():
            for _, done in queue:
                done.cancel()
        self._queues.clear()
        self._workers.clear()

    async def _drain(self, chat: str) -> None:
        queue = self._queues[chat]
        while queue:
            job, done = queue[0]
            try:
                result = await job()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not done.done():
                    done.set_exception(exc)
            else:
                if not done.done():
                    done.set_result(result)
            queue.popleft()
        # No await since the queue was seen empty: nothing was added in between.
        del self._queues[chat], self._workers[chat]
