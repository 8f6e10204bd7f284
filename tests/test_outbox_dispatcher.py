"""Messages the bot decides to send leave through the outbox: once, at each platform's pace.

Every story runs the real dispatcher, the real channel adapters (as `tiendo run` builds them)
and the fake Bot API / Zalo servers on 127.0.0.1. Where a story is about waiting (a 30 s
retry_after, 20 messages a minute) the dispatcher and the fake server share a clock that runs
faster than real time, so a minute passes in a second; the limits are checked by the fake
server itself, on the arrivals it saw.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import open_app
from bot.channels.files import FileLinks
from bot.channels.telegram_service import TelegramService
from bot.channels.zalo_service import ZaloService
from bot.commands.run import channel_limits
from bot.config import Settings, load_settings
from bot.handler_config import handler_config
from handlers import notices
from handlers.dispatcher import Dispatcher
from handlers.events import Reply
from scheduler.outbox_dispatcher import REPLY, OutboxDispatcher, Tuning
from scheduler.rate_limit import TELEGRAM, ZALO, ChannelLimits, RateLimiter
from storage.db import create_engine, session_factory, session_scope
from storage.models import ChannelIdentity, OutboxMessage, Person
from storage.repositories import outbox, people
from tests.fake_telegram import TOKEN, Enforced, FakeTelegram
from tests.fake_zalo import TOKEN as ZALO_TOKEN
from tests.fake_zalo import FakeZalo
from tests.test_telegram_crash import start_bot
from tests.test_zalo_journey import env_for, free_port

Fake = Any  # FakeTelegram or FakeZalo: both keep what they sent per chat and have a Gate
# Long enough that no lease runs out under a slow machine, even on a fast clock.
PATIENT = Tuning(lease=timedelta(hours=1), poll_seconds=1.0)


class FastClock:
    """Real time, `speed` times faster: for the dispatcher and the fake server alike."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self._start = time.monotonic()
        self._wall = datetime.now(UTC)

    def time(self) -> float:
        return (time.monotonic() - self._start) * self.speed

    def now(self) -> datetime:
        return self._wall + timedelta(seconds=self.time())

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)


async def decide(
    session: AsyncSession,
    channel: str,
    chat: str | int,
    text_: str,
    key: str,
    now: datetime,
    kind: str = "notice",
) -> None:
    """A message the bot decided to send, written to the outbox as `notify` writes one."""
    payload = notices.payload(Reply(text_))
    await outbox.enqueue(
        session, key=key, channel=channel, chat_id=str(chat), kind=kind, payload=payload, now=now
    )


@dataclass
class Running:
    fake: Fake
    sessions: async_sessionmaker[AsyncSession]
    dispatcher: OutboxDispatcher
    clock: Any
    channel: str
    settings: Settings
    keys: list[str] = field(default_factory=list)

    async def enqueue(self, chat: str | int, text_: str, key: str | None = None) -> None:
        key = key or f"test:{len(self.keys)}"
        self.keys.append(key)
        async with session_scope(self.sessions) as session:
            await decide(session, self.channel, chat, text_, key, self.clock.now())
        self.dispatcher.wake()

    async def enqueue_many(self, messages: dict[int, str]) -> None:
        """Many messages decided at once (a broadcast), in one transaction."""
        async with session_scope(self.sessions) as session:
            for chat, text_ in messages.items():
                key, now = f"broadcast:1:{chat}", self.clock.now()
                await decide(session, self.channel, chat, text_, key, now, "broadcast")

    async def settled(self, count: int, timeout: float = 20) -> list[OutboxMessage]:
        """Wait until `count` rows are sent or failed; all rows, oldest first."""
        return await settled(self.sessions, count, timeout)


async def settled(
    sessions: async_sessionmaker[AsyncSession], count: int, timeout: float = 20
) -> list[OutboxMessage]:
    deadline = time.monotonic() + timeout
    while True:
        async with sessions() as session:
            rows = list((await session.scalars(select(OutboxMessage).order_by("id"))).all())
        done = [r for r in rows if r.state in ("sent", "failed")]
        if len(done) >= count:
            return rows
        if time.monotonic() > deadline:
            states = [(r.chat_id, r.state, r.last_error) for r in rows]
            raise AssertionError(f"waited for {count} settled messages: {states}")
        await asyncio.sleep(0.02)


