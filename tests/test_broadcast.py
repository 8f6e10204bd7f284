"""An admin tells every officer something with /thongbao, on Telegram and Zalo at once.

The story runs as `tiendo run` does, in this process: both channels polling their fake servers
(the admin talks to the bot on the fake Telegram), and the real outbox dispatcher sending
through both, with the broadcast's done-hook registered as `tiendo run` registers it. The fake
servers enforce no limit and the dispatcher is configured fast: a few dozen recipients take a
moment, the rate itself is bench/fanout_bench.py's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import open_app
from bot.channels import telegram_polling, zalo_polling
from bot.channels.files import FileLinks
from bot.channels.telegram_service import TelegramService
from bot.channels.zalo_service import ZaloService
from bot.config import load_settings
from bot.handler_config import handler_config
from handlers import broadcast
from handlers.dispatcher import Dispatcher
from handlers.events import Incoming, command_of
from handlers.options import CONFIRM
from scheduler import broadcast_done
from scheduler.outbox_dispatcher import OutboxDispatcher, Tuning
from scheduler.rate_limit import ChannelLimits
from storage.db import create_engine, session_factory, session_scope
from storage.models import AuditLog, ChannelIdentity, OutboxMessage, Person
from storage.repositories import outbox, people
from storage.repositories.outbox import Draft
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.fake_zalo import TOKEN as ZALO_TOKEN
from tests.fake_zalo import FakeZalo
from tests.plan_factory import config
from tests.test_admin_people import TelegramChat
from tests.test_telegram import button

ADMIN = 5559000
COMMITTEE = 5559001
TG_OFFICERS = [5559100 + n for n in range(12)]
ZALO_OFFICERS = [f"b0adca57{n:012d}" for n in range(8)]
BOTH = (5559200, "b0adca57999999999999")  # one head of unit on both messengers
BLOCKED = TG_OFFICERS[3]
UNREACHABLE = 5559300  # an officer whose only messenger is marked unreachable
REVOKED = 5559301
TEXT = "Họp giao ban chuyển đổi số lúc 14h00 thứ Sáu 04/12/2026.\nĐề nghị các đơn vị cử người dự."
HEARD = "📢 Thông báo:\n" + TEXT
_updates = count(1)
FAST = ChannelLimits(per_second=1000, chat_seconds=0.0, headroom=1.0)
QUICK = Tuning(lease=timedelta(hours=1), poll_seconds=0.05)


@dataclass
class OnAir:
    telegram: FakeTelegram
    zalo: FakeZalo
    sessions: async_sessionmaker[AsyncSession]


@asynccontextmanager
async def on_air(db_url: str, data: Path) -> AsyncIterator[OnAir]:
    """Both fake messengers, both channels polling them, and the outbox dispatcher."""
    telegram, zalo = FakeTelegram(), FakeZalo()
    await telegram.start()
    await zalo.start()
    settings = load_settings(
        database_url=db_url,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=telegram.url,
        zalo_bot_token=ZALO_TOKEN,
        zalo_api_base_url=zalo.url,
        data_dir=data,
    )
    stop = asyncio.Event()
    try:
        async with open_app(settings) as app:
            handlers = Dispatcher(app.sessions, handler_config(settings))
            links = FileLinks.from_settings(settings)
            services: tuple[TelegramService, ZaloService] = (
                TelegramService(settings, handlers, links),
                ZaloService(settings, handlers, links),
            )
            for service in services:
                await service.open()
            senders = {service.channel.name: service.outbox_sender() for service in services}
            dispatcher = OutboxDispatcher(
                app.sessions,
                senders,
                {name: FAST for name in senders},
                "test-1",
                tuning=QUICK,
                on_settled={broadcast.KIND: broadcast_done.settled},
            )
            # Short polls: a stopped fake server does not wait for a long poll to end.
            tasks = [
                asyncio.create_task(telegram_polling.poll(services[0].channel, stop, timeout=1)),
                asyncio.create_task(zalo_polling.poll(services[1].channel, stop, timeout=1)),
                asyncio.create_task(dispatcher.serve(stop)),
            ]
            try:
                yield OnAir(telegram, zalo, app.sessions)
            finally:
                stop.set()
                await asyncio.wait_for(asyncio.gather(*tasks), 15)
                for service in services:
                    await service.close()
    finally:
        await zalo.stop()
        await telegram.stop()


async def person(
    sessions: async_sessionmaker[AsyncSession],
    channel: str,
    user: str | int,
    role: str = "officer",
    name: str = "",
) -> Person:
    async with session_scope(sessions) as session:
        return await people.create(
            session,
            channel=channel,
            external_id=str(user),
            chat_id=str(user),
            name=name or f"Cán bộ {user}",
            role=role,
            unit_id=None,
            language="vi",
            now=datetime.now(UTC),
        )


async def the_people(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The admin, a committee member, 21 officers and heads reachable (one of them on both
    messengers), one unreachable, one revoked."""
    await person(sessions, "telegram", ADMIN, "admin", "Trần Quản Trị")
    await person(sessions, "telegram", COMMITTEE, "committee", "Ban Chỉ đạo")
    for user in TG_OFFICERS:
        await person(sessions, "telegram", user)
    for zalo_user in ZALO_OFFICERS:
        await person(sessions, "zalo", zalo_user)
    head = await person(sessions, "telegram", BOTH[0], "head")
    unreachable = await person(sessions, "telegram", UNREACHABLE)
    revoked = await person(sessions, "telegram", REVOKED)
    async with session_scope(sessions) as session:
        zalo = ChannelIdentity(
            person_id=head.id, channel="zalo", external_id=BOTH[1], chat_id=BOTH[1]
        )
        session.add(zalo)
        for identity in await session.scalars(
            select(ChannelIdentity).where(ChannelIdentity.person_id == unreachable.id)
        ):
            identity.reachable = False
        found = await session.get(Person, revoked.id)
        assert found is not None
        found.revoked_at = datetime.now(UTC)


