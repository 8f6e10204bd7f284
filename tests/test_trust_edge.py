"""What arrives at the edge is parsed there: control characters, oversized files, bodies that
are no update, a port already taken. Nothing of it reaches a handler, the database or a
traceback."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.web import SECRET_HEADER, TELEGRAM_PATH
from handlers.events import Incoming, IncomingFile, clean_line, clean_text
from storage.models import EvidenceFile, Person, Report
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.plan_factory import NOW, PDF, load_plan, make_invite
from tests.test_telegram import (
    USER,
    button,
    count_rows,
    press,
    reply_to,
    running_bot,
    text_update,
    webhook_server,
)

SECRET = "s3cret-token-123"
MB = 1024 * 1024


def test_control_characters_go_and_new_lines_and_tabs_stay() -> None:
    assert clean_text("a\x00b\x07c\x1b[31md\x7fe\x85f") == "abc[31mdef"
    assert clean_text("dòng 1\r\ndòng 2\rdòng 3\n\tthụt") == "dòng 1\ndòng 2\ndòng 3\n\tthụt"
    assert clean_text("nửa \ud800cặp") == "nửa cặp"
    assert clean_text("Sở TT&TT — 75%") == "Sở TT&TT — 75%"
    assert clean_line(" tên\n\ttệp\x00.pdf ") == "tên tệp.pdf"


def test_every_channel_gets_clean_events_whatever_it_passes() -> None:
    async def read() -> bytes:
        return b""

    event = Incoming(
        channel="console",
        chat_id="1",
        sender_id="1",
        sender_name="An\x00\n",
        received_at=NOW,
        text="/baocao\x00 VII.3\x00",
        command="baocao\x00",
        args=("VII.3\x00", "\x00"),
        files=(IncomingFile("bien\x00ban\n.pdf", "", 3, read),),
    )
    assert (event.sender_name, event.text, event.command) == ("An", "/baocao VII.3", "baocao")
    assert event.args == ("VII.3",) and event.files[0].file_name == "bienban .pdf"


async def test_nul_in_texts_names_and_codes_is_dropped_on_the_way_in(
    fake: FakeTelegram, tmp_path: Path, db_url: str
) -> None:
    async with running_bot(fake, db_url, tmp_path / "data") as bot:
        await load_plan(bot.sessions, tmp_path)  # type: ignore[arg-type]
        code = await make_invite(bot.sessions, "Sở TT&TT")  # type: ignore[arg-type]
        await fake.push_text(USER, f"/start {code}\x00", name="Trần\x00 Thị\x1b Bình")
        assert "Chào Trần Thị Bình" in (await reply_to(fake, 1)).text

        await fake.push_text(USER, "/baocao VII.3\x00")  # a task code typed, with a NUL
        status = await reply_to(fake, 2)
        assert "VII.3" in status.text and status.buttons
        percent = await press(fake, status, "Đang thực hiện", 3)
        await press(fake, percent, "50%", 4)
        await fake.push_text(USER, "Đã lắp\x00 đặt\x07 máy chủ\r\nxong\tphần 1")
        proposals = await press(fake, await reply_to(fake, 5), "Bỏ qua", 6)
        await press(fake, proposals, "Bỏ qua", 7)
        await fake.push_document(USER, "bien\x00_ban\x1b.pdf", PDF)
        received = await reply_to(fake, 8)
        assert "bien_ban.pdf" in received.text
        summary = await press(fake, received, "Xong", 9)
        assert "Đã gửi báo cáo số" in (await press(fake, summary, "Gửi", 10)).text

        async with bot.sessions() as session:  # type: ignore[attr-defined]
            report = await session.scalar(select(Report))
            stored = await session.scalar(select(EvidenceFile))
            person = await session.scalar(select(Person))
        assert report is not None and report.results == "Đã lắp đặt máy chủ\nxong\tphần 1"
        assert stored is not None and stored.file_name == "bien_ban.pdf"
        assert person is not None and person.full_name == "Trần Thị Bình"


async def test_a_big_document_without_a_size_is_refused_without_reading_it_all(
    fake: FakeTelegram, tmp_path: Path, sqlite_url: str
) -> None:
    fake.download_pause = 0.002  # a link slower than the bot reads: buffers hold little
    async with running_bot(fake, sqlite_url, tmp_path / "data") as bot:
        await load_plan(bot.sessions, tmp_path)  # type: ignore[arg-type]
        code = await make_invite(bot.sessions, "Sở TT&TT")  # type: ignore[arg-type]
        await fake.push_text(USER, f"/start {code}")
        await fake.push_text(USER, "/baocao VII.3")
        percent = await press(fake, await reply_to(fake, 2), "Đang thực hiện", 3)
        await press(fake, percent, "50%", 4)
        await fake.push_text(USER, "Đã khảo sát")
        proposals = await press(fake, await reply_to(fake, 5), "Bỏ qua", 6)
        files = await press(fake, proposals, "Bỏ qua", 7)
        assert button(files, "Bỏ qua")

        await fake.push_document(USER, "ban_ve.pdf", b"%PDF" + bytes(25 * MB), sized=False)

        refusal = await reply_to(fake, 8)
        assert "vượt quá 20 MB" in refusal.text
        path = "documents/ban_ve.pdf"
        assert path not in fake.served_whole and fake.served[path] < 25 * MB
        assert await count_rows(bot.sessions, EvidenceFile) == 0
        assert not (tmp_path / "data" / "evidence").exists()


async def post_raw(url: str, body: bytes) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=body, headers={SECRET_HEADER: SECRET}) as response,
    ):
        return response.status


@pytest.mark.parametrize(
    "body",
    [b"[]", b'"x"', b"null", b"42", b"{", b"\xff\xfe", b"", b"{}", b'{"update_id": "7"}',
     b'{"update_id": true}', b'{"update_id": 7, "message": "x"}',
     b'{"update_id": 7, "message": {"chat": []}}'],
)  # fmt: skip
async def test_a_webhook_body_that_is_not_one_update_is_a_400(
    fake: FakeTelegram, tmp_path: Path, sqlite_url: str, body: bytes
) -> None:
    async with (
        running_bot(fake, sqlite_url, tmp_path / "data", polling=False) as bot,
        webhook_server(bot, SECRET) as base,
    ):
        assert await post_raw(base + TELEGRAM_PATH, body) == 400
        assert fake.sent == []
        good = text_update(8, "/trogiup")
        assert await post_raw(base + TELEGRAM_PATH, _json(good)) == 200


def _json(payload: object) -> bytes:
    import json

    return json.dumps(payload).encode()


async def test_a_port_already_taken_is_named_and_ends_the_run(
    fake: FakeTelegram, tmp_path: Path, sqlite_url: str
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env={
                **os.environ,
                "DATABASE_URL": sqlite_url,
                "DATA_DIR": str(tmp_path / "data"),
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": fake.url,
                "HTTP_PORT": str(port),
            },
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _out, err = await asyncio.wait_for(proc.communicate(), 60)
    message = err.decode()
    assert proc.returncode == 1, message
    assert f"127.0.0.1:{port}" in message and "đang được một chương trình khác dùng" in message
    assert "HTTP_PORT" in message and "Traceback" not in message