def settings_for(channel: str, fake: Fake, db_url: str, data: Path) -> Settings:
    if channel == "telegram":
        return load_settings(
            database_url=db_url,
            telegram_bot_token=TOKEN,
            telegram_api_base_url=fake.url,
            data_dir=data,
        )
    return load_settings(
        database_url=db_url, zalo_bot_token=ZALO_TOKEN, zalo_api_base_url=fake.url, data_dir=data
    )


@asynccontextmanager
async def started_fake(channel: str) -> AsyncIterator[Fake]:
    fake = FakeTelegram() if channel == "telegram" else FakeZalo()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@asynccontextmanager
async def dispatching(
    channel: str,
    fake: Fake,
    db_url: str,
    data: Path,
    clock: Any = None,
    tuning: Tuning = PATIENT,
    limits: ChannelLimits | None = None,
    instance: str = "test-1",
) -> AsyncIterator[Running]:
    """The channel as `tiendo run` opens it, and an outbox dispatcher sending through it."""
    clock = clock or FastClock(1.0)
    fake.gate.clock = clock.time
    settings = settings_for(channel, fake, db_url, data)
    async with open_app(settings) as app:
        handlers = Dispatcher(app.sessions, handler_config(settings))
        links = FileLinks.from_settings(settings)
        service: TelegramService | ZaloService = (
            TelegramService(settings, handlers, links)
            if channel == "telegram"
            else ZaloService(settings, handlers, links)
        )
        await service.open()
        paces = channel_limits(settings)
        if limits is not None:
            paces[channel] = limits
        senders = {channel: service.outbox_sender()}
        dispatcher = OutboxDispatcher(app.sessions, senders, paces, instance, clock, tuning)
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.serve(stop))
        try:
            yield Running(fake, app.sessions, dispatcher, clock, channel, settings)
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
            await service.close()


async def officer(
    sessions: async_sessionmaker[AsyncSession], channel: str, user: str, name: str
) -> Person:
    async with session_scope(sessions) as session:
        return await people.create(
            session,
            channel=channel,
            external_id=user,
            chat_id=user,
            name=name,
            role="officer",
            unit_id=None,
            language="vi",
            now=datetime.now(UTC),
        )


def arrivals(fake: Fake, chat: str | int) -> list[float]:
    return list(fake.gate.arrivals.get(str(chat), []))


def texts(fake: Fake, chat: str | int) -> list[str]:
    return [sent.text for sent in fake.to(chat)]


CHANNELS = ["telegram", "zalo"]
A, B, C = ("5550001", "5550002", "5550003")


# ---- once -------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_notice_decided_twice_is_sent_once(
    channel: str, tmp_path: Path, db_url: str
) -> None:
    async with started_fake(channel) as fake, dispatching(channel, fake, db_url, tmp_path) as bot:
        person = await officer(bot.sessions, channel, A, "Nguyễn Văn An")
        for _ in range(2):  # decided twice (or on two instances): one row
            async with session_scope(bot.sessions) as session:
                told = await notices.notify(
                    session,
                    person,
                    "extension:7:decided",
                    lambda lang: Reply("Đề nghị gia hạn nhiệm vụ VII.3 đã được chấp thuận."),
                    bot.clock.now(),
                )
                assert told == 1
            bot.dispatcher.wake()

        rows = await bot.settled(1)
        await fake.wait_sent(A, 1)
        await asyncio.sleep(0.2)  # nothing more comes
        assert texts(fake, A) == ["Đề nghị gia hạn nhiệm vụ VII.3 đã được chấp thuận."]
        assert [(r.state, r.attempts, r.claimed_by) for r in rows] == [("sent", 0, "test-1")]
        assert rows[0].sent_at is not None


