"""The outbox dispatcher: claims due messages and sends each at its platform's pace, once.

One path for every message the bot decides to send, on every channel: rows are claimed with a
lease (the claim commits at once: no transaction stays open while a message travels), sent
through the channel's `Sender` at the channel's `RateLimiter` pace, and marked in a short
transaction of their own, sent only once the platform confirmed. Messages to one chat go out in
order, one at a time (a "lane" per chat); chats go side by side.

What the platform answers decides what follows:
- a wait (429 with retry_after, Zalo's quota): that chat waits, the others go on. A short wait
  is kept in memory (the lease is renewed meanwhile); a long one gives the chat's rows back to
  the table until then, for whichever instance is alive.
- a passing fault: the same, with a growing back-off; never dropped after some number of tries.
- the chat is gone (blocked, not found): failed with the reason, the person marked unreachable
  on that messenger.
- a refusal that retrying would not change: failed with the reason.

A row may edit the messages of another row instead of sending new ones (a weekly digest
corrected): its payload names that row (outbox.EDITS), whose messages' ids, kept when it was
sent, are read just before the edit goes out; until that row is sent the edit waits for it.

A step's replies skip the claim: the process that handled the update writes them already held
(storage.repositories.outbox.add_claimed with `holder`) and hands them to `send_now`, which
puts them in their chat's lane at once; an answer waits only for a hold the platform asked for,
never for the pace of messages nobody waits for (scheduler.rate_limit). Marks that a message was
sent are committed in batches (one statement for all the lanes that finished meanwhile), and a
reply's sender does not wait for its mark: the row stays `sending` under its lease until then.

`serve` runs until its stop event is set; then it stops claiming, lets sends in progress finish
for a few seconds and gives everything else back. A crash gives nothing back: the leases
expire and the rows are claimed again, so at most what was in flight is sent twice.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import math
import os
import random
import secrets
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler.rate_limit import ChannelLimits, Clock, RateLimiter, SystemClock
from storage.repositories import outbox, people
from storage.repositories.outbox import SENT_PARTS, Claimed, Holder

log = logging.getLogger(__name__)
REPLY = "reply"  # a step's answer to whoever wrote (handlers.replies.KIND)


# ---- what a channel answers -------------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    """The platform confirmed the message, and gave it `message_id` (where it gives one)."""

    message_id: str | None = None


@dataclass(frozen=True)
class Flooded:
    """The platform asked this chat to wait `seconds` (a 429, a quota)."""

    seconds: float
    reason: str


@dataclass(frozen=True)
class Passing:
    """A fault that may pass (network, timeout, a server error)."""

    reason: str


@dataclass(frozen=True)
class Gone:
    """The chat cannot be written to (the person blocked the bot, the chat does not exist)."""

    reason: str


@dataclass(frozen=True)
class Refused:
    """The platform will never take this message."""

    reason: str


Outcome = Delivered | Flooded | Passing | Gone | Refused
DELIVERED = Delivered()


class Sender(Protocol):
    """One channel as the dispatcher uses it: a row's payload rendered, one message sent."""

    async def prepare(self, chat_id: str, payload: Mapping[str, Any]) -> Sequence[Any]:
        """The messages one outbox row becomes, in order (raises if the payload is unusable)."""
        ...

    async def send(self, chat_id: str, message: Any) -> Outcome:
        """Send one prepared message; every answer is an outcome, never an exception."""
        ...

    def is_group(self, chat_id: str) -> bool:
        """Whether `chat_id` is a group (groups have a cap of their own)."""
        ...


@dataclass(frozen=True)
class Tuning:
    """How the dispatcher works; the defaults suit production."""

    lease: timedelta = timedelta(seconds=60)  # renewed every third of it while a row is held
    poll_seconds: float = 1.0  # claims at least this often (and whenever woken)
    batch: int = 100  # rows per claim
    max_in_flight: int = 300  # rows held in memory at once
    max_hold: float = 60.0  # a chat's wait up to this long is kept in memory
    backoff_first: float = 1.0  # the first pause after a passing fault, doubled each time
    backoff_max: float = 900.0
    grace: float = 3.0  # at shutdown, how long sends in progress may take to finish


# Told of each row marked sent or failed for good (with the time), in a transaction of its own
# once the mark has committed: the last of a fan-out's rows to settle sees all the others settled.
Settled = Callable[[Claimed, datetime, AsyncSession], Awaitable[object]]


# ---- the dispatcher ---------------------------------------------------------------------


