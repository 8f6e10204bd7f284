"""Fan-out benchmark: 1,000 recipients through the real outbox dispatcher and Telegram adapter.

A broadcast of one message to each of 1,000 chats is written to the outbox in one transaction;
the outbox dispatcher of `tiendo run` (same channel, same sender, default limits: 30 msg/s in
all, 1 msg/s per chat) sends it to the tests' fake Bot API server, which here enforces
Telegram's limits: at most 30 messages in any second in all, and at least a second between two
messages to one chat; a send over either is answered 429 with retry_after.

Prints the rate (from the dispatcher's start to the last message's arrival, and between the
first and last arrivals), the 429 answers, duplicates (a chat that got its message more than
once) and lost messages (a chat that got nothing, or a row not marked sent).
Targets: >= 27 msg/s, 0 x 429, 0 duplicates, 0 lost.

With --crash, the dispatcher runs in a child process that is killed with SIGKILL in the middle
of the fan-out and then started again: every message must still arrive, and the duplicates must
be no more than the rows that were in flight (claimed, not yet marked) when it was killed.

With --broadcast, the recipients are officers and an admin decides the message in chat, as a
person does: /thongbao TEXT, then Gửi (the confirm writes every row in one statement); the
dispatcher runs with the broadcast's done-hook, as `tiendo run` does, and the admin's notice of
how it went is printed with how long the confirm step took.

Run: .venv/bin/python bench/fanout_bench.py [RECIPIENTS] [--database-url URL] [--crash|--broadcast]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

# The fake Bot API server lives with the tests; make the repository importable when run as a file.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dialog_bench import fresh_database
from bot.app import open_app
from bot.channels.files import FileLinks
from bot.channels.telegram_service import TelegramService
from bot.commands.run import channel_limits
from bot.config import Settings, load_settings
from bot.handler_config import handler_config
from handlers import notices
from handlers.broadcast import KIND as BROADCAST
from handlers.dispatcher import Dispatcher
from handlers.events import Incoming, Reply
from handlers.options import CONFIRM
from scheduler import broadcast_done
from scheduler.outbox_dispatcher import OutboxDispatcher, Tuning
from storage.db import describe_url, session_scope
from storage.models import ChannelIdentity, OutboxMessage, Person
from storage.repositories import outbox
from tests.fake_telegram import TOKEN, Enforced, FakeTelegram

FIRST_CHAT = 9_000_000
TEXT = "Thông báo của Ban Chỉ đạo chuyển đổi số gửi đồng chí số {n}."
# --crash: the child's lease, so that the restarted dispatcher takes the dead one's rows soon.
CRASH_LEASE = timedelta(seconds=5)


@dataclass(frozen=True)
class Figures:
    recipients: int
    seconds: float
    spread: float  # first to last arrival
    refused: int
    why: str  # the rules the refusals broke, counted
    duplicates: int
    lost: int
    in_flight: int | None = None  # --crash: rows claimed and not marked at the kill
    confirm: float | None = None  # --broadcast: seconds the confirm step took
    told: str | None = None  # --broadcast: what the admin was told when it was done


def settings_for(url: str, fake: FakeTelegram, folder: Path) -> Settings:
    return load_settings(
        database_url=url,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=fake.url,
        data_dir=folder / "data",
    )


async def broadcast(settings: Settings, recipients: int) -> None:
    """One message to each recipient, decided at once."""
    now = datetime.now(UTC)
    async with open_app(settings) as app, session_scope(app.sessions) as session:
        for n in range(recipients):
            await outbox.enqueue(
                session,
                key=f"broadcast:1:{n}",
                channel="telegram",
                chat_id=str(FIRST_CHAT + n),
                kind="broadcast",
                payload=notices.payload(Reply(TEXT.format(n=n))),
                now=now,
            )


async def dispatch(settings: Settings, stop: asyncio.Event, tuning: Tuning | None = None) -> None:
    """The dispatcher as `tiendo run` builds it, until `stop`."""
    async with open_app(settings) as app:
        links = FileLinks.from_settings(settings)
        service = TelegramService(
            settings, Dispatcher(app.sessions, handler_config(settings)), links
        )
        await service.open()
        try:
            senders = {"telegram": service.outbox_sender()}
            limits = channel_limits(settings)
            instance = f"bench:{os.getpid()}"
            hooks = {BROADCAST: broadcast_done.settled}
            await OutboxDispatcher(
                app.sessions, senders, limits, instance, None, tuning, on_settled=hooks
            ).serve(stop)
        finally:
            await service.close()


async def arrived(fake: FakeTelegram, recipients: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while len({s.chat_id for s in fake.sent}) < recipients and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


async def sent_rows(settings: Settings) -> dict[str, int]:
    async with open_app(settings) as app, app.sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.state, func.count())
            .where(OutboxMessage.kind == "broadcast")  # not the admin's notice (--broadcast)
            .group_by(OutboxMessage.state)
        )
        return {state: int(count) for state, count in rows.all()}


def figures(fake: FakeTelegram, recipients: int, started: float, states: dict[str, int]) -> Figures:
    per_chat = Counter(s.chat_id for s in fake.sent)
    times = sorted(t for chat in fake.gate.arrivals.values() for t in chat)
    missing = sum(1 for n in range(recipients) if per_chat[str(FIRST_CHAT + n)] == 0)
    per_chat.pop(str(ADMIN_CHAT), None)  # the admin's notice (--broadcast) is no recipient's
    return Figures(
        recipients=recipients,
        seconds=(times[-1] - started) if times else 0.0,
        spread=(times[-1] - times[0]) if len(times) > 1 else 0.0,
        refused=len(fake.gate.refused),
        why=", ".join(f"{why} {n}" for why, n in Counter(r.why for r in fake.gate.refused).items()),
        duplicates=sum(count - 1 for count in per_chat.values() if count > 1),
        lost=max(missing, recipients - states.get("sent", 0)),
    )


# ---- --broadcast --------------------------------------------------------------------------

ADMIN_CHAT = FIRST_CHAT - 1


async def officers(settings: Settings, recipients: int) -> None:
    """The admin and `recipients` officers, each reachable on Telegram."""
    now = datetime.now(UTC)
    async with open_app(settings) as app, session_scope(app.sessions) as session:
        for n, role in [(-1, "admin"), *((n, "officer") for n in range(recipients))]:
            chat = str(FIRST_CHAT + n)
            person = Person(full_name=f"Cán bộ {n}", role=role, language="vi", created_at=now)
            person.identities.append(
                ChannelIdentity(channel="telegram", external_id=chat, chat_id=chat)
            )
            session.add(person)


async def admin_broadcasts(settings: Settings) -> float:
    """/thongbao then Gửi, through the dialogs; the seconds the confirm took."""

    def said(n: int, text: str | None = None, option: str | None = None) -> Incoming:
        chat = str(ADMIN_CHAT)
        command = ("thongbao", tuple(text.split()[1:])) if text else None
        return Incoming(
            "telegram",
            chat,
            chat,
            "Quản trị",
            datetime.now(UTC),
            text=text,
            command=command[0] if command else None,
            args=command[1] if command else (),
            option_id=option,
            update_key=f"bench-{n}",
        )

    async with open_app(settings) as app:
        handlers = Dispatcher(app.sessions, handler_config(settings))
        await handlers.handle(said(1, "/thongbao " + TEXT.format(n="của đơn vị")))
        started = time.monotonic()
        await handlers.handle(said(2, option=CONFIRM.id("send")))
        return time.monotonic() - started


@asynccontextmanager
async def decided(
    recipients: int, server: str | None, folder: Path, by_admin: bool = False
) -> AsyncIterator[Ready]:
    """A fresh database holding the broadcast, and a fake Bot API holding Telegram's limits."""
    async with fresh_database(server, folder) as url:
        fake = FakeTelegram()
        await fake.start()
        try:
            fake.gate.limits = Enforced(per_second=30, chat_seconds=1.0)
            settings = settings_for(url, fake, folder)
            confirm = None
            if by_admin:
                await officers(settings, recipients)
                confirm = await admin_broadcasts(settings)
            else:
                await broadcast(settings, recipients)
            yield Ready(fake, settings, url, confirm)
        finally:
            await fake.stop()


