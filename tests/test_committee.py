"""The steering committee's groups: an admin binds a group with /ganhom (on Telegram and on
Zalo), anyone in it asks /tinhhinh and reads the figures of the plan as it stands, an officer's
report shows in the next answer, /gohom unbinds it; the group's own talk is left alone and no
report dialog ever opens in a group.

The bot runs as `tiendo run` assembles it (each messenger's service, its long poll, the one
dispatcher) against the fake Telegram and Zalo servers, with the clock at NOW.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import open_app
from bot.channels.files import FileLinks
from bot.channels.telegram_polling import poll as telegram_poll
from bot.channels.telegram_service import TelegramService
from bot.channels.zalo_service import ZaloService
from bot.config import load_settings
from bot.handler_config import handler_config
from handlers.dispatcher import Dispatcher
from handlers.i18n import t
from storage.db import create_engine, session_factory
from storage.models import AuditLog, BoundChat, Conversation, Report
from storage.samples.builder import AppendixGroup
from tests import fake_telegram, fake_zalo
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo
from tests.plan_factory import NOW, T, config, load_plan, make_invite
from tests.test_trust_groups import InGroup

# Telegram users and groups are numbers, Zalo's are strings; both are written as text here.
TELEGRAM = {
    "admin": "5550009",
    "officer": "5550001",
    "head": "5550002",
    "guest": "5550077",
    "group": "-100777",
    "other_group": "-100778",
}
ZALO = {
    "admin": "a0000000000000000009",
    "officer": "a0000000000000000001",
    "head": "a0000000000000000002",
    "guest": "a0000000000000000077",
    "group": "f00dcafe0000000000aa",
    "other_group": "f00dcafe0000000000bb",
}
TALK = "Mọi người họp lúc 14h chiều nay nhé"


def committee_plan() -> list[AppendixGroup]:
    """Four tasks on NOW (25/11/2026): two within their deadline, two long overdue."""
    return [
        AppendixGroup(
            "I",
            "Công tác tuyên truyền, nâng cao nhận thức",
            [
                T(1, "Tuyên truyền chuyển đổi số", "Sở TT&TT", "Báo Hải Phòng", "Quý IV/2027"),
                T(2, "Hội nghị chuyên đề", "Sở Nội vụ", "Sở TT&TT", "Tháng 6/2026"),
            ],
        ),
        AppendixGroup(
            "VII",
            "Phát triển chính quyền số",
            [
                T(1, "Dịch vụ công trực tuyến", "VP UBND TP", "", "Quý IV/2025"),
                T(2, "Trung tâm điều hành thông minh", "Sở TT&TT", "Công an TP", "30/6/2027"),
            ],
        ),
    ]


def data_plan() -> list[AppendixGroup]:
    """A second plan followed beside it: one task overdue, one within its deadline."""
    return [
        AppendixGroup(
            "I",
            "Phát triển dữ liệu",
            [
                T(1, "Kho dữ liệu dùng chung", "Sở TT&TT", "", "Quý I/2026"),
                T(2, "Cơ sở dữ liệu cán bộ, công chức", "Sở Nội vụ", "", "Năm 2027"),
            ],
        )
    ]


YEAR_PLAN, DATA_PLAN = "Kế hoạch chuyển đổi số năm 2026", "Kế hoạch phát triển dữ liệu số"
# What /tinhhinh must say of the two plans on NOW (25/11/2026), worked out by hand: 31/12/2025
# is 329 days before, 31/03/2026 239 days, 30/06/2026 148 days; nobody has reported yet.
BEFORE_REPORT = (
    "KH 2026 — Kế hoạch chuyển đổi số năm 2026",
    "4 nhiệm vụ; đã hoàn thành 0 (0,0%); đang thực hiện trong hạn 0; quá hạn 0 (0,0%)",
    "Chưa báo cáo: 4 (100,0%), trong đó 2 đã quá hạn",
    "I. Công tác tuyên truyền, nâng cao nhận thức: 2 nhiệm vụ; hoàn thành 0; quá hạn 0; "
    "chưa báo cáo 2",
    "VII. Phát triển chính quyền số: 2 nhiệm vụ; hoàn thành 0; quá hạn 0; chưa báo cáo 2",
    "KH 1 — Kế hoạch phát triển dữ liệu số",
    "2 nhiệm vụ; đã hoàn thành 0 (0,0%); đang thực hiện trong hạn 0; quá hạn 0 (0,0%)",
    "Chưa báo cáo: 2 (100,0%), trong đó 1 đã quá hạn",
    "I. Phát triển dữ liệu: 2 nhiệm vụ; hoàn thành 0; quá hạn 0; chưa báo cáo 2",
    "Tổng cộng 2 kế hoạch:",
    "6 nhiệm vụ; đã hoàn thành 0 (0,0%); đang thực hiện trong hạn 0; quá hạn 0 (0,0%)",
    "Chưa báo cáo: 6 (100,0%), trong đó 3 đã quá hạn",
    "Quá hạn lâu nhất (3/3 nhiệm vụ chưa hoàn thành đã quá hạn):",
    "1. KH 2026 · VII.1 Dịch vụ công trực tuyến — VP UBND TP — quá hạn 329 ngày (chưa báo cáo)",
    "2. KH 1 · I.1 Kho dữ liệu dùng chung — Sở TT&TT — quá hạn 239 ngày (chưa báo cáo)",
    "3. KH 2026 · I.2 Hội nghị chuyên đề — SNV — quá hạn 148 ngày (chưa báo cáo)",
)
# After the officer of Sở TT&TT reported KH 2026 · I.1 completed (on time).
AFTER_REPORT = (
    "4 nhiệm vụ; đã hoàn thành 1 (25,0%); đang thực hiện trong hạn 0; quá hạn 0 (0,0%)",
    "Đã hoàn thành: đúng hạn 1; quá hạn 0; không có hạn 0",
    "Chưa báo cáo: 3 (75,0%), trong đó 2 đã quá hạn",
    "I. Công tác tuyên truyền, nâng cao nhận thức: 2 nhiệm vụ; hoàn thành 1; quá hạn 0; "
    "chưa báo cáo 1",
    "6 nhiệm vụ; đã hoàn thành 1 (16,7%); đang thực hiện trong hạn 0; quá hạn 0 (0,0%)",
    "Chưa báo cáo: 5 (83,3%), trong đó 3 đã quá hạn",
)


class Users:
    """What people do on one messenger, and what the bot answers them, chat by chat."""

    channel: str
    ids: dict[str, str]

    async def push(self, user: str, text: str, group: str | None) -> None:
        raise NotImplementedError

    def texts(self, chat: str) -> list[str]:
        raise NotImplementedError

    async def wait(self, chat: str, count: int) -> None:
        raise NotImplementedError

    async def ask(self, who: str, text: str, in_group: str | None = None, expect: int = 1) -> str:
        """`who` sends `text` (privately, or in the group named); the bot's `expect` answers."""
        user, group = self.ids[who], self.ids[in_group] if in_group else None
        chat = group or user
        before = len(self.texts(chat))
        await self.push(user, text, group)
        await self.wait(chat, before + expect)
        return "\n".join(self.texts(chat)[before:])


