"""A real `tiendo run` on Zalo is killed (SIGKILL) and restarted: nothing the platform handed
over is lost, and nothing is done twice.

Zalo forgets an event once getUpdates returned it, so the bot writes it down first. Two
moments are hit: after an event was fetched and written down but before it was handled (the
photo's download is held at our own media server), and after a step was committed but before
its answer went out (sendMessage is held at the fake platform).
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from aiohttp import web
from sqlalchemy import func, select

from storage.db import create_engine, session_factory
from storage.models import ChannelIdentity, InboxEvent, Invite, OutboxMessage
from tests.fake_zalo import TOKEN
from tests.plan_factory import load_plan, make_invite
from tests.test_telegram_crash import start_bot
from tests.test_zalo_journey import (
    JPEG,
    USER,
    env_for,
    fake_zalo,
    free_port,
    number_of,
    said,
    serving,
)


async def stop(bot: asyncio.subprocess.Process) -> str:
    bot.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(bot.communicate(), 30)
    assert bot.returncode == 0, err.decode()[-2000:]
    return err.decode()


async def kill(bot: asyncio.subprocess.Process) -> None:
    bot.send_signal(signal.SIGKILL)
    await bot.communicate()


async def test_a_kill_loses_no_zalo_event_and_repeats_no_step(tmp_path: Path, db_url: str) -> None:
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    await load_plan(sessions, tmp_path)
    invite = await make_invite(sessions, "Sở TT&TT", uses=3)
    asked, release = asyncio.Event(), asyncio.Event()

    async def slow_photo(request: web.Request) -> web.Response:
        asked.set()
        await release.wait()  # the first run is killed while it waits here
        return web.Response(body=JPEG, content_type="image/jpeg")

    async with fake_zalo() as fake, serving([web.get("/slow.jpg", slow_photo)]) as media:
        env = env_for(
            db_url,
            tmp_path,
            ZALO_BOT_TOKEN=TOKEN,
            ZALO_API_BASE_URL=fake.url,
            HTTP_PORT="0",
            OUTBOX_LEASE_SECONDS="2",  # the dead process's answer is taken over this soon
        )
        # 1. Killed after a step was committed, before its answer went out.
        fake.hold_sends.clear()
        await fake.push_text(USER, f"/start {invite}")
        first = await start_bot({**env, "HTTP_PORT": str(free_port())})
        try:
            await asyncio.wait_for(fake.send_started.wait(), 30)
            await kill(first)
        finally:
            if first.returncode is None:
                first.kill()
        fake.hold_sends.set()

        second = await start_bot({**env, "HTTP_PORT": str(free_port())})
        try:
            assert "Sở Thông tin" in (await fake.wait_sent(USER, 1, timeout=30))[0].text
            await fake.push_text(USER, "/baocao VII.3")
            status = await said(fake, 2)
            await fake.push_text(USER, number_of(status, "Đang thực hiện"))
            await said(fake, 3)
            await fake.push_text(USER, "20")
            await said(fake, 4)
            await fake.push_text(USER, "Đã khảo sát")
            for step in (5, 6):
                await fake.push_text(USER, number_of(await said(fake, step), "Bỏ qua"))
            assert "tệp minh chứng" in await said(fake, 7)

            # 2. Killed after the photo was fetched and written down, before it was handled.
            photo = await fake.push_image(USER, photo_url=f"{media}/slow.jpg")
            await asyncio.wait_for(asked.wait(), 30)
            async with sessions() as session:
                written = await session.scalar(
                    select(InboxEvent).where(InboxEvent.event_key == photo)
                )
            assert written is not None and written.handled_at is None
            await kill(second)
        finally:
            if second.returncode is None:
                second.kill()
        assert fake.events == []  # the platform has forgotten it: only our inbox has it
        release.set()

        third = await start_bot({**env, "HTTP_PORT": str(free_port())})
        try:
            assert "Đã nhận 1 tệp" in await said(fake, 8)
            await asyncio.sleep(0.5)  # anything repeated would arrive by now
            assert len(fake.to(USER)) == 8
        finally:
            err = await stop(third)
    assert TOKEN not in err
    async with sessions() as session:
        people = await session.scalar(select(func.count()).select_from(ChannelIdentity))
        uses = await session.scalar(select(Invite.uses))
        open_rows = await session.scalar(
            select(func.count()).where(InboxEvent.handled_at.is_(None))
        )
        answers = (await session.scalars(select(OutboxMessage))).all()
    await engine.dispose()
    assert (people, uses, open_rows) == (1, 1, 0)
    # Every answer left through the outbox, the one in flight at the first kill included.
    assert len(answers) == 8 and {(a.kind, a.state) for a in answers} == {("reply", "sent")}
    assert sum(1 for e in fake.fetched if e["message"]["message_id"] == photo) == 1