async def test_an_answer_goes_on_before_its_mark_is_written(tmp_path: Path, db_url: str) -> None:
    """A step's answer is out once the platform confirmed it: whoever waits for it goes on
    while the mark waits for the database, and the row is `sending` (in flight) until then."""
    async with (
        started_fake("telegram") as fake,
        dispatching("telegram", fake, db_url, tmp_path) as bot,
    ):
        draft = outbox.Draft(
            "reply:telegram:u1:0", "telegram", A, REPLY, notices.payload(Reply("Đã nhận"))
        )
        async with session_scope(bot.sessions) as session:
            rows = await outbox.add_claimed(
                session, [draft], bot.dispatcher.holder, bot.clock.now()
            )
        blocker = create_engine(db_url)
        try:
            async with blocker.begin() as hold:  # another writer holds the row until it ends
                await hold.execute(
                    text("UPDATE outbox SET id = id WHERE id = :id"), {"id": rows[0].id}
                )
                assert await asyncio.wait_for(bot.dispatcher.send_now(rows), 10)
                assert texts(fake, A) == ["Đã nhận"]
                async with bot.sessions() as session:
                    assert await session.scalar(select(OutboxMessage.state)) == "sending"
        finally:
            await blocker.dispose()
        [row] = await bot.settled(1)
    assert (row.state, row.claimed_by) == ("sent", "test-1")


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_long_notice_is_split_as_its_channel_requires(
    channel: str, tmp_path: Path, sqlite_url: str
) -> None:
    """The same rendering as the dialogs' answers: Telegram's 4,096, Zalo's 2,000."""
    lines = [f"Dòng {n}: nhiệm vụ chuyển đổi số đang thực hiện trong hạn." for n in range(90)]
    long_text = "\n".join(lines)  # about 5,000 characters
    speedy = ChannelLimits(1000, 0.0)
    async with (
        started_fake(channel) as fake,
        dispatching(channel, fake, sqlite_url, tmp_path, limits=speedy) as bot,
    ):
        await bot.enqueue(A, long_text)
        await bot.settled(1)
        pieces = texts(fake, A)
    assert len(pieces) == (2 if channel == "telegram" else 3)
    assert "\n".join(pieces) == long_text


# ---- a chat told to wait ----------------------------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_429_with_retry_after_30_holds_that_chat_only(
    channel: str, tmp_path: Path, sqlite_url: str
) -> None:
    clock = FastClock(30)  # 30 s in one real second
    async with (
        started_fake(channel) as fake,
        dispatching(channel, fake, sqlite_url, tmp_path, clock) as bot,
    ):
        fake.gate.flood(A, 30)
        for chat in (A, B, C):
            await bot.enqueue(chat, f"Thông báo cho {chat}")
        rows = await bot.settled(3)

    [refusal] = fake.gate.refused  # asked once, and never again before the 30 s were over
    assert (refusal.chat_id, refusal.retry_after, refusal.why) == (A, 30, "flood")
    assert [texts(fake, chat) for chat in (A, B, C)] == [[f"Thông báo cho {c}"] for c in (A, B, C)]
    assert arrivals(fake, A)[0] >= refusal.at + 30
    # The others did not wait for A.
    assert max(arrivals(fake, B) + arrivals(fake, C)) < refusal.at + 30
    assert [(r.chat_id, r.state, r.attempts) for r in rows] == [
        (A, "sent", 1),
        (B, "sent", 0),
        (C, "sent", 0),
    ]


async def test_a_wait_longer_than_memory_keeps_the_message_in_the_table(
    tmp_path: Path, sqlite_url: str
) -> None:
    """A chat told to wait long gives its messages back to the outbox (any live instance may
    send them when the wait is over); they are sent then, in their order, once each, and a
    message split in two is not sent again from its first half."""
    clock = FastClock(10)
    tuning = Tuning(lease=timedelta(hours=1), poll_seconds=1.0, max_hold=10.0)
    halves = ["Phần đầu. " * 300, "Phần sau. " * 300]  # 3,000 characters each
    async with (
        started_fake("telegram") as fake,
        dispatching("telegram", fake, sqlite_url, tmp_path, clock, tuning) as bot,
    ):
        fake.gate.flood(A, 30, after=1)  # the second half is refused
        await bot.enqueue(A, "\n".join(halves))
        await bot.enqueue(A, "Thông báo thứ hai")
        waiting = await pending_rows(bot.sessions, 2)
        rows = await bot.settled(2)

    first, second = waiting
    assert (first.attempts, first.payload["sent_parts"]) == (1, 1)
    assert "30" in first.last_error
    assert first.not_before >= first.created_at + timedelta(seconds=29)
    assert second.not_before == first.not_before and second.attempts == 0
    assert [t.strip() for t in texts(fake, A)] == [
        *(h.strip() for h in halves),
        "Thông báo thứ hai",
    ]
    assert len(fake.gate.refused) == 1
    assert [(r.state, r.attempts) for r in rows] == [("sent", 1), ("sent", 0)]


