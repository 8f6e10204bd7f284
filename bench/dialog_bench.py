"""Dialog benchmark: 200 officers file whole reports at once through the real Telegram adapter.

Beside it, in the same run and against the same fake Bot API server code, a bare
python-telegram-bot echo bot answers the same number of messages from the same number of users.

Two loads, both with every one of the 200 reports open at the same time:
- throughput: no pauses, each officer sends the next step the moment the answer arrives; gives
  dialog steps per second, echo updates per second and their ratio (target >= 0.5). Every
  officer then always waits behind the 199 others, so its latency is queueing, printed for
  reference only.
- a person's pace: the officers start within the first 5 s and pause 1-5 s between steps (a
  report takes about half a minute, as an officer's does); gives the p50/p95/p99 latency of a
  step, from the update being available to the bot's answer arriving at the server
  (target p99 < 150 ms), and the echo bot's under the same load.

Each run gets a fresh database: a SQLite file in a temporary folder by default, or, with
--database-url naming a PostgreSQL server where the user may create databases, a database of its
own created there and dropped afterwards.

With --channel zalo the same 200 officers report through the real Zalo adapter against the
tests' fake Zalo Bot Platform (one event per getUpdates call, every event written to the inbox
before it is handled, options answered by their numbers), in both loads; the Telegram dialog is
run beside it for the comparison (target: Zalo within 20% of Telegram's steps per second).

Run: .venv/bin/python bench/dialog_bench.py [OFFICERS]
     .venv/bin/python bench/dialog_bench.py --channel zalo
     .venv/bin/python bench/dialog_bench.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine.url import make_url
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

# The fake Bot API server lives with the tests; make the repository importable when run as a file.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import open_app
from bot.channels import zalo_polling
from bot.channels.telegram import TelegramChannel, build_application
from bot.channels.telegram_polling import poll
from bot.channels.zalo import ZaloChannel
from bot.channels.zalo_api import ZaloClient
from bot.config import load_settings
from bot.handler_config import handler_config
from bot.startup_freeze import freeze_startup_objects
from handlers.dispatcher import Dispatcher
from storage.db import describe_url, is_sqlite
from storage.migrate import upgrade
from storage.models import Report
from tests.fake_telegram import TOKEN, FakeTelegram, Sent
from tests.fake_zalo import TOKEN as ZALO_TOKEN
from tests.fake_zalo import FakeZalo
from tests.plan_factory import load_plan, make_invite

BASE_USER = 7_000_000
START_WINDOW = 5.0
PAUSE = (1.0, 5.0)
# The fake server of either channel (both keep what they sent per chat) and its last message.
Fake = Any
Step = Callable[[Fake, int, Any], Awaitable[None]]


@dataclass(frozen=True)
class Pace:
    """How a person goes through the dialog: when they start, how long they read and type."""

    start_window: float
    pause: tuple[float, float]

    def for_user(self, user: int) -> tuple[float, random.Random]:
        chance = random.Random(user)  # the same pauses in every run
        return chance.uniform(0, self.start_window), chance


AT_ONCE = Pace(0.0, (0.0, 0.0))
PERSON = Pace(START_WINDOW, PAUSE)


def text(message: str) -> Step:
    async def push(fake: FakeTelegram, user: int, last: Sent | None) -> None:
        await fake.push_text(user, message)

    return push


def press(prefix: str) -> Step:
    async def push(fake: FakeTelegram, user: int, last: Sent | None) -> None:
        assert last is not None
        data = next(d for _, d in last.buttons if d.startswith(prefix))
        await fake.press(user, data, last.message_id)

    return push


def zalo_text(message: str) -> Step:
    async def push(fake: FakeZalo, user: int, last: Any) -> None:
        await fake.push_text(str(user), message)

    return push


def zalo_journey(code: str) -> list[Step]:
    """The same report on Zalo, options answered by their numbers as an officer types them."""
    return [
        zalo_text(f"/start {code}"),
        zalo_text("/baocao VII.3"),
        zalo_text("2"),  # Đang thực hiện, trong hạn
        zalo_text("50"),
        zalo_text("Đã hoàn thành lắp đặt và chạy thử hệ thống."),
        zalo_text("1"),  # Bỏ qua
        zalo_text("1"),  # Bỏ qua
        zalo_text("1"),  # Bỏ qua (no files)
        zalo_text("1"),  # Gửi
    ]


def journey(code: str) -> list[Step]:
    """A whole report: join, choose, status, percent, results, skip, skip, no files, send."""
    return [
        text(f"/start {code}"),
        text("/baocao VII.3"),
        press("st:in_progress"),
        text("50"),
        text("Đã hoàn thành lắp đặt và chạy thử hệ thống."),
        press("skip"),
        press("skip"),
        press("files_done"),
        press("c:send"),
    ]


async def walk(
    fake: Fake, user: int, steps: list[Step], latencies: list[float], pace: Pace
) -> None:
    last: Any = None
    start, chance = pace.for_user(user)
    await asyncio.sleep(start)
    for index, step in enumerate(steps):
        if index and pace.pause[1]:
            await asyncio.sleep(chance.uniform(*pace.pause))
        seen = len(fake.to(user))
        started = time.perf_counter()
        await step(fake, user, last)
        await fake.wait_sent(user, seen + 1, timeout=120)
        latencies.append(time.perf_counter() - started)
        last = fake.to(user)[-1]


async def _postgres_admin(server: str, statement: str) -> None:
    parsed = make_url(server)
    connection = await asyncpg.connect(
        user=parsed.username or "postgres",
        password=parsed.password,
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        database=parsed.database or "postgres",
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@asynccontextmanager
async def fresh_database(server: str | None, folder: Path) -> AsyncIterator[str]:
    """A migrated, empty database for one run: a SQLite file in `folder` when `server` is None,
    else a PostgreSQL database created on `server` and dropped afterwards."""
    if server is None or is_sqlite(server):
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        await upgrade(url)
        yield url
        return
    name = f"tiendo_bench_{uuid.uuid4().hex[:10]}"
    await _postgres_admin(server, f'CREATE DATABASE "{name}"')
    try:
        url = make_url(server).set(database=name).render_as_string(hide_password=False)
        await upgrade(url)
        yield url
    finally:
        await _postgres_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def run_dialogs(
    officers: int, server: str | None, pace: Pace, channel: str = "telegram"
) -> tuple[float, list[float]]:
    run = _run_zalo_dialogs if channel == "zalo" else _run_dialogs
    with tempfile.TemporaryDirectory() as folder:
        async with fresh_database(server, Path(folder)) as url:
            return await run(officers, url, Path(folder), pace)


async def _run_zalo_dialogs(
    officers: int, url: str, folder: Path, pace: Pace
) -> tuple[float, list[float]]:
    fake = FakeZalo()
    await fake.start()
    settings = load_settings(
        database_url=url,
        zalo_bot_token=ZALO_TOKEN,
        zalo_api_base_url=fake.url,
        data_dir=folder / "data",
    )
    async with open_app(settings) as app:
        await load_plan(app.sessions, folder)
        code = await make_invite(app.sessions, "Sở TT&TT", uses=officers)
        client = ZaloClient(ZALO_TOKEN, fake.url)
        channel = ZaloChannel(client, Dispatcher(app.sessions, handler_config(settings)))
        stop = asyncio.Event()
        freeze_startup_objects()  # as `tiendo run` does once assembled
        poller = asyncio.create_task(zalo_polling.poll(channel, stop, timeout=1))
        latencies: list[float] = []
        steps = zalo_journey(code)
        started = time.perf_counter()
        await asyncio.gather(
            *(walk(fake, BASE_USER + i, steps, latencies, pace) for i in range(officers))
        )
        elapsed = time.perf_counter() - started
        stop.set()
        await poller
        await channel.close()
        await client.close()
        await _check_reports(app.sessions, officers)
    await fake.stop()
    return elapsed, latencies


async def _check_reports(sessions: Any, officers: int) -> None:
    """Every officer's report is there: a fast run that lost steps would be no result."""
    async with sessions() as session:
        reports = await session.scalar(select(func.count()).select_from(Report))
    if reports != officers:
        raise SystemExit(f"{reports} reports stored for {officers} officers")


