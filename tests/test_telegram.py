"""Officers use tiendo on Telegram, against a Bot API server of our own on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import open_app
from bot.channels.telegram import TelegramChannel, build_application, split_text
from bot.channels.telegram_polling import poll
from bot.config import Settings, load_settings
from bot.handler_config import handler_config
from bot.web import SECRET_HEADER, TELEGRAM_PATH, build_web_app
from handlers.dispatcher import Dispatcher
from storage.models import ChannelIdentity, OutboxMessage, ProcessedUpdate, Report, Task
from tests.fake_telegram import TOKEN, FakeTelegram, Sent
from tests.plan_factory import PDF, load_plan, make_invite
from tests.test_telegram_http import serving

USER = 5550001


@dataclass
class Bot:
    fake: FakeTelegram
    channel: TelegramChannel
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings


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


@asynccontextmanager
async def running_bot(
    fake: FakeTelegram, db_url: str, data_dir: Path, polling: bool = True
) -> AsyncIterator[Bot]:
    settings = load_settings(
        database_url=db_url,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=fake.url,
        data_dir=data_dir,
    )
    async with open_app(settings) as app:
        application = build_application(settings)
        await application.initialize()
        channel = TelegramChannel(application, Dispatcher(app.sessions, handler_config(settings)))
        stop = asyncio.Event()
        task = asyncio.create_task(poll(channel, stop, timeout=1)) if polling else None
        try:
            yield Bot(fake, channel, app.sessions, settings)
        finally:
            stop.set()  # a graceful stop, as SIGTERM does: the turn in hand is finished
            if task:
                try:
                    await asyncio.wait_for(task, 10)
                except TimeoutError:
                    task.cancel()
            await channel.close()
            await application.shutdown()


def env_for(fake: FakeTelegram, db_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "DATA_DIR": str(tmp_path / "data"),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fake.url,
        "LOG_LEVEL": "INFO",
    }


async def reply_to(fake: FakeTelegram, count: int) -> Sent:
    return (await fake.wait_sent(USER, count))[-1]


def button(sent: Sent, label_start: str) -> str:
    for label, data in sent.buttons:
        if label.startswith(label_start):
            return data
    raise AssertionError(f"no button {label_start!r} in {sent.buttons}")


async def press(fake: FakeTelegram, sent: Sent, label_start: str, expect: int) -> Sent:
    await fake.press(USER, button(sent, label_start), sent.message_id)
    return await reply_to(fake, expect)


async def join(bot: Bot, folder: Path, unit: str = "Sở TT&TT") -> None:
    """The plan is loaded and USER sends /start with an invite of `unit`."""
    await load_plan(bot.sessions, folder)  # type: ignore[arg-type]
    invite = await make_invite(bot.sessions, unit)  # type: ignore[arg-type]
    await bot.fake.push_text(USER, f"/start {invite}")


async def count_rows(sessions, model) -> int:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_an_officer_joins_and_reports_on_telegram(
    fake: FakeTelegram, tmp_path: Path, db_url: str
) -> None:
    env = env_for(fake, db_url, tmp_path)
    async with running_bot(fake, db_url, tmp_path / "data") as bot:
        await load_plan(bot.sessions, tmp_path)  # type: ignore[arg-type]
        code, out, err = await cli(env, "invite", "Sở TT&TT", "--role", "officer")
        assert code == 0, err
        link = next(line for line in out.splitlines() if "t.me" in line)
        assert "https://t.me/tiendo_test_bot?start=" in link
        invite = link.rsplit("=", 1)[1]

        await fake.push_text(USER, f"/start {invite}")
        assert "Sở Thông tin và Truyền thông" in (await reply_to(fake, 1)).text
        await fake.push_text(USER, "/baocao")
        tasks = await reply_to(fake, 2)
        status = await press(fake, tasks, "VII.3", 3)
        assert status.method == "editMessageText" and status.message_id == tasks.message_id
        percent = await press(fake, status, "Đang thực hiện", 4)
        results = await press(fake, percent, "75%", 5)
        assert "Kết quả" in results.text
        await fake.push_text(USER, "Hoàn thành lắp đặt máy chủ")
        difficulties = await reply_to(fake, 6)
        proposals = await press(fake, difficulties, "Bỏ qua", 7)
        files = await press(fake, proposals, "Bỏ qua", 8)
        await fake.push_document(USER, "bien_ban.pdf", PDF)
        received = await reply_to(fake, 9)
        assert "bien_ban.pdf" in received.text
        summary = await press(fake, received, "Xong", 10)
        assert "75%" in summary.text and files.buttons
        done = await press(fake, summary, "Gửi", 11)
        assert "Đã gửi báo cáo số" in done.text

        await fake.push_text(USER, "/nhiemvu")
        listing = await reply_to(fake, 12)
        assert "VII.3" in listing.text and "75%" in listing.text

    code, out, err = await cli(env, "export", str(tmp_path / "out.json"))
    assert code == 0, err
    exported = {t["code"]: t for t in json.loads((tmp_path / "out.json").read_text("utf-8"))}
    assert exported["VII.3"]["status"] == "in_progress" and exported["VII.3"]["percent"] == 75
    assert exported["VII.3"]["last_report_at"] is not None
    assert "answerCallbackQuery" in fake.calls


async def test_a_restart_in_the_middle_of_a_dialog_continues_it(
    fake: FakeTelegram, tmp_path: Path, sqlite_url: str
) -> None:
    async with running_bot(fake, sqlite_url, tmp_path / "data") as bot:
        await join(bot, tmp_path)
        await fake.push_text(USER, "/baocao VII.3")
        status = await reply_to(fake, 2)
    async with running_bot(fake, sqlite_url, tmp_path / "data"):
        percent = await press(fake, status, "Đang thực hiện", 3)
        assert "Tỷ lệ hoàn thành" in percent.text


async def test_a_forged_button_for_another_units_task_is_refused(
    fake: FakeTelegram, tmp_path: Path, sqlite_url: str
) -> None:
    async with running_bot(fake, sqlite_url, tmp_path / "data") as bot:
        await load_plan(bot.sessions, tmp_path)  # type: ignore[arg-type]
        invite = await make_invite(bot.sessions, "Sở TT&TT")  # type: ignore[arg-type]
        async with bot.sessions() as session:  # type: ignore[attr-defined]
            foreign = await session.scalar(select(Task.id).where(Task.code == "VII.1"))
        await fake.push_text(USER, f"/start {invite}")
        await fake.push_text(USER, "/baocao")
        tasks = await reply_to(fake, 2)

        await fake.press(USER, f"t:{foreign}", tasks.message_id)

        texts = " ".join(s.text for s in await fake.wait_sent(USER, 3))
        assert "không thuộc đơn vị của bạn" in texts
        assert await count_rows(bot.sessions, Report) == 0


async def webhook_post(url: str, payload: dict, secret: str | None) -> int:  # type: ignore[type-arg]
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, json=payload, headers=headers) as response,
    ):
        return response.status


@asynccontextmanager
async def webhook_server(bot: Bot, secret: str) -> AsyncIterator[str]:
    async with serving(build_web_app(bot.channel, secret)) as base:
        yield base


def text_update(update_id: int, text: str, user: int = USER) -> dict:  # type: ignore[type-arg]
    message = {
        "message_id": 900 + update_id,
        "date": 1764000000,
        "chat": {"id": user, "type": "private"},
        "from": {"id": user, "is_bot": False, "first_name": "An"},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


async def test_the_webhook_refuses_a_missing_or_wrong_secret(
    fake: FakeTelegram, tmp_path: Path, sqlite_url: str
) -> None:
    async with (
        running_bot(fake, sqlite_url, tmp_path / "data", polling=False) as bot,
        webhook_server(bot, "s3cret-token-123") as base,
    ):
        url = base + TELEGRAM_PATH
        assert await webhook_post(url, text_update(1, "/trogiup"), None) == 403
        assert await webhook_post(url, text_update(2, "/trogiup"), "wrong-secret") == 403
        assert fake.sent == [] and await count_rows(bot.sessions, ProcessedUpdate) == 0

        assert await webhook_post(url, text_update(3, "/trogiup"), "s3cret-token-123") == 200
        assert len(fake.to(USER)) == 1
        async with aiohttp.ClientSession() as http, http.get(base + "/healthz") as health:
            assert health.status == 200


async def test_the_same_update_twice_has_one_effect(
    fake: FakeTelegram, tmp_path: Path, db_url: str
) -> None:
    async with (
        running_bot(fake, db_url, tmp_path / "data", polling=False) as bot,
        webhook_server(bot, "s3cret-token-123") as base,
    ):
        await load_plan(bot.sessions, tmp_path)  # type: ignore[arg-type]
        invite = await make_invite(bot.sessions, "Sở TT&TT", uses=5)  # type: ignore[arg-type]
        url = base + TELEGRAM_PATH
        start = text_update(10, f"/start {invite}")

        statuses = [await webhook_post(url, start, "s3cret-token-123") for _ in range(2)]

        assert statuses == [200, 200]
        assert len(fake.to(USER)) == 1  # answered once
        async with bot.sessions() as session:  # type: ignore[attr-defined]
            people = await session.scalar(select(func.count()).select_from(ChannelIdentity))
        assert people == 1


async def test_two_updates_of_one_person_at_once_lose_no_step(
    fake: FakeTelegram, tmp_path: Path, db_url: str
) -> None:
    async with (
        running_bot(fake, db_url, tmp_path / "data", polling=False) as bot,
        webhook_server(bot, "s3cret-token-123") as base,
    ):
        await load_plan(bot.sessions, tmp_path)  # type: ignore[arg-type]
        invite = await make_invite(bot.sessions, "Sở TT&TT")  # type: ignore[arg-type]
        url = base + TELEGRAM_PATH
        start = text_update(20, f"/start {invite}")
        assert await webhook_post(url, start, "s3cret-token-123") == 200
        assert await webhook_post(url, text_update(21, "/baocao VII.3"), "s3cret-token-123") == 200
        status = fake.to(USER)[-1]
        press_update = {
            "update_id": 22,
            "callback_query": {
                "id": "q1",
                "from": {"id": USER, "is_bot": False, "first_name": "An"},
                "chat_instance": "c",
                "data": button(status, "Đang thực hiện"),
                "message": {
                    "message_id": status.message_id,
                    "date": 1764000000,
                    "chat": {"id": USER, "type": "private"},
                    "text": "…",
                },
            },
        }

        codes = await asyncio.gather(
            webhook_post(url, press_update, "s3cret-token-123"),
            webhook_post(url, text_update(23, "60"), "s3cret-token-123"),
        )

        assert codes == [200, 200]
        async with bot.sessions() as session:  # type: ignore[attr-defined]
            from storage.models import Conversation

            state = await session.scalar(select(Conversation))
        # Both answers were applied, one after the other, whatever order they won in.
        assert state is not None and state.step in ("results", "percent")
        if state.step == "results":
            assert state.data["percent"] == 60


async def test_a_blocked_user_is_marked_unreachable(
    fake: FakeTelegram, tmp_path: Path, sqlite_url: str
) -> None:
    async with running_bot(fake, sqlite_url, tmp_path / "data") as bot:
        await join(bot, tmp_path)
        await reply_to(fake, 1)
        fake.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")

        await fake.push_text(USER, "/trogiup")

        for _ in range(100):
            async with bot.sessions() as session:  # type: ignore[attr-defined]
                reachable = await session.scalar(select(ChannelIdentity.reachable))
            if reachable is False:
                break
            await asyncio.sleep(0.05)
        assert reachable is False


async def test_a_flood_limit_is_waited_out_by_its_chat_alone(
    fake: FakeTelegram, tmp_path: Path, sqlite_url: str
) -> None:
    other = USER + 1
    async with running_bot(fake, sqlite_url, tmp_path / "data") as bot:
        fake.fail_next_to(USER, "sendMessage", 429, "Too Many Requests: retry after 2",
                          retry_after=2)  # fmt: skip
        began = asyncio.get_running_loop().time()
        await fake.push_text(USER, "/trogiup")
        await fake.push_text(other, "/trogiup")

        assert "/start" in (await fake.wait_sent(other, 1))[0].text
        assert fake.to(USER) == []  # held, while the other chat was answered
        assert "/start" in (await reply_to(fake, 1)).text
        assert asyncio.get_running_loop().time() - began >= 2
        for _ in range(100):  # the note that it went out follows the message itself
            async with bot.sessions() as session:
                held = (
                    await session.scalars(
                        select(OutboxMessage).where(OutboxMessage.chat_id == str(USER))
                    )
                ).all()
            if held and held[0].state == "sent":
                break
            await asyncio.sleep(0.05)
        assert len(held) == 1 and held[0].state == "sent"
        assert held[0].attempts == 1  # waited out, not dropped


async def test_a_poller_cancelled_mid_long_poll_leaves_no_request_behind(
    fake: FakeTelegram, tmp_path: Path, sqlite_url: str
) -> None:
    async with running_bot(fake, sqlite_url, tmp_path / "data", polling=False) as bot:
        poller = asyncio.create_task(poll(bot.channel, asyncio.Event(), timeout=2))
        await asyncio.sleep(0.3)  # the long poll is now waiting at the server
        poller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await poller
        pending = [t for t in asyncio.all_tasks() if "get_updates" in repr(t.get_coro())]
        assert pending == []


def test_long_texts_are_split_at_line_ends() -> None:
    text = "\n".join(f"dòng {i} " + "x" * 50 for i in range(300))
    pieces = split_text(text)
    assert len(pieces) > 1 and all(len(p) <= 4096 for p in pieces)
    assert "\n".join(pieces) == text
    word_soup = "chữ " * 3000
    assert all(len(p) <= 4096 for p in split_text(word_soup))


async def test_a_double_tap_on_next_page_edits_nothing_and_breaks_nothing(
    fake: FakeTelegram, tmp_path: Path, sqlite_url: str
) -> None:
    from storage.samples.builder import AppendixGroup, AppendixTask

    many = [
        AppendixTask(n, f"Nhiệm vụ {n}", "Sở Y tế", "", f"Tháng {n}/2027") for n in range(1, 12)
    ]
    async with running_bot(fake, sqlite_url, tmp_path / "data") as bot:
        await load_plan(bot.sessions, tmp_path, [AppendixGroup("IX", "Xã hội số", many)])  # type: ignore[arg-type]
        invite = await make_invite(bot.sessions, "Sở Y tế")  # type: ignore[arg-type]
        await fake.push_text(USER, f"/start {invite}")
        await fake.push_text(USER, "/baocao")
        first_page = await reply_to(fake, 2)
        second_page = await press(fake, first_page, "Trang sau", 3)
        assert "Trang 2/2" in second_page.text

        # The same "next page" tap again: the same page, the same content; Telegram answers
        # "message is not modified" and the adapter takes it calmly.
        await fake.press(USER, button(first_page, "Trang sau"), first_page.message_id)
        await asyncio.sleep(0.3)
        assert len(fake.to(USER)) == 3 and fake.calls.count("editMessageText") == 2

        status = await press(fake, second_page, "IX.10", 4)
        assert "IX.10" in status.text


async def test_a_file_that_cannot_be_downloaded_is_asked_for_again(
    fake: FakeTelegram, tmp_path: Path, sqlite_url: str
) -> None:
    async with running_bot(fake, sqlite_url, tmp_path / "data") as bot:
        await join(bot, tmp_path)
        await fake.push_text(USER, "/baocao VII.3")
        percent = await press(fake, await reply_to(fake, 2), "Đang thực hiện", 3)
        await press(fake, percent, "25%", 4)
        await fake.push_text(USER, "Đã khảo sát")
        proposals = await press(fake, await reply_to(fake, 5), "Bỏ qua", 6)
        await press(fake, proposals, "Bỏ qua", 7)

        await fake.push_document(USER, "mat.pdf", PDF, gone=True)

        texts = [s.text for s in await fake.wait_sent(USER, 9)]
        assert "Không tải được tệp “mat.pdf”" in texts[7] and "tệp minh chứng" in texts[8]
        await fake.push_document(USER, "lai.pdf", PDF)
        assert "Đã nhận 1 tệp: lai.pdf" in (await reply_to(fake, 10)).text