async def pending_rows(
    sessions: async_sessionmaker[AsyncSession], count: int, timeout: float = 10
) -> list[OutboxMessage]:
    """The rows once `count` of them are back to pending after having been tried."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with sessions() as session:
            rows = list((await session.scalars(select(OutboxMessage).order_by("id"))).all())
        back = [r for r in rows if r.state == "pending" and r.claimed_by is None]
        if len(back) == count and any(r.attempts for r in back):
            return back
        await asyncio.sleep(0.01)
    raise AssertionError("the messages never went back to the table")


async def test_zalo_saying_the_quota_is_exceeded_is_a_reason_to_wait(
    tmp_path: Path, sqlite_url: str
) -> None:
    clock = FastClock(30)
    async with (
        started_fake("zalo") as fake,
        dispatching("zalo", fake, sqlite_url, tmp_path, clock) as bot,
    ):
        fake.fail_next("sendMessage", 403, "Daily quota exceeded", chat_id=A, retry_after=20)
        started = clock.time()
        await bot.enqueue(A, "Nhắc báo cáo tháng")
        [row] = await bot.settled(1)
    assert texts(fake, A) == ["Nhắc báo cáo tháng"]
    assert arrivals(fake, A)[0] >= started + 20
    assert (row.state, row.attempts) == ("sent", 1)


# ---- the platform's pace ----------------------------------------------------------------


async def test_25_messages_to_one_group_go_out_at_no_more_than_20_a_minute(
    tmp_path: Path, sqlite_url: str
) -> None:
    clock = FastClock(60)  # a minute in a second
    group = "-1001234567890"
    async with started_fake("telegram") as fake:
        fake.gate.limits = Enforced(per_second=30, chat_seconds=1.0, group_per_minute=20)
        async with dispatching("telegram", fake, sqlite_url, tmp_path, clock) as bot:
            for n in range(1, 26):
                await bot.enqueue(group, f"Tin số {n} cho nhóm")
            await bot.settled(25, timeout=30)

    came = arrivals(fake, group)
    assert texts(fake, group) == [f"Tin số {n} cho nhóm" for n in range(1, 26)]
    assert fake.gate.refused == []  # never over the limit, so never told to wait
    assert all(came[k + 20] - came[k] >= 60 for k in range(len(came) - 20))
    # Evenly paced from the first message on: no burst at start-up.
    assert all(came[k + 2] - came[k] >= 3 for k in range(len(came) - 2))


async def test_a_transient_fault_is_retried_with_back_off(tmp_path: Path, sqlite_url: str) -> None:
    clock = FastClock(20)
    async with (
        started_fake("zalo") as fake,
        dispatching("zalo", fake, sqlite_url, tmp_path, clock) as bot,
    ):
        fake.fail_next_raw("sendMessage", chat_id=A)
        fake.fail_next_raw("sendMessage", chat_id=A)
        fake.fail_next_raw("sendMessage", chat_id=A)
        await bot.enqueue(A, "Nhắc hạn nhiệm vụ VII.3")
        await bot.enqueue(B, "Nhắc hạn nhiệm vụ VII.4")
        rows = await bot.settled(2)
    assert texts(fake, A) == ["Nhắc hạn nhiệm vụ VII.3"]
    assert texts(fake, B) == ["Nhắc hạn nhiệm vụ VII.4"]
    assert [(r.state, r.attempts) for r in rows] == [("sent", 3), ("sent", 0)]
    # Three pauses growing from 1 s (each ±20%): at least 0.8 + 1.6 + 3.2 s before it went.
    assert arrivals(fake, A)[0] - arrivals(fake, B)[0] >= 5.6 - 1


# ---- a chat that is gone ----------------------------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_blocked_chat_is_failed_and_its_person_unreachable(
    channel: str, tmp_path: Path, sqlite_url: str
) -> None:
    async with (
        started_fake(channel) as fake,
        dispatching(channel, fake, sqlite_url, tmp_path) as bot,
    ):
        blocked = await officer(bot.sessions, channel, A, "Trần Thị Bình")
        other = await officer(bot.sessions, channel, B, "Lê Văn Cường")
        fake.blocked.add(A)
        for person in (blocked, other):
            async with session_scope(bot.sessions) as session:
                await notices.notify(
                    session,
                    person,
                    "import:1",
                    lambda lang: Reply("Nhập kế hoạch đã xong: 103 nhiệm vụ."),
                    bot.clock.now(),
                )
            bot.dispatcher.wake()
        rows = await bot.settled(2)
        async with bot.sessions() as session:
            reachable = dict(
                (
                    await session.execute(
                        select(ChannelIdentity.external_id, ChannelIdentity.reachable)
                    )
                ).all()
            )
            told_again = await notices.notify(
                session, blocked, "import:2", lambda lang: Reply("x"), bot.clock.now()
            )

    failed, sent = rows
    assert (failed.chat_id, failed.state) == (A, "failed")
    assert "blocked" in failed.last_error
    assert (sent.chat_id, sent.state) == (B, "sent") and len(texts(fake, B)) == 1
    assert texts(fake, A) == []
    assert reachable == {A: False, B: True}
    assert told_again == 0  # nobody writes to that chat any more


# ---- leases, instances, shutdown --------------------------------------------------------


START = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


@asynccontextmanager
async def decided(db_url: str, count: int) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A database holding `count` notices decided at START, to chats 0, 1, …"""
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    try:
        async with session_scope(sessions) as session:
            for n in range(count):
                await decide(session, "telegram", n, f"tin {n}", f"k{n}", START)
        yield sessions
    finally:
        await engine.dispose()


