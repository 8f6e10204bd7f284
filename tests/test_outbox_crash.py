"""A fan-out survives its dispatcher being killed, and two dispatcher processes share one
outbox without sending anything twice.

1,000 messages are decided at once; the fake Bot API holds the bot to its limits (a faster
pace than Telegram's, so that the story takes seconds). A dispatcher process is killed with
SIGKILL a third of the way through and another is started: every message arrives, and the
duplicates are no more than the rows the dead process had in flight. Then two processes on
one PostgreSQL database, side by side: not one duplicate.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from handlers import notices
from handlers.events import Reply
from storage.db import create_engine, session_factory, session_scope
from storage.models import OutboxMessage
from storage.repositories import outbox
from tests.fake_telegram import Enforced, FakeTelegram

RECIPIENTS = 1000
FIRST_CHAT = 7_000_000
RATE = 300  # messages per second the dispatchers keep to (the fake allows 330)


async def decide_fanout(url: str) -> None:
    engine = create_engine(url)
    now = datetime.now(UTC)
    try:
        async with session_scope(session_factory(engine)) as session:
            for n in range(RECIPIENTS):
                await outbox.enqueue(
                    session,
                    key=f"broadcast:crash:{n}",
                    channel="telegram",
                    chat_id=str(FIRST_CHAT + n),
                    kind="broadcast",
                    payload=notices.payload(Reply(f"Thông báo số {n}")),
                    now=now,
                )
    finally:
        await engine.dispose()


async def states(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.execute(
                select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
            )
            return {state: int(count) for state, count in rows.all()}
    finally:
        await engine.dispose()


LIVE_LEASE = 120.0


async def spawn(
    url: str, fake: FakeTelegram, folder: Path, lease_seconds: float | None = None
) -> asyncio.subprocess.Process:
    lease = [] if lease_seconds is None else [str(lease_seconds)]
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.outbox_child",
        url,
        fake.url,
        str(folder),
        str(RATE),
        *lease,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    assert (await asyncio.wait_for(child.stdout.readline(), 60)).strip() == b"ready"
    return child


async def all_arrived(fake: FakeTelegram, timeout: float = 90) -> None:
    async def wait() -> None:
        while len({s.chat_id for s in fake.sent}) < RECIPIENTS:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(wait(), timeout)


async def stop(child: asyncio.subprocess.Process) -> None:
    child.send_signal(signal.SIGTERM)
    await asyncio.wait_for(child.wait(), 30)


def duplicates(fake: FakeTelegram) -> int:
    return sum(count - 1 for count in Counter(s.chat_id for s in fake.sent).values() if count > 1)


@pytest.fixture
async def limited() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()
    await fake.start()
    fake.gate.limits = Enforced(per_second=330, chat_seconds=1.0)
    yield fake
    await fake.stop()


async def test_a_dispatcher_killed_mid_fanout_loses_nothing(
    limited: FakeTelegram, tmp_path: Path, db_url: str
) -> None:
    await decide_fanout(db_url)
    first = await spawn(db_url, limited, tmp_path)
    while len(limited.sent) < RECIPIENTS // 3:
        await asyncio.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    in_flight = (await states(db_url)).get("sending", 0)

    second = await spawn(db_url, limited, tmp_path)
    await all_arrived(limited)
    await asyncio.sleep(0.5)  # the last marks
    await stop(second)

    repeated = duplicates(limited)
    print(f"\nin flight at the kill: {in_flight}; duplicates: {repeated}; lost: 0")
    assert (await states(db_url)) == {"sent": RECIPIENTS}
    assert repeated <= in_flight
    assert not limited.gate.refused  # the restarted process kept to the limits too


async def test_two_dispatcher_processes_on_postgresql_send_nothing_twice(
    limited: FakeTelegram, tmp_path: Path, postgres_url: str
) -> None:
    await decide_fanout(postgres_url)
    # Both live through the story: a lease long enough that a loaded machine's stalls cannot
    # run it out, so a message sent twice could only come from two claims of one row.
    one, two = await asyncio.gather(
        spawn(postgres_url, limited, tmp_path, LIVE_LEASE),
        spawn(postgres_url, limited, tmp_path, LIVE_LEASE),
    )
    await all_arrived(limited)
    await asyncio.sleep(0.5)
    await asyncio.gather(stop(one), stop(two))

    assert duplicates(limited) == 0
    assert (await states(postgres_url)) == {"sent": RECIPIENTS}