def said(
    user: str,
    text: str = "",
    chat_type: str = "private",
    chat: str | None = None,
    option: str | None = None,
) -> Incoming:
    """What a Telegram user typed (or, with `option`, pressed), as the channel hands it on."""
    command = command_of(text)
    return Incoming(
        channel="telegram",
        chat_id=chat or user,
        sender_id=user,
        sender_name="Trần Quản Trị",
        received_at=datetime.now(UTC),
        chat_type="group" if chat_type == "group" else "private",
        text=text or None,
        command=command[0] if command else None,
        args=command[1] if command else (),
        option_id=option,
        update_key=f"u{next(_updates)}",
    )


async def broadcast_rows(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == "broadcast")
        return list((await session.scalars(query.order_by(OutboxMessage.id))).all())


async def test_an_admin_broadcasts_to_officers_on_both_messengers(
    tmp_path: Path, db_url: str
) -> None:
    async with on_air(db_url, tmp_path / "data") as air:
        await the_people(air.sessions)
        tg, zalo = air.telegram, air.zalo
        tg.blocked.add(str(BLOCKED))

        member = TelegramChat(tg, COMMITTEE, "Ban Chỉ đạo")
        assert "không có quyền" in (await member.say("/thongbao Họp ngay")).lower()

        admin = TelegramChat(tg, ADMIN, "Trần Quản Trị")
        asked = await admin.say("/thongbao " + TEXT)
        assert "tới 22 người" in asked and "22 tin nhắn" in asked
        assert "1 người không nhận được" in asked
        assert "không gồm Ban Chỉ đạo và quản trị" in asked
        assert TEXT in asked  # the preview, lines and all
        assert await broadcast_rows(air.sessions) == []  # nothing before the admin confirms

        prompt = admin.last
        assert prompt is not None
        queued = await admin.press("Gửi")
        assert "Đã xếp 22 tin nhắn cho 21 người" in queued
        # The same button pressed a second time (a double tap, a client sending it again).
        await tg.press(ADMIN, button(prompt, "Gửi"), prompt.message_id, name=admin.name)

        later = await tg.wait_sent(ADMIN, admin.seen + 2, timeout=20)
        [again] = [s.text for s in later[admin.seen :] if "đã kết thúc" in s.text]
        [done] = [s.text for s in later[admin.seen :] if s.text != again]
        rows = await broadcast_rows(air.sessions)

        for user in [*TG_OFFICERS, BOTH[0]]:
            expected = [] if user == BLOCKED else [HEARD]
            assert [s.text for s in tg.to(user)] == expected, user
        for zalo_user in [*ZALO_OFFICERS, BOTH[1]]:
            assert zalo.texts(zalo_user) == [HEARD], zalo_user
        for nobody in (UNREACHABLE, REVOKED):
            assert tg.to(nobody) == []
        assert [s.text for s in tg.to(COMMITTEE)][1:] == []  # only its refusal

        assert len(rows) == 22  # the second press enqueued nothing
        failed = [r for r in rows if r.state == "failed"]
        assert [r.chat_id for r in failed] == [str(BLOCKED)]
        assert {r.state for r in rows} == {"sent", "failed"}
        assert "21 tin đã đến, 1 tin không gửi được" in done
        assert "blocked" in done and TEXT[:40] in done

        async with air.sessions() as session:
            query = select(AuditLog).where(AuditLog.action == "broadcast.created")
            [entry] = (await session.scalars(query)).all()
            notices = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.key.startswith("broadcast-done:"))
            )
    assert entry.details["text"] == TEXT and entry.details["messages"] == 22
    assert entry.details["people"] == 22 and entry.details["reached"] == 21
    assert notices == 1