@dataclass(frozen=True)
class Ready:
    fake: FakeTelegram
    settings: Settings
    url: str
    confirm: float | None = None


async def run(recipients: int, server: str | None, by_admin: bool = False) -> Figures:
    with tempfile.TemporaryDirectory() as folder:
        async with decided(recipients, server, Path(folder), by_admin) as ready:
            stop = asyncio.Event()
            started = time.monotonic()
            task = asyncio.create_task(dispatch(ready.settings, stop))
            await arrived(ready.fake, recipients, timeout=recipients / 10 + 30)
            await asyncio.sleep(1.0)  # let the last marks be written; anything more would show
            stop.set()
            await task
            states = await sent_rows(ready.settings)
            result = figures(ready.fake, recipients, started, states)
            told = [s.text for s in ready.fake.to(ADMIN_CHAT)] if by_admin else []
            return Figures(
                **{**result.__dict__, "confirm": ready.confirm, "told": " / ".join(told) or None}
            )


# ---- --crash ------------------------------------------------------------------------------


def child(url: str, api: str, folder: str) -> None:
    """The dispatcher in a process of its own (killed by the parent)."""
    logging.basicConfig(level=logging.WARNING)
    settings = load_settings(
        database_url=url, telegram_bot_token=TOKEN, telegram_api_base_url=api, data_dir=folder
    )

    async def serve() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await dispatch(settings, stop, Tuning(lease=CRASH_LEASE))

    asyncio.run(serve())


