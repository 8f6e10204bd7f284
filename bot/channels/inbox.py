"""Events written to the inbox before they are handled, many in one transaction.

Zalo forgets an event once it handed it over, so each one is written down before anything
else happens to it; events arriving together share one write (a commit per event would make
the poller wait on the disk for every message).
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.dispatcher import utc_now
from storage.repositories import inbox
from storage.repositories.inbox import Seen

Waiting = dict[str, tuple[dict[str, Any], list[asyncio.Future[Seen]]]]


class Inbox:
    """Writes one channel's events down, batching those that arrive together."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], channel: str) -> None:
        self.sessions, self.channel = sessions, channel
        self._waiting: Waiting = {}
        self._writer: asyncio.Task[None] | None = None

    async def remember(self, key: str, payload: dict[str, Any]) -> Seen:
        """Write the event down (once committed, returns); how its key stood before.

        The same key twice in one batch is written once; the second is told HANDLED, a repeat.
        """
        done: asyncio.Future[Seen] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, (payload, []))[1].append(done)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        return await done

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, {}
            try:
                seen = await self._commit({key: payload for key, (payload, _) in batch.items()})
            except Exception as exc:
                for _, waiters in batch.values():
                    for done in waiters:
                        done.set_exception(exc)
                continue
            for key, (_, waiters) in batch.items():
                waiters[0].set_result(seen[key])
                for repeat in waiters[1:]:
                    repeat.set_result(Seen.HANDLED)

    async def _commit(self, events: dict[str, dict[str, Any]]) -> dict[str, Seen]:
        async with self.sessions() as session:
            seen = await inbox.remember_many(session, self.channel, events, utc_now())
            await session.commit()
            return seen