async def test_an_expired_lease_returns_the_rows(db_url: str) -> None:
    start, lease = START, LEASE
    async with decided(db_url, 3) as sessions:

        async def claim(instance: str, at: datetime) -> list[int]:
            async with session_scope(sessions) as session:
                rows = await outbox.claim(session, instance, at, lease, 10)
            return [row.id for row in rows]

        taken = await claim("crashed", start)
        assert len(taken) == 3
        assert await claim("alive", start + timedelta(seconds=10)) == []  # still leased
        assert await claim("alive", start + timedelta(seconds=31)) == taken  # the lease ran out
        async with session_scope(sessions) as session:  # the crashed one cannot mark them
            assert not await outbox.mark_sent(session, taken[0], "crashed", start)
            assert await outbox.mark_sent(session, taken[0], "alive", start)
            assert await outbox.release(session, "alive", taken[1:], start) == 2
        assert await claim("later", start + timedelta(seconds=32)) == taken[1:]


async def test_many_marks_are_one_write_and_skip_rows_taken_over(db_url: str) -> None:
    start, lease = START, LEASE
    async with decided(db_url, 4) as sessions:
        async with session_scope(sessions) as session:
            ids = [row.id for row in await outbox.claim(session, "crashed", start, lease, 10)]
        later = start + timedelta(seconds=31)
        async with session_scope(sessions) as session:  # the lease ran out: taken over
            assert [r.id for r in await outbox.claim(session, "alive", later, lease, 10)] == ids
            await outbox.release(session, "alive", ids[3:], later)  # one given back

        marks = [outbox.SentMark(ids[0], 2, ["m-0"]), *map(outbox.SentMark, ids[1:])]
        async with session_scope(sessions) as session:
            lost = await outbox.mark_sent_many(session, "crashed", later, marks)
        assert lost == ids  # the crashed instance holds none of them any more
        async with session_scope(sessions) as session:
            lost = await outbox.mark_sent_many(session, "alive", later, marks)
        assert lost == ids[3:]  # given back: not this instance's to mark

        async with sessions() as session:
            rows = (await session.scalars(select(OutboxMessage).order_by("id"))).all()
        assert [row.state for row in rows] == ["sent", "sent", "sent", "pending"]
        assert (rows[0].attempts, rows[0].platform_ids, rows[1].platform_ids) == (2, ["m-0"], None)