async def _run_dialogs(
    officers: int, url: str, folder: Path, pace: Pace
) -> tuple[float, list[float]]:
    fake = FakeTelegram()
    await fake.start()
    settings = load_settings(
        database_url=url,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=fake.url,
        data_dir=folder / "data",
    )
    async with open_app(settings) as app:
        await load_plan(app.sessions, folder)
        code = await make_invite(app.sessions, "Sở TT&TT", uses=officers)
        application = build_application(settings)
        await application.initialize()
        channel = TelegramChannel(application, Dispatcher(app.sessions, handler_config(settings)))
        stop = asyncio.Event()
        freeze_startup_objects()  # as `tiendo run` does once assembled
        poller = asyncio.create_task(poll(channel, stop, timeout=1))
        latencies: list[float] = []
        started = time.perf_counter()
        await asyncio.gather(
            *(walk(fake, BASE_USER + i, journey(code), latencies, pace) for i in range(officers))
        )
        elapsed = time.perf_counter() - started
        stop.set()  # a graceful stop: the poller confirms what it handled and returns
        await poller
        await application.shutdown()
    await fake.stop()
    return elapsed, latencies


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_chat and update.effective_message and update.effective_message.text:
        await context.bot.send_message(update.effective_chat.id, update.effective_message.text)