async def spawn(url: str, fake: FakeTelegram, folder: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--child", url, fake.url, folder
    )


async def in_flight(settings: Settings) -> int:
    return (await sent_rows(settings)).get("sending", 0)


async def run_crash(recipients: int, server: str | None) -> Figures:
    with tempfile.TemporaryDirectory() as folder:
        async with decided(recipients, server, Path(folder)) as ready:
            fake, settings = ready.fake, ready.settings
            started = time.monotonic()
            first = await spawn(ready.url, fake, folder)
            while len(fake.sent) < recipients // 3:
                await asyncio.sleep(0.01)
            first.send_signal(signal.SIGKILL)
            await first.wait()
            held = await in_flight(settings)  # what the dead process had claimed, unmarked
            second = await spawn(ready.url, fake, folder)
            await arrived(fake, recipients, timeout=recipients / 10 + 60)
            await asyncio.sleep(1.0)
            second.send_signal(signal.SIGTERM)
            await second.wait()
            result = figures(fake, recipients, started, await sent_rows(settings))
            return Figures(**{**result.__dict__, "in_flight": held})


def report(f: Figures, server: str | None) -> None:
    print(f"database: {describe_url(server) if server else 'SQLite (a fresh file)'}")
    print(f"recipients: {f.recipients}")
    print(f"  msg/s: {f.recipients / f.seconds:.1f} ({f.seconds:.1f} s from start, target >= 27)")
    print(f"  msg/s between first and last arrival: {(f.recipients - 1) / f.spread:.1f}")
    print(f"  429 answers: {f.refused} (target 0){f' ({f.why})' if f.why else ''}")
    print(f"  duplicates: {f.duplicates}")
    print(f"  lost: {f.lost} (target 0)")
    if f.in_flight is not None:
        print(f"  in flight when killed: {f.in_flight} (duplicates must be no more)")
    if f.confirm is not None:
        print(f"  the confirm step (every row in one statement): {f.confirm * 1000:.0f} ms")
        print(f"  the admin was told: {f.told or 'nothing'}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Outbox fan-out at Telegram's limits.")
    parser.add_argument("recipients", nargs="?", type=int, default=1000)
    parser.add_argument("--database-url", help="a PostgreSQL server (a database is created)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--crash", action="store_true", help="SIGKILL the dispatcher mid-way")
    mode.add_argument("--broadcast", action="store_true", help="decided by an admin's /thongbao")
    return parser.parse_args()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
        sys.exit(0)
    args = parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.crash:
        figures_ = asyncio.run(run_crash(args.recipients, args.database_url))
    else:
        figures_ = asyncio.run(run(args.recipients, args.database_url, args.broadcast))
    report(figures_, args.database_url)