async def test_two_dispatchers_on_one_database_send_nothing_twice(
    tmp_path: Path, db_url: str
) -> None:
    recipients = 300
    fast = ChannelLimits(per_second=2000, chat_seconds=0.0, headroom=1.0)
    small = Tuning(lease=timedelta(hours=1), poll_seconds=0.05, batch=10, max_in_flight=40)
    async with (
        started_fake("telegram") as fake,
        dispatching("telegram", fake, db_url, tmp_path / "a", None, small, fast, "one") as a,
        dispatching("telegram", fake, db_url, tmp_path / "b", None, small, fast, "two") as b,
    ):
        await a.enqueue_many({8_000_000 + n: f"Thông báo số {n}" for n in range(recipients)})
        a.dispatcher.wake()
        b.dispatcher.wake()
        rows = await a.settled(recipients, timeout=60)

    per_chat = {chat: texts(fake, chat) for chat in range(8_000_000, 8_000_000 + recipients)}
    assert [chat for chat, got in per_chat.items() if len(got) != 1] == []
    assert len(fake.sent) == recipients
    assert {r.state for r in rows} == {"sent"}
    by = {name: sum(r.claimed_by == name for r in rows) for name in ("one", "two")}
    print(f"sent by each dispatcher: {by}")


async def test_shutdown_gives_back_what_is_in_flight(tmp_path: Path, sqlite_url: str) -> None:
    quick = Tuning(lease=timedelta(hours=1), grace=0.3)
    async with started_fake("telegram") as fake:
        fake.hold_sends.clear()  # the platform is slow to answer
        async with dispatching("telegram", fake, sqlite_url, tmp_path, tuning=quick) as bot:
            for chat in (A, B):
                await bot.enqueue(chat, f"Thông báo cho {chat}")
            await asyncio.wait_for(fake.send_started.wait(), 10)
        # The dispatcher stopped within its grace: both messages are back in line.
        engine = create_engine(sqlite_url)
        async with session_factory(engine)() as session:
            rows = (await session.scalars(select(OutboxMessage).order_by("id"))).all()
            assert [(r.state, r.claimed_by) for r in rows] == [("pending", None)] * 2
        await engine.dispose()
        fake.hold_sends.set()

        async with dispatching("telegram", fake, sqlite_url, tmp_path, instance="next") as bot:
            bot.dispatcher.wake()
            rows = await bot.settled(2)
        assert [texts(fake, chat) for chat in (A, B)] == [[f"Thông báo cho {c}"] for c in (A, B)]


async def test_no_transaction_is_open_while_a_message_travels(tmp_path: Path, db_url: str) -> None:
    async with started_fake("telegram") as fake:
        fake.hold_sends.clear()
        async with dispatching("telegram", fake, db_url, tmp_path) as bot:
            await bot.enqueue(A, "Thông báo")
            await asyncio.wait_for(fake.send_started.wait(), 10)
            # Another connection writes the very row being sent, and does not wait for it.
            await write_without_waiting(db_url)
            fake.hold_sends.set()
            [row] = await bot.settled(1)
    assert row.state == "sent" and texts(fake, A) == ["Thông báo"]


async def write_without_waiting(db_url: str) -> None:
    sqlite = db_url.startswith("sqlite")
    engine = create_engine(db_url + ("?timeout=0.5" if sqlite else ""))
    try:
        async with engine.begin() as connection:
            if not sqlite:
                await connection.execute(text("SET LOCAL lock_timeout = '500ms'"))
            await connection.execute(text("UPDATE outbox SET last_error = last_error"))
    finally:
        await engine.dispose()


# ---- the pace itself, on a clock that only moves when someone waits ---------------------


