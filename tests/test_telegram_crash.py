"""The bot process is killed in the middle of a step and restarted: the step happens once, and
its answer, an outbox row written with the step and in flight at the kill, goes out once, sent
by the next process when the dead one's lease runs out."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from sqlalchemy import func, select

from storage.db import create_engine, session_factory
from storage.models import ChannelIdentity, Invite, OutboxMessage
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.plan_factory import load_plan, make_invite

USER = 5550002


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def start_bot(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_a_step_interrupted_by_a_kill_happens_once(tmp_path: Path, sqlite_url: str) -> None:
    fake = FakeTelegram()
    await fake.start()
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    await load_plan(sessions, tmp_path)
    invite = await make_invite(sessions, "Sở TT&TT", uses=3)
    env = {
        **os.environ,
        "DATABASE_URL": sqlite_url,
        "DATA_DIR": str(tmp_path / "data"),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fake.url,
        "HTTP_PORT": str(free_port()),
        "OUTBOX_LEASE_SECONDS": "2",  # the dead process's answer is taken over this soon
    }
    fake.hold_sends.clear()
    await fake.push_text(USER, f"/start {invite}")
    first = await start_bot(env)
    try:
        await asyncio.wait_for(fake.send_started.wait(), 30)  # the step is committed, answer held
        first.send_signal(signal.SIGKILL)
        await first.wait()
        fake.hold_sends.set()

        second = await start_bot({**env, "HTTP_PORT": str(free_port())})
        try:
            sent = await fake.wait_sent(USER, 1, timeout=30)
            await asyncio.sleep(0.5)  # anything repeated would arrive by now
            assert len(fake.to(USER)) == 1 and "Sở Thông tin và Truyền thông" in sent[0].text
            async with sessions() as session:
                people = await session.scalar(select(func.count()).select_from(ChannelIdentity))
                uses = await session.scalar(select(Invite.uses))
                answers = (await session.scalars(select(OutboxMessage))).all()
            assert (people, uses) == (1, 1)
            assert [(row.kind, row.state, row.chat_id) for row in answers] == [
                ("reply", "sent", str(USER))
            ]
            assert answers[0].key.startswith("reply:telegram:")
        finally:
            second.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(second.communicate(), 30)
        assert second.returncode == 0, err.decode()[-2000:]
        assert TOKEN not in err.decode()
    finally:
        if first.returncode is None:
            first.kill()
        await engine.dispose()
        await fake.stop()
