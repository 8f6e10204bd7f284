"""Sending at a platform's pace: in all, per chat and per group, just under each limit.

Each limit is "at most `count` messages in any `seconds`", kept with evenly spaced grants
(`seconds / count`, a little wider), so the pace is right from the very first message, with no
start-up burst. A chat's own limits (one chat, one group) are also kept over confirmed sends: a
message goes `seconds` after the one `count` sends before it came back. The platform saw that
one arrive before it answered, so however the network delays requests, it never counts more
than `count` in any window. The limit in all is kept on grants alone: waiting for answers there
would make the pace depend on the network's round trip, and the headroom covers the jitter.

A chat the platform told to wait (a 429 with retry_after, however long) is held alone: the
others go on. Everything reads time from a `Clock`, so a test can run a minute in a second.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

# Pace kept at this fraction of each limit: "just under", with room for the network's jitter.
HEADROOM = 0.95


class Clock(Protocol):
    """Time as the dispatcher sees it; tests pass a faster one."""

    def time(self) -> float:
        """Seconds on a monotonic scale."""
        ...

    def now(self) -> datetime:
        """The current moment, aware, UTC (for the database)."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real time."""

    def time(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


@dataclass(frozen=True)
class ChannelLimits:
    """One platform's limits; `group_per_minute` None (or 0) means no separate group cap."""

    per_second: float  # messages per second, all chats together
    chat_seconds: float  # the shortest time between two messages to one chat
    group_per_minute: int | None = None
    headroom: float = HEADROOM


TELEGRAM = ChannelLimits(per_second=30.0, chat_seconds=1.0, group_per_minute=20)
ZALO = ChannelLimits(per_second=10.0, chat_seconds=1.0)


class Permit:
    """One send: granted at `granted_at`, done when the platform answered."""

    __slots__ = ("done", "done_at", "granted_at")

    def __init__(self, granted_at: float) -> None:
        self.granted_at = granted_at
        self.done_at: float | None = None
        self.done = asyncio.Event()


class Pace:
    """At most `count` messages in any `seconds`, evenly spaced; `confirmed`: the window counts
    from each send's answer rather than from its grant."""

    def __init__(
        self, count: int, seconds: float, headroom: float = HEADROOM, confirmed: bool = True
    ) -> None:
        self.count = max(1, count)
        self.window = seconds / headroom
        self.spacing = seconds / self.count / headroom
        self.confirmed = confirmed
        self.next_at = -math.inf
        self.recent: deque[Permit] = deque(maxlen=self.count)

    @classmethod
    def per_second(cls, rate: float, headroom: float = HEADROOM) -> Pace:
        count = max(1, math.floor(rate))
        return cls(count, count / rate, headroom, confirmed=False)

    def blocker(self) -> Permit | None:
        """The send `count` grants ago, if it is still on its way (wait for its answer)."""
        oldest = self.recent[0] if len(self.recent) == self.count else None
        if self.confirmed and oldest is not None and oldest.done_at is None:
            return oldest
        return None

    def ready_at(self) -> float:
        """When the next grant may be made (once `blocker()` is None)."""
        if len(self.recent) < self.count:
            return self.next_at
        return max(self.next_at, self._stamp(self.recent[0]) + self.window)

    def take(self, permit: Permit) -> None:
        # Slots follow the ideal timeline, so that a grant made a little late (the event loop
        # was busy) is caught up on by the next one rather than slowing the pace for good; never
        # by more than half a slot, and the window above still bounds any `seconds`.
        first = self.next_at == -math.inf
        catch_up = permit.granted_at + self.spacing * (1.0 if first else 0.5)
        self.next_at = max(self.next_at + self.spacing, catch_up)
        self.recent.append(permit)

    def idle(self, now: float) -> bool:
        """Nothing here constrains a send any more: this pace may be forgotten."""
        last = self.recent[-1] if self.recent else None
        quiet = last is None or (
            last.done_at is not None and self._stamp(last) + self.window <= now
        )
        return quiet and self.next_at <= now

    def _stamp(self, permit: Permit) -> float:
        if not self.confirmed:
            return permit.granted_at
        assert permit.done_at is not None
        return permit.done_at


class RateLimiter:
    """One channel's limits: `acquire` before each send, `done` when the platform answered.

    One sender per chat at a time (the dispatcher's lanes): a chat's own limits are waited for
    outside the shared queue, so a chat that must wait never holds up the others.
    """

    def __init__(self, limits: ChannelLimits, clock: Clock | None = None) -> None:
        self.limits = limits
        self.clock = clock or SystemClock()
        self._all = Pace.per_second(limits.per_second, limits.headroom)
        self._chats: dict[str, Pace] = {}
        self._groups: dict[str, Pace] = {}
        self._held: dict[str, float] = {}
        self._turn = asyncio.Lock()  # grants of the shared pace, first come first served

    def hold(self, chat: str, seconds: float) -> None:
        """The platform asked `chat` to wait `seconds`: nothing goes there before then."""
        until = self.clock.time() + max(0.0, seconds)
        self._held[chat] = max(self._held.get(chat, until), until)

    def held_for(self, chat: str) -> float:
        """How long `chat` must still wait for the platform (0 when it need not)."""
        return max(0.0, self._held.get(chat, 0.0) - self.clock.time())

    async def acquire(self, chat: str, group: bool = False, answer: bool = False) -> Permit:
        """Wait until a message may go to `chat`; the permit must be passed to `done`.

        An `answer` (a reply to someone who just wrote, waiting for it) waits only for a hold
        the platform asked for: it is counted in every pace, so the messages nobody waits for
        (notices, broadcasts) make room for it, but it never queues behind them.
        """
        limits = self.limits
        own = [_pace(self._chats, chat, 1, limits.chat_seconds, limits.headroom)]
        if group and limits.group_per_minute:
            own.append(_pace(self._groups, chat, limits.group_per_minute, 60.0, limits.headroom))
        if answer:  # no lock: the shared queue may be held by a message waiting its turn
            await self._ready([], chat)
            return self._take(own, answer=True)
        await self._ready(own, chat)
        async with self._turn:
            await self._ready([self._all], None)
            return self._take(own)

    def _take(self, own: list[Pace], answer: bool = False) -> Permit:
        permit = Permit(self.clock.time())
        for pace in (self._all, *own):
            pace.take(permit)
            if answer:  # a burst of answers delays the others by one window at most
                pace.next_at = min(pace.next_at, permit.granted_at + pace.window)
        return permit

    def done(self, permit: Permit) -> None:
        """The platform answered (whatever it said): the send counts from now on."""
        if permit.done_at is None:
            permit.done_at = self.clock.time()
            permit.done.set()

    def forget_idle(self) -> None:
        """Drop what is kept for chats that are quiet now (the limiter's memory stays small)."""
        now = self.clock.time()
        for paces in (self._chats, self._groups):
            for chat in [chat for chat, pace in paces.items() if pace.idle(now)]:
                del paces[chat]
        for chat in [chat for chat, until in self._held.items() if until <= now]:
            del self._held[chat]

    async def _ready(self, paces: Iterable[Pace], chat: str | None) -> None:
        paces = list(paces)
        while True:
            blocker = next((b for pace in paces if (b := pace.blocker()) is not None), None)
            if blocker is not None:
                await blocker.done.wait()
                continue
            at = max((pace.ready_at() for pace in paces), default=-math.inf)
            if chat is not None:
                at = max(at, self._held.get(chat, -math.inf))
            wait = at - self.clock.time()
            if wait <= 0:
                return
            await self.clock.sleep(wait)


def _pace(paces: dict[str, Pace], chat: str, count: int, seconds: float, headroom: float) -> Pace:
    pace = paces.get(chat)
    if pace is None:
        pace = paces[chat] = Pace(count, seconds, headroom)
    return pace
