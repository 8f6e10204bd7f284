"""The Bot API client over aiohttp: forms, files, downloads, and faults named as PTB names them."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.channels.telegram_http import AiohttpRequest
from tests.fake_telegram import TOKEN, FakeTelegram

USER = 5550002


def bot_for(url: str, **request: float) -> Bot:
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
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        request = AiohttpRequest(read_timeout=0.2)
        await request.initialize()
        with pytest.raises(TimedOut):
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
        await request.shutdown()
    finally:
        await runner.cleanup()


async def test_a_server_that_is_not_there_is_a_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    request = AiohttpRequest()
    await request.initialize()
    with pytest.raises(NetworkError, match="aiohttp"):
        await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    await request.shutdown()