def new_instance() -> str:
    """A process's name on the outbox rows it holds: unique across machines and restarts."""
    return f"{socket.gethostname()[:50]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class _Watch:
    """Someone waiting for rows handed to `send_now`: told True once all are finished, False
    as soon as one of them must wait."""

    left: int
    future: asyncio.Future[bool]

    def settle(self, finished: bool) -> None:
        if self.future.done():
            return
        self.left -= 1
        if not finished or self.left <= 0:
            self.future.set_result(finished)


@dataclass
class _Row:
    claimed: Claimed
    attempts: int
    sent_parts: int
    messages: Sequence[Any] | None = None
    ids: list[str | None] = field(default_factory=list)  # the platform's, of each piece sent
    error: str = ""
    tried: bool = False  # changed since claimed: given back with its attempts and progress
    watch: _Watch | None = None

    def settle(self, finished: bool) -> None:
        if self.watch is not None:
            self.watch.settle(finished)
            self.watch = None

    def __lt__(self, other: _Row) -> bool:
        return self.claimed.id < other.claimed.id


@dataclass
class _Lane:
    """One chat's messages, sent one at a time in the order they were decided."""

    channel: str
    chat: str
    rows: list[_Row] = field(default_factory=list)  # a heap by row id
    task: asyncio.Task[None] | None = None
    busy: bool = False  # a send (and its mark) in progress: a shutdown lets it finish
    parked_until: float = 0.0  # the chat's rows are back in the table until then (clock time)
    parked_wall: datetime | None = None  # the same moment, as the rows' not_before


