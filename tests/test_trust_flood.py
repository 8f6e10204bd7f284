"""A flood limit on one chat holds that chat only, and a shutdown in the middle loses nothing.

A real `tiendo run` against the fake Bot API: Telegram asks one chat to wait 400 seconds while
nine officers file their reports; SIGTERM then stops the bot within seconds, the held answers
still unsent in the outbox, waiting for the end of the 400 seconds; once that has passed they
go out after the restart, in order.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from sqlalchemy import select, update

from storage.db import create_engine, session_factory
from storage.models import OutboxMessage, Report
from tests.fake_telegram import TOKEN, FakeTelegram, Sent
from tests.plan_factory import load_plan, make_invite
from tests.test_telegram import button, count_rows
from tests.test_telegram_crash import free_port

HELD = 5552000
OTHERS = [5552001 + n for n in range(9)]
TASKS = ["I.1", "I.3", "VII.3"]  # the tasks Sở TT&TT leads in the small plan


async def start_bot(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as sink:  # a file, not a pipe nobody reads while the bot runs
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, stdout=sink, stderr=sink
        )


async def stop_bot(bot: asyncio.subprocess.Process) -> float:
    """SIGTERM, and how long the process took to end."""
    began = time.monotonic()
    bot.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(bot.wait(), 15)
    finally:
        if bot.returncode is None:
            bot.kill()
    return time.monotonic() - began


class Officer:
    """One officer in a private chat, counting what the bot sent them."""

    def __init__(self, fake: FakeTelegram, user: int) -> None:
        self.fake, self.user, self.seen = fake, user, 0

    async def next(self) -> Sent:
        self.seen += 1
        return (await self.fake.wait_sent(self.user, self.seen, timeout=30))[-1]

    async def say(self, text: str) -> Sent:
        await self.fake.push_text(self.user, text)
        return await self.next()

    async def press(self, sent: Sent, label: str) -> Sent:
        await self.fake.press(self.user, button(sent, label), sent.message_id)
        return await self.next()

    async def report(self, task: str) -> Sent:
        status = await self.say(f"/baocao {task}")
        percent = await self.press(status, "Đang thực hiện")
        await self.press(percent, "50%")
        difficulties = await self.say(f"Đã triển khai {task}")
        proposals = await self.press(difficulties, "Bỏ qua")
        files = await self.press(proposals, "Bỏ qua")
        summary = await self.press(files, "Bỏ qua")
        return await self.press(summary, "Gửi")


async def test_one_chat_waits_out_a_flood_limit_alone_and_a_stop_loses_nothing(
    fake: FakeTelegram, tmp_path: Path, db_url: str
) -> None:
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "DATA_DIR": str(tmp_path / "data"),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fake.url,
        "HTTP_PORT": str(free_port()),
    }
    log = tmp_path / "bot.log"
    bot = await start_bot(env, log)
    try:
        await load_plan(sessions, tmp_path)
        code = await make_invite(sessions, "Sở TT&TT", uses=10)
        held, others = Officer(fake, HELD), [Officer(fake, user) for user in OTHERS]
        for officer in [held, *others]:
            assert "Chào" in (await officer.say(f"/start {code}")).text

        fake.fail_next_to(HELD, "sendMessage", 429, "Too Many Requests: retry after 400",
                          retry_after=400)  # fmt: skip
        await fake.push_text(HELD, "/nhiemvu")
        await fake.push_text(HELD, "/trogiup")  # queues behind the held answer, in order
        began = time.monotonic()
        done = await asyncio.gather(
            *(o.report(TASKS[n % 3]) for n, o in enumerate(others)),
        )
        assert all("Đã gửi báo cáo số" in sent.text for sent in done)
        assert time.monotonic() - began < 60  # nobody waited the 400 seconds
        assert await count_rows(sessions, Report) == 9
        assert len(fake.to(HELD)) == 1  # only the welcome: its chat is still held

        took = await stop_bot(bot)
        assert bot.returncode == 0, log.read_text("utf-8")[-3000:]
        assert took < 5, f"SIGTERM took {took:.1f}s"
        async with sessions() as session:  # what was not sent is still there to send
            unsent = (
                await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.chat_id == str(HELD), OutboxMessage.state != "sent")
                    .order_by(OutboxMessage.id)
                )
            ).all()
        assert [(row.kind, row.state) for row in unsent] == [("reply", "pending")] * 2
        assert all((row.not_before - row.created_at).total_seconds() > 300 for row in unsent)
        assert fake.confirmed_all()  # the server will not hand those updates over again
        async with sessions() as session:  # the 400 seconds have passed
            ids = [row.id for row in unsent]
            moved = update(OutboxMessage).where(OutboxMessage.id.in_(ids))
            await session.execute(moved.values(not_before=unsent[0].created_at))
            await session.commit()

        bot = await start_bot({**env, "HTTP_PORT": str(free_port())}, log)
        answers = [s.text for s in await fake.wait_sent(HELD, 3, timeout=30)]
        assert "I.1" in answers[1] and "VII.3" in answers[1]  # /nhiemvu, then /trogiup
        assert "/baocao" in answers[2]
        await asyncio.sleep(0.5)  # anything sent twice would be here by now
        assert len(fake.to(HELD)) == 3
        assert all(len(fake.to(user)) == 9 for user in OTHERS)
        async with sessions() as session:
            pending = await session.scalars(
                select(OutboxMessage.id).where(OutboxMessage.state != "sent")
            )
            assert pending.all() == []
    finally:
        if bot.returncode is None:
            await stop_bot(bot)
        await engine.dispose()
    assert TOKEN not in log.read_text("utf-8")