async def run_echo(users: int, messages: int, pace: Pace) -> tuple[float, list[float]]:
    fake = FakeTelegram()
    await fake.start()
    application = (
        Application.builder()
        .token(TOKEN)
        .base_url(f"{fake.url}/bot")
        .concurrent_updates(True)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=1)
    steps = [text(f"tin nhắn {n}") for n in range(messages)]
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(walk(fake, BASE_USER + i, steps, latencies, pace) for i in range(users)))
    elapsed = time.perf_counter() - started
    await application.updater.stop()
    await application.stop()
    await application.shutdown()
    await fake.stop()
    return elapsed, latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def spread(latencies: list[float]) -> str:
    return (
        f"p50 {1000 * statistics.median(latencies):.0f}, "
        f"p95 {1000 * percentile(latencies, 0.95):.0f}, "
        f"p99 {1000 * percentile(latencies, 0.99):.0f}"
    )


async def main_zalo(officers: int, server: str | None) -> None:
    """Zalo's figures, with Telegram's dialog run beside them for the comparison."""
    steps = len(zalo_journey("X"))
    zalo_seconds, queued = await run_dialogs(officers, server, AT_ONCE, "zalo")
    telegram_seconds, _ = await run_dialogs(officers, server, AT_ONCE, "telegram")
    _, paced = await run_dialogs(officers, server, PERSON, "zalo")
    _, telegram_paced = await run_dialogs(officers, server, PERSON, "telegram")
    zalo_rate = officers * steps / zalo_seconds
    telegram_rate = officers * steps / telegram_seconds
    sqlite = server is None or is_sqlite(server)
    database = "SQLite (a fresh file)" if sqlite else describe_url(server or "")
    print("channel: zalo (fake Zalo Bot Platform), beside telegram (fake Bot API)")
    print(f"database: {database}")
    print(f"officers: {officers}, steps each: {steps}")
    print("throughput, no pauses:")
    print(f"  zalo dialog steps/s: {zalo_rate:.1f} ({zalo_seconds:.2f} s)")
    print(f"  telegram dialog steps/s: {telegram_rate:.1f} ({telegram_seconds:.2f} s)")
    print(f"  zalo / telegram: {zalo_rate / telegram_rate:.2f} (target >= 0.8)")
    print(f"  queueing ms (reference): zalo {spread(queued)}")
    low, high = PERSON.pause
    print(f"a person's pace (start within {START_WINDOW:.0f} s, {low:.0f}-{high:.0f} s pauses):")
    print(f"  zalo step latency ms: {spread(paced)} (target p99 < 150)")
    print(f"  telegram step latency ms: {spread(telegram_paced)}")


async def main(officers: int, server: str | None, channel: str = "telegram") -> None:
    logging.basicConfig(level=logging.WARNING)
    if channel == "zalo":
        await main_zalo(officers, server)
        return
    steps = len(journey("X"))
    dialog_seconds, queued = await run_dialogs(officers, server, AT_ONCE)
    echo_seconds, echo_queued = await run_echo(officers, steps, AT_ONCE)
    _, paced = await run_dialogs(officers, server, PERSON)
    _, echo_paced = await run_echo(officers, steps, PERSON)
    dialog_rate = officers * steps / dialog_seconds
    echo_rate = officers * steps / echo_seconds
    sqlite = server is None or is_sqlite(server)
    database = "SQLite (a fresh file)" if sqlite else describe_url(server or "")
    print(f"database: {database}")
    print(f"officers: {officers}, steps each: {steps}")
    print("throughput, no pauses:")
    print(f"  dialog steps/s: {dialog_rate:.1f} ({dialog_seconds:.2f} s)")
    print(f"  echo updates/s: {echo_rate:.1f} ({echo_seconds:.2f} s)")
    print(f"  ratio: {dialog_rate / echo_rate:.2f} (target >= 0.5)")
    print(f"  queueing ms (reference): dialog {spread(queued)}; echo {spread(echo_queued)}")
    low, high = PERSON.pause
    print(f"a person's pace (start within {START_WINDOW:.0f} s, {low:.0f}-{high:.0f} s pauses):")
    print(f"  step latency ms: {spread(paced)} (target p99 < 150)")
    print(f"  echo latency ms: {spread(echo_paced)}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Dialog steps per second and latency.")
    parser.add_argument("officers", nargs="?", type=int, default=200)
    parser.add_argument(
        "--channel",
        choices=["telegram", "zalo"],
        default="telegram",
        help="the adapter to measure (zalo also runs the telegram dialog to compare)",
    )
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server where a fresh database is created for each run (default: SQLite)",
    )
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    asyncio.run(main(arguments.officers, arguments.database_url, arguments.channel))