async def test_the_same_broadcast_decided_twice_is_enqueued_once(db_url: str) -> None:
    """A confirm handled twice, or on two instances: the keys (broadcast, person, messenger,
    chat) let each message in once, in one statement for all of them."""
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    decided = [
        Draft(f"broadcast:abc:{n}:telegram:{n}", "telegram", str(n), "broadcast", {"text": "x"})
        for n in range(1, 41)
    ]
    try:
        async with session_scope(sessions) as session:
            assert await outbox.enqueue_many(session, decided[:30], now) == 30
        async with session_scope(sessions) as session:
            assert await outbox.enqueue_many(session, decided, now) == 10
            assert await outbox.enqueue_many(session, [], now) == 0
        assert len(await broadcast_rows(sessions)) == 40
    finally:
        await engine.dispose()


async def test_a_typo_reaches_nobody(tmp_path: Path, sqlite_url: str) -> None:
    """No text, too long a text, or Huỷ: nothing is enqueued and nothing is recorded."""
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    await person(sessions, "telegram", ADMIN, "admin")
    await person(sessions, "telegram", TG_OFFICERS[0])
    handlers = Dispatcher(sessions, config(tmp_path))

    async def say(text: str = "", option: str | None = None) -> str:
        handled = await handlers.handle(said(str(ADMIN), text, option=option))
        return "\n".join(reply.text for reply in handled.replies)

    assert "Cách dùng: /thongbao NỘI DUNG" in await say("/thongbao")
    assert "3.001 ký tự, quá mức 3.000" in await say("/thongbao " + "a" * 3001)
    asked = await say("/thongbao Họp\x07 gấp\r\nlúc 14h00")
    assert "📢 Thông báo:\nHọp gấp\nlúc 14h00" in asked  # cleaned, lines kept
    assert "tới 1 người" in asked and "không nhận được" not in asked
    assert "Đã huỷ" in await say(option=CONFIRM.id("cancel"))
    assert "đã kết thúc" in await say(option=CONFIRM.id("send"))

    assert await broadcast_rows(sessions) == []
    async with sessions() as session:
        entries = await session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "broadcast.created")
        )
    assert entries == 0
    await engine.dispose()
