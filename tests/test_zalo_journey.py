"""An officer joins and reports on Zalo, against a Zalo Bot Platform server of our own.

The bot runs as `tiendo run` assembles it (client, channel, delivery, long polling), the
officer answers numbered options by their number or their words, and what the officer sees
and what the database keeps are checked, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import open_app
from bot.channels.files import FileLinks
from bot.channels.zalo import ZaloChannel
from bot.channels.zalo_api import ZaloClient
from bot.channels.zalo_polling import poll
from bot.config import Settings, load_settings
from bot.handler_config import handler_config
from handlers.dispatcher import Dispatcher
from storage.models import EvidenceFile, InboxEvent, Report
from tests.fake_zalo import TOKEN, FakeZalo
from tests.plan_factory import load_plan, make_invite

USER = "e4ea2cd5189df1c3a88c"
JPEG = b"\xff\xd8\xff\xe0" + b"anh chup hien truong " * 50


@dataclass
class ZaloBot:
    fake: FakeZalo
    channel: ZaloChannel
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    base_url: str  # where the bot's own HTTP server (file links, webhook) answers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def serving(routes: list[web.RouteDef]) -> AsyncIterator[str]:
    """`routes` served on 127.0.0.1 while the block runs; the base URL."""
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def running_zalo(
    fake: FakeZalo, db_url: str, data_dir: Path, polling: bool = True
) -> AsyncIterator[ZaloBot]:
    """The Zalo channel polling `fake`, with its file links served on a port of its own."""
    port = free_port()
    settings = load_settings(
        database_url=db_url,
        zalo_bot_token=TOKEN,
        zalo_api_base_url=fake.url,
        data_dir=data_dir,
        public_base_url=f"http://127.0.0.1:{port}",
    )
    async with open_app(settings) as app:
        client = ZaloClient(TOKEN, fake.url)
        links = FileLinks.from_settings(settings)
        dispatcher = Dispatcher(app.sessions, handler_config(settings))
        channel = ZaloChannel(client, dispatcher, links)
        runner = web.AppRunner(_app(links.routes()))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        stop = asyncio.Event()
        task = asyncio.create_task(poll(channel, stop, timeout=1)) if polling else None
        try:
            yield ZaloBot(fake, channel, app.sessions, settings, f"http://127.0.0.1:{port}")
        finally:
            stop.set()
            if task:
                await asyncio.wait_for(task, 10)
            await channel.close()
            await client.close()
            await runner.cleanup()


def _app(routes: list[web.RouteDef]) -> web.Application:
    app = web.Application()
    app.add_routes(routes)
    return app


@asynccontextmanager
async def fake_zalo() -> AsyncIterator[FakeZalo]:
    server = FakeZalo()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def env_for(db_url: str, tmp_path: Path, **more: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_", "WEBHOOK"))
    }
    return {
        **env,
        "DATABASE_URL": db_url,
        "DATA_DIR": str(tmp_path / "data"),
        "LOG_LEVEL": "INFO",
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9",
        **more,
    }


async def cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """The real `tiendo` command, run without blocking the fake server's event loop."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def said(fake: FakeZalo, count: int, user: str = USER) -> str:
    """The `count`-th message the bot sent to `user`, once it arrived."""
    return (await fake.wait_sent(user, count))[count - 1].text


def number_of(text: str, label_start: str) -> str:
    """The number of the numbered option whose label starts with `label_start`."""
    for number, label in re.findall(r"(?m)(\d+)\. (.+?)(?=\s{2}\d+\. |$)", text):
        if label.strip().startswith(label_start):
            return number
    raise AssertionError(f"no option {label_start!r} in {text!r}")


async def count_rows(sessions: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def join(bot: ZaloBot, folder: Path, unit: str = "Sở TT&TT", user: str = USER) -> None:
    """The plan is loaded and `user` sends /start with an invite of `unit`."""
    await load_plan(bot.sessions, folder)
    invite = await make_invite(bot.sessions, unit)
    await bot.fake.push_text(user, f"/start {invite}")
    assert "Chào" in await said(bot.fake, 1, user)


async def test_an_officer_joins_and_reports_on_zalo(tmp_path: Path, db_url: str) -> None:
    env = env_for(db_url, tmp_path)
    async with fake_zalo() as fake, running_zalo(fake, db_url, tmp_path / "data") as bot:
        await load_plan(bot.sessions, tmp_path)
        code, out, err = await cli(env, "invite", "Sở TT&TT", "--role", "officer")
        assert code == 0, err
        invite = re.search(r"Mã mời: (\w+)", out)
        assert invite is not None and "Zalo" in out

        await fake.push_text(USER, f"/start {invite.group(1)}")
        assert "Sở Thông tin và Truyền thông" in await said(fake, 1)
        await fake.push_text(USER, "/baocao")
        tasks = await said(fake, 2)
        assert "Trả lời" in tasks  # the numbered options say how to answer
        await fake.push_text(USER, number_of(tasks, "VII.3"))
        status = await said(fake, 3)
        await fake.push_text(USER, "số " + number_of(status, "Đang thực hiện"))
        percent = await said(fake, 4)
        assert "Tỷ lệ hoàn thành" in percent
        await fake.push_text(USER, "75")
        assert "Kết quả" in await said(fake, 5)
        await fake.push_text(USER, "Hoàn thành lắp đặt máy chủ")
        await said(fake, 6)
        await fake.push_text(USER, "Bỏ qua")  # an option answered by its words
        proposals = await said(fake, 7)
        await fake.push_text(USER, number_of(proposals, "Bỏ qua") + ".")
        files = await said(fake, 8)
        assert "tệp" in files
        await fake.push_image(USER, JPEG, caption="Ảnh hiện trường")
        received = await said(fake, 9)
        assert "Đã nhận 1 tệp" in received
        await fake.push_text(USER, "Xong")
        summary = await said(fake, 10)
        assert "75%" in summary
        await fake.push_text(USER, number_of(summary, "Gửi"))
        assert "Đã gửi báo cáo số" in await said(fake, 11)

        await fake.push_text(USER, "/nhiemvu")
        listing = await said(fake, 12)
        assert "VII.3" in listing and "75%" in listing
        assert all(len(sent.text) <= 2000 for sent in fake.to(USER))

        for _ in range(100):  # the closing note of the last event follows its answer
            async with bot.sessions() as session:
                report = await session.scalar(select(Report))
                evidence = (await session.scalars(select(EvidenceFile))).all()
                inbox_open = await session.scalar(
                    select(func.count()).where(InboxEvent.handled_at.is_(None))
                )
            if inbox_open == 0:
                break
            await asyncio.sleep(0.05)
        assert report is not None and report.channel == "zalo" and report.percent == 75
        assert len(evidence) == 1 and evidence[0].report_id == report.id
        assert (bot.settings.data_dir / evidence[0].storage_path).read_bytes() == JPEG
        assert inbox_open == 0  # every event written down was answered and closed

    code, out, err = await cli(env, "export", str(tmp_path / "out.json"))
    assert code == 0, err
    exported = {t["code"]: t for t in json.loads((tmp_path / "out.json").read_text("utf-8"))}
    assert exported["VII.3"]["status"] == "in_progress" and exported["VII.3"]["percent"] == 75