class TelegramUsers(Users):
    channel = "telegram"
    ids = TELEGRAM

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake

    async def push(self, user: str, text: str, group: str | None) -> None:
        await self.fake.push_text(int(user), text, group=int(group) if group else None)

    def texts(self, chat: str) -> list[str]:
        return [sent.text for sent in self.fake.to(int(chat))]

    async def wait(self, chat: str, count: int) -> None:
        await self.fake.wait_sent(int(chat), count)


class ZaloUsers(Users):
    channel = "zalo"
    ids = ZALO

    def __init__(self, fake: FakeZalo) -> None:
        self.fake = fake

    async def push(self, user: str, text: str, group: str | None) -> None:
        await self.fake.push_text(user, text, group=group)

    def texts(self, chat: str) -> list[str]:
        return self.fake.texts(chat)

    async def wait(self, chat: str, count: int) -> None:
        await self.fake.wait_sent(chat, count)


@dataclass
class Running:
    users: Users
    sessions: async_sessionmaker[AsyncSession]


@asynccontextmanager
async def running(
    users: Users,
    service_of: Callable[..., Any],
    db_url: str,
    data_dir: Path,
    settings: dict[str, str],
    serve: Callable[[Any, asyncio.Event], Coroutine[Any, Any, None]] | None = None,
) -> AsyncIterator[Running]:
    """The messenger's service opened and serving, as `tiendo run` does (or by `serve`), with
    its admin in ADMINS and the dispatcher's clock at NOW."""
    admin = f"{users.channel}:{users.ids['admin']}"
    config = load_settings(database_url=db_url, data_dir=data_dir, admins=admin, **settings)
    async with open_app(config) as app:
        dispatcher = Dispatcher(app.sessions, handler_config(config), clock=lambda: NOW)
        service = service_of(config, dispatcher, FileLinks.from_settings(config))
        await service.open()
        stop = asyncio.Event()
        serving = asyncio.create_task(serve(service, stop) if serve else service.serve(stop))
        try:
            yield Running(users, app.sessions)
        finally:
            stop.set()
            await asyncio.wait_for(serving, 10)
            await service.close()


async def short_polls(service: TelegramService, stop: asyncio.Event) -> None:
    """The service's long poll, holding 1 s instead of 25 (the fake server waits for a held poll
    when it stops)."""
    await telegram_poll(service.channel, stop, timeout=1)


