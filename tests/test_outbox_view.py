"""/hopthu: an admin sees from the phone where the bot's messages stand.

The messages are sent by the real outbox dispatcher to the fake Telegram server, where one
officer blocked the bot; a Zalo message waits (no Zalo channel runs in this story). The admin
asks in a private chat; nobody else may, and not in a group.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from handlers import notices
from handlers.dispatcher import Dispatcher
from handlers.events import Reply
from scheduler.rate_limit import ChannelLimits
from storage.db import create_engine, session_factory, session_scope
from tests.plan_factory import config
from tests.test_broadcast import person, said
from tests.test_outbox_dispatcher import decide, dispatching, started_fake

ADMIN, BLOCKED, READER = "5557000", "5557001", "5557002"
ZALO_CHAT = "c0ffee00000000000001"
SPEEDY = ChannelLimits(1000, 0.0)


async def test_an_admin_sees_counts_the_oldest_waiting_and_the_failure(
    tmp_path: Path, sqlite_url: str
) -> None:
    async with (
        started_fake("telegram") as fake,
        dispatching("telegram", fake, sqlite_url, tmp_path, limits=SPEEDY) as bot,
    ):
        fake.blocked.add(BLOCKED)
        await person(bot.sessions, "telegram", ADMIN, "admin")
        for user in (BLOCKED, READER):
            someone = await person(bot.sessions, "telegram", user)
            async with session_scope(bot.sessions) as session:
                await notices.notify(
                    session,
                    someone,
                    "deadline:VII.3",
                    lambda lang: Reply("Nhiệm vụ VII.3 đến hạn ngày 30/11/2026."),
                    bot.clock.now(),
                )
        async with session_scope(bot.sessions) as session:  # decided 5 minutes ago, waiting
            then = datetime.now(UTC) - timedelta(minutes=5, seconds=10)
            await decide(session, "zalo", ZALO_CHAT, "Nhắc báo cáo tháng", "zalo:1", then)
        bot.dispatcher.wake()
        await bot.settled(2)

    handlers = Dispatcher(bot.sessions, config(tmp_path))
    [shown] = (await handlers.handle(said(ADMIN, "/hopthu"))).replies
    lines = shown.text.splitlines()
    assert "• Telegram: chờ gửi 0, đang gửi 0, đã gửi 1, lỗi 1" in lines
    assert "• Zalo: chờ gửi 1, đang gửi 0, đã gửi 0, lỗi 0" in lines
    [oldest] = [line for line in lines if "Tin chờ lâu nhất" in line]
    assert "đã chờ 5 phút" in oldest
    assert "Không gửi được: 1 tin. Gần nhất:" in lines
    [failure] = [line for line in lines if f"chat {BLOCKED}" in line]
    assert "blocked" in failure and "notice" in failure


async def test_only_an_admin_may_look_and_only_in_private(tmp_path: Path, sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    await person(sessions, "telegram", READER)
    await person(sessions, "telegram", ADMIN, "admin")
    handlers = Dispatcher(sessions, config(tmp_path))
    [empty] = (await handlers.handle(said(ADMIN, "/hopthu"))).replies
    assert empty.text == "Hộp thư đi trống: bot chưa có tin nhắn nào cần gửi."

    [refused] = (await handlers.handle(said(READER, "/hopthu"))).replies
    assert refused.text == "Bạn không có quyền dùng lệnh này."
    [in_group] = (await handlers.handle(said(ADMIN, "/hopthu", "group", "-100777"))).replies
    assert "Hộp thư" not in in_group.text and "riêng" in in_group.text
    # The replies are in the outbox too (nothing here sends them): they are counted.
    [counted] = (await handlers.handle(said(ADMIN, "/hopthu"))).replies
    assert "• Telegram: chờ gửi 3," in counted.text
    await engine.dispose()
