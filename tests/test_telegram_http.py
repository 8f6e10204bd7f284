"""The Bot API client over aiohttp: forms, files, downloads, and faults named as PTB names them."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.channels.telegram_http import AiohttpRequest, download
from tests.fake_telegram import TOKEN, FakeTelegram

USER = 5550002


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """`app` served on 127.0.0.1 while the block runs; its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def bot_for(url: str, **request: Any) -> Bot:
    return Bot(
        TOKEN,
        base_url=f"{url}/bot",
        base_file_url=f"{url}/file/bot",
        request=AiohttpRequest(**request),
    )  # type: ignore[arg-type]


async def test_messages_with_keyboards_and_documents_reach_the_server(fake: FakeTelegram) -> None:
    async with bot_for(fake.url) as bot:
        assert (await bot.get_me()).username == "tiendo_test_bot"
        await bot.send_message(USER, "Chào anh — báo cáo tiến độ")
        await bot.send_document(USER, b"%PDF-1.4 tep", filename="bao_cao.pdf", caption="Tệp")
    assert [s.text for s in fake.to(USER)] == ["Chào anh — báo cáo tiến độ", "Tệp"]
    assert fake.uploads == [("bao_cao.pdf", b"%PDF-1.4 tep")]


async def test_a_file_an_officer_sent_is_downloaded(fake: FakeTelegram) -> None:
    await fake.push_document(USER, "minh_chung.pdf", b"%PDF-1.4 noi dung")
    file_id = fake.updates[-1]["message"]["document"]["file_id"]
    async with bot_for(fake.url) as bot:
        file = await bot.get_file(file_id)
        assert bytes(await file.download_as_bytearray()) == b"%PDF-1.4 noi dung"


async def test_a_server_that_does_not_answer_in_time_is_a_timeout() -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/{tail:.*}", slow)
    async with serving(app) as base:
        request = AiohttpRequest(read_timeout=0.2)
        await request.initialize()
        with pytest.raises(TimedOut):
            await request.post(f"{base}/bot{TOKEN}/getMe")
        await request.shutdown()


async def test_a_server_that_is_not_there_is_a_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    request = AiohttpRequest()
    await request.initialize()
    with pytest.raises(NetworkError, match="aiohttp"):
        await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    await request.shutdown()


async def test_a_download_stops_at_its_limit_even_on_an_endless_body() -> None:
    sent = 0

    async def endless(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        response = web.StreamResponse()  # no Content-Length, no end: only a cap stops it
        await response.prepare(request)
        try:
            while True:
                await response.write(b"x" * 65536)
                sent += 65536
                await asyncio.sleep(0)
        except ConnectionError:
            return response

    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404)

    app = web.Application()
    app.router.add_get("/endless", endless)
    app.router.add_get("/missing", missing)
    async with serving(app) as base:
        body = await asyncio.wait_for(download(f"{base}/endless", 1_000_000), 10)
        assert len(body) == 1_000_001
        with pytest.raises(NetworkError, match="404"):
            await download(f"{base}/missing", 1000)
    assert sent < 1_000_000 * 50  # it hung up; the server stopped writing soon after