@asynccontextmanager
async def on_telegram(db_url: str, data_dir: Path) -> AsyncIterator[Running]:
    fake = FakeTelegram()
    await fake.start()
    try:
        options = {"telegram_bot_token": fake_telegram.TOKEN, "telegram_api_base_url": fake.url}
        async with running(
            TelegramUsers(fake), TelegramService, db_url, data_dir, options, short_polls
        ) as bot:
            yield bot
    finally:
        await fake.stop()


@asynccontextmanager
async def on_zalo(
    db_url: str, data_dir: Path, can_join_groups: bool = True
) -> AsyncIterator[Running]:
    async with fake_zalo.running(can_join_groups=can_join_groups) as fake:
        fake.max_poll_seconds = 0.2  # a poll held at the end delays the fake server's stop
        options = {"zalo_bot_token": fake_zalo.TOKEN, "zalo_api_base_url": fake.url}
        async with running(ZaloUsers(fake), ZaloService, db_url, data_dir, options) as bot:
            yield bot


MESSENGERS: dict[str, Callable[[str, Path], Any]] = {"telegram": on_telegram, "zalo": on_zalo}


async def count(sessions: async_sessionmaker[AsyncSession], model: type, *where: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def join(bot: Running, who: str, unit: str = "Sở TT&TT", role: str = "officer") -> None:
    invite = await make_invite(bot.sessions, unit, role)
    assert "Chào" in await bot.users.ask(who, f"/start {invite}")


def assert_lines(text: str, lines: tuple[str, ...]) -> None:
    for line in lines:
        assert line in text.splitlines(), f"{line!r} not in:\n{text}"


async def report_done(users: Users, code: str) -> None:
    """The officer reports `code` completed, in their private chat, typing every answer."""
    assert "Tình trạng" in await users.ask("officer", f"/baocao {code}")
    assert "Kết quả" in await users.ask("officer", "Hoàn thành")
    await users.ask("officer", "Đã tổ chức 12 hội nghị tuyên truyền ở các quận, huyện")
    await users.ask("officer", "Bỏ qua")
    await users.ask("officer", "Bỏ qua")
    assert "Hoàn thành đúng hạn" in await users.ask("officer", "Xong")
    assert "Đã gửi báo cáo" in await users.ask("officer", "Gửi")


async def test_the_committee_group_on_telegram(tmp_path: Path, db_url: str) -> None:
    async with on_telegram(db_url, tmp_path / "data") as bot:
        await committee_story(bot, tmp_path)


async def test_the_committee_group_on_zalo(tmp_path: Path, db_url: str) -> None:
    async with on_zalo(db_url, tmp_path / "data") as bot:
        await committee_story(bot, tmp_path)


async def committee_story(bot: Running, folder: Path) -> None:
    """Bind, ask, report, ask again, unbind; the group's talk and dialogs stay out."""
    users, sessions = bot.users, bot.sessions
    await load_plan(sessions, folder, committee_plan(), plan=YEAR_PLAN)
    await load_plan(sessions, folder, data_plan(), plan=DATA_PLAN)
    await join(bot, "officer")

    bound = await users.ask("admin", "/ganhom Ban Chỉ đạo CĐS", in_group="group")
    assert "Đã gắn nhóm này làm nhóm Ban Chỉ đạo (hiện có 1 nhóm)" in bound
    again = await users.ask("admin", "/ganhom", in_group="group")
    assert "đã được gắn làm nhóm Ban Chỉ đạo từ ngày 25/11/2026" in again
    assert await count(sessions, BoundChat) == 1
    assert await count(sessions, AuditLog, AuditLog.action == "group.bound") == 1

    status = await users.ask("guest", "/tinhhinh", in_group="group")  # not registered at all
    assert status.startswith("Tình hình thực hiện nhiệm vụ đến ngày 25/11/2026")
    assert_lines(status, BEFORE_REPORT)

    # The group's own talk, and a report asked for in the group: nothing said, nothing opened.
    said = len(users.texts(users.ids["group"]))
    for who in ("officer", "guest"):
        await users.push(users.ids[who], TALK, users.ids["group"])
    refused = await users.ask("officer", "/baocao I.1", in_group="group")
    assert "chỉ dùng trong cuộc trò chuyện riêng" in refused and "Tuyên truyền" not in refused
    # Each chat is handled in order: had the talk been answered, that answer would be here too.
    assert users.texts(users.ids["group"])[said:] == [refused]

    await report_done(users, "KH 2026 · I.1")
    assert_lines(await users.ask("guest", "/tinhhinh", in_group="group"), AFTER_REPORT)
    assert await count(sessions, Report) == 1

    unbound = await users.ask("admin", "/gohom", in_group="group")
    assert "Đã gỡ nhóm này" in unbound
    assert await count(sessions, BoundChat) == 0
    assert await count(sessions, AuditLog, AuditLog.action == "group.unbound") == 1
    assert "Bạn không có quyền dùng lệnh này." in await users.ask(
        "guest", "/tinhhinh", in_group="group"
    )
    async with sessions() as session:
        in_group = (
            await session.scalars(
                select(Conversation).where(Conversation.chat_id == users.ids["group"])
            )
        ).all()
    assert all(state.dialog is None for state in in_group)
    assert all(len(text) <= 2000 for text in users.texts(users.ids["group"]))


async def test_several_groups_unbound_from_a_private_chat(tmp_path: Path, sqlite_url: str) -> None:
    async with on_zalo(sqlite_url, tmp_path / "data") as bot:
        users = bot.users
        await load_plan(bot.sessions, tmp_path, committee_plan(), plan=YEAR_PLAN)
        await join(bot, "guest", role="committee")  # a committee member, in private
        hint = await users.ask("admin", "/ganhom")
        assert "gửi /ganhom trong nhóm đó" in hint and "không được vào nhóm" not in hint
        assert "Chưa có nhóm Ban Chỉ đạo nào" in await users.ask("admin", "/gohom")
        await users.ask("admin", "/ganhom Ban Chỉ đạo CĐS", in_group="group")
        second = await users.ask("admin", "/ganhom", in_group="other_group")
        assert "(hiện có 2 nhóm)" in second

        listing = await users.ask("admin", "/gohom")
        assert_lines(
            listing,
            (
                "Các nhóm Ban Chỉ đạo đang gắn (2):",
                "1. Zalo · Ban Chỉ đạo CĐS (gắn ngày 25/11/2026)",
                f"2. Zalo · nhóm {ZALO['other_group']} (gắn ngày 25/11/2026)",
            ),
        )
        unknown = await users.ask("admin", "/gohom 7")
        assert "Không tìm thấy nhóm “7”" in unknown and "1. Zalo · Ban Chỉ đạo CĐS" in unknown
        by_title = await users.ask("admin", "/gohom ban chi dao cds")  # any spelling of it
        assert "Đã gỡ nhóm “Ban Chỉ đạo CĐS”" in by_title
        assert "quá hạn 329 ngày" in await users.ask("guest", "/tinhhinh", in_group="other_group")
        assert "quá hạn 329 ngày" in await users.ask("guest", "/tinhhinh")  # in private
        elsewhere = await users.ask("guest", "/tinhhinh", in_group="group")  # no longer bound
        assert "chỉ dùng trong cuộc trò chuyện riêng" in elsewhere and "329" not in elsewhere
        assert "Đã gỡ nhóm “nhóm" in await users.ask("admin", "/gohom 1")

    assert await count(bot.sessions, BoundChat) == 0
    async with bot.sessions() as session:
        unbound = (
            await session.scalars(select(AuditLog).where(AuditLog.action == "group.unbound"))
        ).all()
    assert [entry.details["before"]["title"] for entry in unbound] == ["Ban Chỉ đạo CĐS", ""]
    assert all(entry.actor.endswith(f"zalo:{ZALO['admin']}") for entry in unbound)


async def test_an_admin_is_told_when_the_zalo_bot_cannot_join_groups(
    tmp_path: Path, sqlite_url: str
) -> None:
    async with on_zalo(sqlite_url, tmp_path / "data", can_join_groups=False) as bot:
        hint = await bot.users.ask("admin", "/ganhom")
    assert "gửi /ganhom trong nhóm đó" in hint
    assert "bot Zalo này không được vào nhóm" in hint and "can_join_groups = false" in hint


async def test_two_admins_bind_and_unbind_one_group_at_once(tmp_path: Path, db_url: str) -> None:
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    admins = frozenset({("telegram", "7001"), ("telegram", "7002")})
    dispatcher = Dispatcher(sessions, config(tmp_path / "data", admins), clock=lambda: NOW)
    first, second = (
        InGroup(dispatcher, user, name=f"Quản trị {user}") for user in ("7001", "7002")
    )
    # Known to the bot before they race, so that only the binding itself is contended.
    await asyncio.gather(first.command("/trogiup"), second.command("/trogiup"))

    bound = await asyncio.gather(first.command("/ganhom"), second.command("/ganhom"))
    assert sorted("Đã gắn nhóm này" in answer for answer in bound) == [False, True]
    assert any("đã được gắn" in answer for answer in bound)
    unbound = await asyncio.gather(first.command("/gohom"), second.command("/gohom"))
    assert sorted(unbound) == sorted([t("vi", "group_not_bound"), t("vi", "group_unbound_here")])

    assert await count(sessions, BoundChat) == 0
    assert await count(sessions, AuditLog, AuditLog.action == "group.bound") == 1
    assert await count(sessions, AuditLog, AuditLog.action == "group.unbound") == 1
    await engine.dispose()