class OutboxDispatcher:
    """Sends the outbox's messages on every channel it has a sender for."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        senders: Mapping[str, Sender],
        limits: Mapping[str, ChannelLimits],
        instance: str,
        clock: Clock | None = None,
        tuning: Tuning | None = None,
        on_settled: Mapping[str, Settled] | None = None,
    ) -> None:
        self.sessions, self.senders, self.instance = sessions, dict(senders), instance
        # What to do once a row of a kind settles (sent or failed), by kind: a reply or a
        # reminder costs no extra transaction.
        self.on_settled = dict(on_settled or {})
        self.clock = clock or SystemClock()
        self.tuning = tuning or Tuning()
        self.limiters = {name: RateLimiter(limits[name], self.clock) for name in self.senders}
        self._lanes: dict[tuple[str, str], _Lane] = {}
        self._rows: dict[int, _Row] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._throttled = False
        self._marks: list[tuple[_Row, asyncio.Future[None]]] = []
        self._marker: asyncio.Task[None] | None = None

    @property
    def holder(self) -> Holder:
        """This dispatcher as the holder of rows written for `send_now`."""
        return Holder(self.instance, self.tuning.lease)

    async def send_now(self, rows: Sequence[Claimed]) -> bool:
        """Send rows written already held by this instance (a step's replies) at once, each in
        its chat's lane after what the chat already has in hand.

        True once every row is finished (sent, or failed for good); False as soon as one must
        wait (its chat is held by the platform, a passing fault, a shutdown): it still goes
        out, later, from this lane or from the table.
        """
        if not rows:
            return True
        if self._stopping or any(row.channel not in self.senders for row in rows):
            now = self.clock.now()
            ids = [row.id for row in rows]
            await self._write(
                partial(outbox.release, instance=self.instance, ids=ids, not_before=now)
            )
            return False
        watch = _Watch(len(rows), asyncio.get_running_loop().create_future())
        await self._place(rows, watch)
        return await watch.future

    async def close(self) -> None:
        """Stop a dispatcher that only sends what it is handed (no `serve`): sends in progress
        get a few seconds, the rest is given back."""
        await self._shutdown()

    def wake(self) -> None:
        """Claim now rather than at the next poll (an enqueuer in this process calls it)."""
        self._wake.set()

    async def serve(self, stop: asyncio.Event) -> None:
        """Claim and send until `stop` is set; then finish or give back what is held."""
        heartbeat = asyncio.create_task(self._heartbeat(), name="outbox-heartbeat")
        try:
            while not stop.is_set():
                self._wake.clear()
                if not await self._claim_round():
                    await self._nap(stop)
        finally:
            heartbeat.cancel()
            with suppress(asyncio.CancelledError):
                await heartbeat
            await self._shutdown()

    # ---- claiming ------------------------------------------------------------------------

    async def _claim_round(self) -> bool:
        """Claim what is due, as far as there is room; True when more may be waiting."""
        room = self.tuning.max_in_flight - len(self._rows)
        self._throttled = room <= 0
        if room <= 0:
            return False
        limit = min(self.tuning.batch, room)
        try:
            async with self.sessions() as session:
                claimed = await outbox.claim(
                    session,
                    self.instance,
                    self.clock.now(),
                    self.tuning.lease,
                    limit,
                    list(self.senders),
                )
                await session.commit()
        except Exception:
            log.exception("outbox: could not claim messages; trying again shortly")
            return False
        await self._place(claimed)
        return len(claimed) == limit

    async def _place(self, claimed: Sequence[Claimed], watch: _Watch | None = None) -> None:
        parked: dict[datetime, list[int]] = {}
        for item in claimed:
            if item.id in self._rows:  # ours already (a renewal came late): still in hand
                continue
            key = (item.channel, item.chat_id)
            lane = self._lanes.setdefault(key, _Lane(item.channel, item.chat_id))
            if lane.parked_wall and lane.parked_until > self.clock.time():  # it still waits
                parked.setdefault(lane.parked_wall, []).append(item.id)
                if watch is not None:
                    watch.settle(False)
                continue
            lane.parked_until, lane.parked_wall = 0.0, None
            sent_parts = int(item.payload.get(SENT_PARTS) or 0)
            sent_ids = list(item.platform_ids[:sent_parts])
            row = _Row(item, item.attempts, sent_parts, ids=sent_ids, watch=watch)
            if watch is not None and self.limiters[item.channel].held_for(item.chat_id) > 0:
                watch.settle(False)  # its chat waits for the platform: so will this row
            self._rows[item.id] = row
            heapq.heappush(lane.rows, row)
            if lane.task is None:
                lane.task = asyncio.create_task(self._drain(lane), name=f"outbox:{key}")
        for not_before, ids in parked.items():
            await self._write(
                partial(outbox.release, instance=self.instance, ids=ids, not_before=not_before)
            )

    async def _nap(self, stop: asyncio.Event) -> None:
        waits = [
            asyncio.create_task(stop.wait()),
            asyncio.create_task(self._wake.wait()),
            asyncio.create_task(self.clock.sleep(self.tuning.poll_seconds)),
        ]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
            await asyncio.gather(*waits, return_exceptions=True)

    async def _heartbeat(self) -> None:
        """Renew the lease of every row held (some wait long for their chat's turn)."""
        every = self.tuning.lease.total_seconds() / 3
        while True:
            await self.clock.sleep(every)
            ids = list(self._rows)
            until = self.clock.now() + self.tuning.lease
            if ids:
                await self._write(
                    partial(outbox.renew, instance=self.instance, ids=ids, lease_until=until)
                )
            for limiter in self.limiters.values():
                limiter.forget_idle()
            now = self.clock.time()
            for key in [k for k, lane in self._lanes.items() if _idle(lane, now)]:
                del self._lanes[key]

    # ---- sending -------------------------------------------------------------------------

    async def _drain(self, lane: _Lane) -> None:
        try:
            while lane.rows and not self._stopping:
                row = heapq.heappop(lane.rows)
                try:
                    finished = await self._send(lane, row)
                except Exception:  # our own fault: the row goes back, never stuck in memory
                    log.exception("outbox message %s could not be handled", row.claimed.id)
                    row.settle(False)
                    self._note(row, "internal error")
                    later = self.clock.now() + timedelta(seconds=self._backoff(row.attempts))
                    await self._write(partial(self._give_back, row=row, not_before=later))
                    finished = True
                lane.busy = False
                if not finished:
                    await self._park(lane, row)
                    return
                self._rows.pop(row.claimed.id, None)
                row.settle(True)
        finally:
            lane.task, lane.busy = None, False
            if not lane.rows and not lane.parked_until and not self._stopping:
                self._lanes.pop((lane.channel, lane.chat), None)
            if self._throttled and len(self._rows) <= self.tuning.max_in_flight // 2:
                self._wake.set()

    async def _send(self, lane: _Lane, row: _Row) -> bool:
        """Send every piece of `row`, then mark it; False when the chat must wait long."""
        sender, limiter = self.senders[lane.channel], self.limiters[lane.channel]
        if row.messages is None:
            payload = await self._with_edited_ids(lane, row)
            if payload is None:
                return True
            try:
                row.messages = list(await sender.prepare(lane.chat, payload))
            except Exception as exc:
                log.exception("outbox message %s cannot be rendered", row.claimed.id)
                await self._failed(lane, row, f"{type(exc).__name__}: {exc}", gone=False)
                return True
        group = sender.is_group(lane.chat)
        while row.sent_parts < len(row.messages):
            lane.busy = False  # waiting for its turn: a shutdown may stop it here
            if limiter.held_for(lane.chat) > self.tuning.max_hold:
                return False
            permit = await limiter.acquire(lane.chat, group, answer=row.claimed.kind == REPLY)
            lane.busy = True  # on its way, then marked: a shutdown lets it finish
            try:
                outcome = await sender.send(lane.chat, row.messages[row.sent_parts])
            except Exception as exc:  # a sender's bug: never retried in a loop
                log.exception("outbox sender for %s failed", lane.channel)
                outcome = Refused(f"{type(exc).__name__}: {exc}")
            finally:
                limiter.done(permit)
            if not await self._after(lane, row, outcome):
                return True
        if row.claimed.kind == REPLY and REPLY not in self.on_settled:
            # The answer is out: whoever waits for it goes on, and the mark joins the next
            # batch (until it commits the row stays `sending`, in flight, under its lease).
            self._queue_mark(row)
            return True
        await self._queue_mark(row)
        await self._settled(row.claimed)
        return True

    async def _with_edited_ids(self, lane: _Lane, row: _Row) -> dict[str, Any] | None:
        """The row's payload, with the platform's ids of the messages it edits when it names a
        row to edit (outbox.EDITS); None when it cannot be sent now: given back until that row
        is sent, or failed when that row never will be."""
        payload = row.claimed.payload
        key = payload.get(outbox.EDITS)
        if not isinstance(key, str):
            return payload
        async with self.sessions() as session:
            target = await outbox.sent_as(session, key)
        if target is not None and target.state == outbox.SENT and any(target.platform_ids):
            ids = list(target.platform_ids)
            return {**payload, outbox.EDIT_IDS: ids, outbox.EDIT_FILES: target.files}
        if target is None or target.state == outbox.FAILED or target.state == outbox.SENT:
            # Nothing to edit: never delivered, or sent before its ids were kept.
            await self._failed(lane, row, f"the message to edit ({key}) is not there", gone=False)
            return None
        self._note(row, f"waiting for {key} to be sent")
        later = self.clock.now() + timedelta(seconds=self._backoff(row.attempts))
        await self._write(partial(self._give_back, row=row, not_before=later))
        return None

    async def _settled(self, claimed: Claimed) -> None:
        hook = self.on_settled.get(claimed.kind)
        if hook is not None:
            await self._write(partial(hook, claimed, self.clock.now()))

    async def _after(self, lane: _Lane, row: _Row, outcome: Outcome) -> bool:
        """Act on one answer; False when the row is finished (failed) and nothing follows."""
        limiter = self.limiters[lane.channel]
        match outcome:
            case Delivered(message_id):
                row.ids.append(message_id)
                row.sent_parts += 1
                row.tried = True  # a split message keeps what already went out
            case Flooded(seconds, reason):
                row.settle(False)
                self._note(row, reason)
                limiter.hold(lane.chat, seconds)
                log.info("outbox: %s chat %s waits %.0fs", lane.channel, lane.chat, seconds)
            case Passing(reason):
                row.settle(False)
                self._note(row, reason)
                pause = self._backoff(row.attempts)
                limiter.hold(lane.chat, pause)
                log.info(
                    "outbox: %s chat %s: %s; again in %.1fs", lane.channel, lane.chat, reason, pause
                )
            case Gone(reason):
                await self._failed(lane, row, reason, gone=True)
                return False
            case Refused(reason):
                await self._failed(lane, row, reason, gone=False)
                return False
        return True

    def _note(self, row: _Row, reason: str) -> None:
        row.attempts += 1
        row.error, row.tried = reason, True

    def _backoff(self, attempts: int) -> float:
        first, most = self.tuning.backoff_first, self.tuning.backoff_max
        pause = min(most, first * 2 ** max(0, attempts - 1))
        return pause * (0.8 + 0.4 * random.random())  # spread: chats do not retry in step

    async def _failed(self, lane: _Lane, row: _Row, reason: str, *, gone: bool) -> None:
        log.warning(
            "outbox message %s to %s chat %s failed: %s",
            row.claimed.id,
            lane.channel,
            lane.chat,
            reason,
        )

        async def mark(session: AsyncSession) -> object:
            attempts = row.attempts + 1
            done = await outbox.mark_failed(
                session, row.claimed.id, self.instance, reason, attempts
            )
            if gone and done:  # a private chat's id is its person's id on that messenger
                await people.mark_unreachable(session, lane.channel, lane.chat)
            return done

        await self._write(mark, fenced=row.claimed.id)
        await self._settled(row.claimed)

    async def _park(self, lane: _Lane, row: _Row) -> None:
        """The chat must wait long: its rows go back to the table until then."""
        wait = self.limiters[lane.channel].held_for(lane.chat)
        lane.parked_until = self.clock.time() + wait
        not_before = lane.parked_wall = self.clock.now() + timedelta(seconds=wait)
        rest, lane.rows = [r.claimed.id for r in lane.rows], []
        log.info(
            "outbox: %s chat %s waits %.0fs; its %d messages wait in the table",
            lane.channel,
            lane.chat,
            wait,
            len(rest) + 1,
        )
        await self._write(lambda s: self._give_back(s, row, not_before))
        await self._write(lambda s: outbox.release(s, self.instance, rest, not_before))
        for row_id in (row.claimed.id, *rest):
            if (held := self._rows.pop(row_id, None)) is not None:
                held.settle(False)

    # ---- stopping ------------------------------------------------------------------------

    async def _shutdown(self) -> None:
        """Stop sending: sends in progress get `grace` seconds, the rest is given back."""
        self._stopping = True
        tasks = [lane.task for lane in self._lanes.values() if lane.task is not None]
        for lane in self._lanes.values():
            if lane.task is not None and not lane.busy:
                lane.task.cancel()  # waiting for its turn: nothing is on its way
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=self.tuning.grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._flush_marks()
        held = list(self._rows.values())
        for row in held:
            row.settle(False)
        if held:
            log.info("outbox: %d messages given back at shutdown", len(held))
        now = self.clock.now()
        plain: dict[datetime, list[int]] = {}
        for row in held:
            wait = self.limiters[row.claimed.channel].held_for(row.claimed.chat_id)
            not_before = now + timedelta(seconds=math.ceil(wait))
            if row.tried:  # with its attempts and the pieces already sent
                await self._write(partial(self._give_back, row=row, not_before=not_before))
            else:
                plain.setdefault(not_before, []).append(row.claimed.id)
        for not_before, ids in plain.items():
            await self._write(
                partial(outbox.release, instance=self.instance, ids=ids, not_before=not_before)
            )
        self._rows.clear()
        self._lanes.clear()

    async def _give_back(self, session: AsyncSession, row: _Row, not_before: datetime) -> bool:
        return await outbox.retry_later(
            session,
            row.claimed.id,
            self.instance,
            not_before,
            row.error,
            row.attempts,
            row.sent_parts,
            row.claimed.payload,
            row.ids,
        )

    # ---- the database ------------------------------------------------------------------

    def _queue_mark(self, row: _Row) -> asyncio.Future[None]:
        """Mark `row` sent in the next batch; the future is done once that committed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._marks.append((row, done))
        if self._marker is None or self._marker.done():
            self._marker = asyncio.create_task(self._mark_batches(), name="outbox-marks")
        return done

    async def _mark_batches(self) -> None:
        """Commit the marks that gathered meanwhile, one statement for all of them. Under load
        a write waits its turn (SQLite has one writer), so the busier, the more marks share
        one write; answers do not wait for their mark."""
        while self._marks:
            batch, self._marks = self._marks, []
            now = self.clock.now()
            marks = [outbox.SentMark(r.claimed.id, r.attempts, r.ids) for r, _ in batch]
            lost = await self._write(
                partial(outbox.mark_sent_many, instance=self.instance, now=now, marks=marks)
            )
            for row_id in lost or ():
                log.warning(
                    "outbox message %s was no longer held by %s (lease ran out)",
                    row_id,
                    self.instance,
                )
            for _, done in batch:
                if not done.done():
                    done.set_result(None)

    async def _flush_marks(self) -> None:
        """Wait until every mark queued so far is committed (or given up to its lease)."""
        while self._marker is not None and not self._marker.done():
            await asyncio.shield(self._marker)

    async def _write(
        self, change: Callable[[AsyncSession], Awaitable[Any]], fenced: int | None = None
    ) -> Any:
        """One short transaction; tried three times, then left to the lease (logged, None)."""
        for attempt in range(1, 4):
            try:
                async with self.sessions() as session:
                    result = await change(session)
                    await session.commit()
            except Exception:
                if attempt == 3:
                    log.exception("outbox: a change could not be written; the lease will tell")
                    return None
                await asyncio.sleep(0.05 * attempt)
                continue
            if fenced is not None and result is False:
                log.warning(
                    "outbox message %s was no longer held by %s (lease ran out)",
                    fenced,
                    self.instance,
                )
            return result
        return None


def _idle(lane: _Lane, now: float) -> bool:
    return lane.task is None and not lane.rows and lane.parked_until <= now