class StepClock:
    """Time that passes only by sleeping: one waiter at a time, exact to the microsecond."""

    def __init__(self) -> None:
        self.at = 0.0

    def time(self) -> float:
        return self.at

    def now(self) -> datetime:
        return datetime(2026, 11, 25, 2, 0, tzinfo=UTC) + timedelta(seconds=self.at)

    async def sleep(self, seconds: float) -> None:
        self.at += max(0.0, seconds)


async def grants(limiter: RateLimiter, chats: list[str], group: bool = False) -> list[float]:
    """When each send was allowed, each answered at once."""
    times = []
    for chat in chats:
        permit = await limiter.acquire(chat, group)
        limiter.done(permit)
        times.append(permit.granted_at)
    return times


async def test_the_pace_in_all_is_just_under_30_a_second_from_the_first_message() -> None:
    clock = StepClock()
    times = await grants(RateLimiter(TELEGRAM, clock), [str(n) for n in range(300)])
    assert all(times[k + 30] - times[k] >= 1.0 for k in range(len(times) - 30))
    assert all(b - a >= 1 / 30 for a, b in pairwise(times[:31]))  # no burst at the start
    assert 300 / times[-1] >= 28  # just under: no slower than that either


async def test_a_chat_told_to_wait_30_seconds_waits_and_the_others_do_not() -> None:
    clock = StepClock()
    limiter = RateLimiter(ZALO, clock)
    limiter.hold("A", 30)
    assert limiter.held_for("A") == 30
    [b, c] = await grants(limiter, ["B", "C"])
    [a] = await grants(limiter, ["A"])
    assert b < 1 and c < 1 and a >= 30
    assert limiter.held_for("A") == 0
    # One chat, one message a second; a group on Telegram, 20 a minute.
    assert all(y - x >= 1 for x, y in pairwise(await grants(limiter, ["A"] * 5)))
    group = await grants(RateLimiter(TELEGRAM, clock), ["-100"] * 45, group=True)
    assert all(group[k + 20] - group[k] >= 60 for k in range(len(group) - 20))


# ---- tiendo run -------------------------------------------------------------------------


async def test_tiendo_run_sends_the_outbox_on_both_messengers_and_stops_promptly(
    tmp_path: Path, sqlite_url: str
) -> None:
    telegram, zalo = FakeTelegram(), FakeZalo()
    await telegram.start()
    await zalo.start()
    env = env_for(
        sqlite_url,
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=telegram.url,
        ZALO_BOT_TOKEN=ZALO_TOKEN,
        ZALO_API_BASE_URL=zalo.url,
        HTTP_PORT=str(free_port()),
    )
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    decided = {"telegram": A, "zalo": "e4ea2cd5189df1c3a88c"}
    try:
        for channel, chat in decided.items():  # decided before the bot starts
            await enqueue_one(sessions, channel, chat, f"Thông báo qua {channel}")
        bot = await start_bot(env)
        try:
            await telegram.wait_sent(int(A), 1, timeout=30)
            await zalo.wait_sent(decided["zalo"], 1, timeout=30)
            await enqueue_one(sessions, "telegram", B, "Thông báo sau")  # while it runs
            arrived = await telegram.wait_sent(int(B), 1, timeout=30)
        except AssertionError:
            arrived = []
        bot.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(bot.communicate(), 30)
        assert bot.returncode == 0 and arrived, err.decode()
        rows = await settled(sessions, 3)
        assert [(r.chat_id, r.state) for r in rows] == [
            (A, "sent"),
            ("e4ea2cd5189df1c3a88c", "sent"),
            (B, "sent"),
        ]
        assert texts(telegram, A) == ["Thông báo qua telegram"]
        assert texts(zalo, decided["zalo"]) == ["Thông báo qua zalo"]
    finally:
        await engine.dispose()
        await telegram.stop()
        await zalo.stop()


async def enqueue_one(
    sessions: async_sessionmaker[AsyncSession], channel: str, chat: str, text_: str
) -> None:
    async with session_scope(sessions) as session:
        await decide(session, channel, chat, text_, f"run:{channel}:{chat}", datetime.now(UTC))
