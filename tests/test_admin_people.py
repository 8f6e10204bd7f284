"""The standing agency manages people from the phone: /moi invites, /donvi shows who can be
reminded where, /thuhoi takes access away.

The main stories run through the fake Telegram and Zalo servers, on SQLite and PostgreSQL; the
finer points of each command through the dispatcher, as one person in one chat, on SQLite.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.files import FileLinks
from bot.channels.telegram_service import TelegramService
from bot.config import load_settings
from handlers.admin_invite import split_role
from handlers.dispatcher import Dispatcher
from handlers.options import PICK
from storage.db import create_engine, session_factory
from storage.models import AuditLog, Invite, Person, Report, Role
from storage.repositories import people
from tests.fake_telegram import FakeTelegram, Sent
from tests.plan_factory import NOW, Officer, config, load_plan, make_invite
from tests.test_telegram import TOKEN, button, running_bot
from tests.test_zalo_journey import fake_zalo, number_of, running_zalo, said

ADMIN_TG, NEWCOMER_TG = 5550101, 5550102
ADMIN_ZALO, NEWCOMER_ZALO = "a1d2a3d4a5d6a7d8a9d0", "b1e2b3e4b5e6b7e8b9e0"
CODE = re.compile(r"(?:Mã mời|Invitation code): (\w+)")


def code_in(text: str) -> str:
    found = CODE.search(text)
    assert found is not None, text
    return found.group(1)


async def audit_rows(sessions: async_sessionmaker[AsyncSession], action: str) -> list[AuditLog]:
    async with sessions() as session:
        query = select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
        return list((await session.scalars(query)).all())


async def person_named(sessions: async_sessionmaker[AsyncSession], name: str) -> Person:
    async with sessions() as session:
        found = await session.scalar(select(Person).where(Person.full_name == name))
        assert found is not None, name
        return found


# The stories, through the messengers' own servers.


@dataclass
class TelegramChat:
    """One person's private chat with the bot on the fake Telegram: each step expects one
    message back (a prompt edited in place counts as one)."""

    fake: FakeTelegram
    user: int
    name: str
    seen: int = 0
    last: Sent | None = None

    async def say(self, text: str) -> str:
        await self.fake.push_text(self.user, text, name=self.name)
        return await self._next()

    async def press(self, label_start: str) -> str:
        assert self.last is not None
        data = button(self.last, label_start)
        await self.fake.press(self.user, data, self.last.message_id, name=self.name)
        return await self._next()

    async def _next(self) -> str:
        self.seen += 1
        self.last = (await self.fake.wait_sent(self.user, self.seen))[-1]
        return self.last.text


async def test_an_admin_invites_a_misspelled_unit_on_telegram_and_the_head_joins(
    fake: FakeTelegram, tmp_path: Path, db_url: str
) -> None:
    async with running_bot(fake, db_url, tmp_path / "data") as bot:
        await load_plan(bot.sessions, tmp_path)
        admin = TelegramChat(fake, ADMIN_TG, "Trần Quản Trị")
        assert "quản trị" in await admin.say(
            f"/start {await make_invite(bot.sessions, 'Sở TT&TT', role='admin')}"
        )

        offered = await admin.say("/moi Sở Thông tin và Truyền thôg lãnh đạo")
        assert "Chưa rõ đơn vị" in offered
        created = await admin.press("Sở Thông tin và Truyền thông")
        assert "Sở Thông tin và Truyền thông" in created and "lãnh đạo đơn vị" in created
        assert "Zalo" in created and "hết hạn" in created
        code = code_in(created)
        assert f"/start {code}" in created

        hoa = TelegramChat(fake, NEWCOMER_TG, "Lê Thị Hoa")
        welcome = await hoa.say(f"/start {code}")
        assert "lãnh đạo đơn vị của Sở Thông tin và Truyền thông" in welcome

    head = await person_named(bot.sessions, "Lê Thị Hoa")
    assert head.role == Role.HEAD and head.unit is not None and head.unit.short_name == "Sở TT&TT"
    (entry,) = await audit_rows(bot.sessions, "invite.created")
    me = await person_named(bot.sessions, "Trần Quản Trị")
    assert entry.actor == f"person:{me.id} telegram:{ADMIN_TG}"
    assert entry.details["role"] == "head" and entry.details["unit_id"] == head.unit_id
    assert code not in str(entry.details)  # the log tells of the invite, never its code
    async with bot.sessions() as session:
        invite = await session.scalar(select(Invite).where(Invite.code == code))
        assert invite is not None and invite.expires_at is not None
        assert invite.expires_at - invite.created_at == timedelta(days=7)


async def test_on_zalo_an_admin_invites_by_a_short_name_and_revokes_the_newcomer(
    tmp_path: Path, db_url: str
) -> None:
    async with fake_zalo() as fake, running_zalo(fake, db_url, tmp_path / "data") as bot:
        await load_plan(bot.sessions, tmp_path)
        admin_code = await make_invite(bot.sessions, "Sở TT&TT", role="admin")
        await fake.push_text(ADMIN_ZALO, f"/start {admin_code}", name="Trần Quản Trị")
        assert "quản trị" in await said(fake, 1, ADMIN_ZALO)

        await fake.push_text(ADMIN_ZALO, "/moi vinh bao")  # no diacritics, no "UBND huyện"
        created = await said(fake, 2, ADMIN_ZALO)
        assert "UBND huyện Vĩnh Bảo" in created and "cán bộ đầu mối" in created
        await fake.push_text(
            NEWCOMER_ZALO, code_in(created), name="Phạm Văn Bình"
        )  # the code alone
        assert "UBND huyện Vĩnh Bảo" in await said(fake, 1, NEWCOMER_ZALO)
        await fake.push_text(NEWCOMER_ZALO, "/baocao")
        assert "VII.4" in await said(fake, 2, NEWCOMER_ZALO)  # led through "UBND các quận, huyện"
        await fake.push_text(NEWCOMER_ZALO, "/huy")
        await said(fake, 3, NEWCOMER_ZALO)

        await fake.push_text(ADMIN_ZALO, "/thuhoi binh")
        confirm = await said(fake, 3, ADMIN_ZALO)
        assert "Phạm Văn Bình" in confirm and "UBND huyện Vĩnh Bảo" in confirm
        await fake.push_text(ADMIN_ZALO, number_of(confirm, "Thu hồi"))
        assert "Đã thu hồi quyền" in await said(fake, 4, ADMIN_ZALO)

        await fake.push_text(NEWCOMER_ZALO, "/baocao")
        assert "đã bị thu hồi" in await said(fake, 4, NEWCOMER_ZALO)

    binh = await person_named(bot.sessions, "Phạm Văn Bình")
    assert binh.revoked_at is not None
    (entry,) = await audit_rows(bot.sessions, "person.revoked")
    assert entry.entity_id == str(binh.id) and entry.actor.endswith(f"zalo:{ADMIN_ZALO}")
    assert entry.details["before"] == {"revoked_at": None}
    assert entry.details["after"]["revoked_at"] is not None


async def test_a_revoked_officer_on_telegram_is_refused_and_the_reports_stay(
    fake: FakeTelegram, tmp_path: Path, db_url: str
) -> None:
    async with running_bot(fake, db_url, tmp_path / "data") as bot:
        await load_plan(bot.sessions, tmp_path)
        admin = TelegramChat(fake, ADMIN_TG, "Trần Quản Trị")
        await admin.say(f"/start {await make_invite(bot.sessions, 'Sở Nội vụ', role='admin')}")
        an = TelegramChat(fake, NEWCOMER_TG, "Nguyễn Văn An")
        await an.say(f"/start {await make_invite(bot.sessions, 'Sở TT&TT')}")
        await an.say("/baocao VII.3")
        await an.press("Đang thực hiện")
        await an.press("50%")
        await an.say("Đã lắp đặt máy chủ")
        for _ in ("difficulties", "proposals", "files"):
            await an.press("Bỏ qua")
        assert "Đã gửi báo cáo" in await an.press("Gửi")

        confirm = await admin.say("/thuhoi nguyen van an")
        assert "Nguyễn Văn An" in confirm and "báo cáo đã gửi vẫn được giữ" in confirm
        assert "Đã thu hồi quyền" in await admin.press("Thu hồi")

        assert "đã bị thu hồi" in await an.say("/baocao")
        assert "đã bị thu hồi" in await an.say("/nhiemvu")
        assert "đã bị thu hồi quyền từ" in await admin.say("/thuhoi nguyen van an")

    async with bot.sessions() as session:
        reports = (await session.scalars(select(Report))).all()
        assert [report.person.full_name for report in reports] == ["Nguyễn Văn An"]


async def report_on(officer: Officer, code: str) -> None:
    """A short report on `code`: in progress, 40%, with results."""
    await officer.command(f"/baocao {code}")
    await officer.press("Đang thực hiện")
    await officer.say("40")
    await officer.say("Đã lắp đặt máy chủ")
    for _ in ("difficulties", "proposals", "files"):
        await officer.press("Bỏ qua")
    assert "Đã gửi báo cáo" in await officer.press("Gửi")


# The finer points, through the dispatcher.


@dataclass
class Office:
    sessions: async_sessionmaker[AsyncSession]
    dispatcher: Dispatcher

    async def member(
        self, user_id: str, unit: str, role: str = "officer", name: str = "Nguyễn Văn An"
    ) -> Officer:
        person = Officer(self.dispatcher, user_id, name)
        joined = await person.command(f"/start {await make_invite(self.sessions, unit, role)}")
        assert "Chào" in joined
        return person


@pytest.fixture
async def office(tmp_path: Path, sqlite_url: str) -> AsyncIterator[Office]:
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    await load_plan(sessions, tmp_path)
    yield Office(sessions, Dispatcher(sessions, config(tmp_path / "data"), clock=lambda: NOW))
    await engine.dispose()


def test_the_role_is_read_from_the_last_words_in_either_language() -> None:
    assert split_role("Sở TT&TT lãnh đạo")[1] == ("Sở TT&TT", Role.HEAD)
    assert split_role("Sở TT&TT lanh dao don vi")[1] == ("Sở TT&TT", Role.HEAD)
    assert split_role("STTTT head")[1] == ("STTTT", Role.HEAD)
    assert split_role("Sở Nội vụ cán bộ")[1] == ("Sở Nội vụ", Role.OFFICER)
    assert split_role("Ban Chi Dao") == [("Ban Chi Dao", None), ("", Role.COMMITTEE)]
    assert split_role("quản trị")[-1] == ("", Role.ADMIN)
    assert split_role("UBND huyện Vĩnh Bảo") == [("UBND huyện Vĩnh Bảo", None)]
    # The whole text is read as a unit first: this "trường" is the unit's, not a head's.
    assert split_role("Sở Tài nguyên và Môi trường")[0] == ("Sở Tài nguyên và Môi trường", None)


async def test_moi_reads_the_unit_and_role_however_they_are_written(office: Office) -> None:
    admin = await office.member("9001", "Sở TT&TT", "admin", name="Trần Quản Trị")
    assert "Cách dùng: /moi" in await admin.command("/moi")

    made = await admin.command("/moi Sở Tài nguyên và Môi trường")
    assert "Sở Tài nguyên và Môi trường" in made and "cán bộ đầu mối" in made
    made = await admin.command("/moi Sở TN&MT trưởng")
    assert "Sở Tài nguyên và Môi trường" in made and "lãnh đạo đơn vị" in made
    made = await admin.command("/moi ban chỉ đạo")
    assert "thành viên Ban Chỉ đạo" in made and "(chưa gắn đơn vị)" in made
    assert "cần tên đơn vị" in await admin.command("/moi lanh dao")
    assert "tên chung của nhiều đơn vị" in await admin.command("/moi Các sở, ban, ngành")
    assert "Không tìm thấy đơn vị" in await admin.command("/moi Qwzx Pltk")

    async with office.sessions() as session:
        made_invites = (await session.scalars(select(Invite).order_by(Invite.id))).all()
        assert [(i.role, i.unit is None) for i in made_invites[1:]] == [
            ("officer", False),
            ("head", False),
            ("committee", True),
        ]
    assert len(await audit_rows(office.sessions, "invite.created")) == 3


async def test_an_ambiguous_name_offers_the_units_it_may_mean(office: Office) -> None:
    admin = await office.member("9001", "Sở TT&TT", "admin")
    asked = await admin.command("/moi Kiến")
    assert admin.labels() == ["UBND quận Kiến An", "UBND huyện Kiến Thụy"]
    assert "Chưa rõ đơn vị “Kiến”" in asked
    still = await admin.say("Qwzx")
    assert "Không tìm thấy đơn vị" in still and admin.labels()  # asked again
    made = await admin.say("kien thuy")  # typed again, more fully
    assert "UBND huyện Kiến Thụy" in made and "Mã mời" in made

    await admin.command("/moi Kiến")
    forged = await admin.send(admin.event(option_id=PICK.id(1), message_id="1"))
    assert "không còn hiệu lực" in Officer.text_of(forged)  # a unit never offered
    made = await admin.press("UBND quận Kiến An")
    assert "UBND quận Kiến An" in made and "Mã mời" in made


async def test_donvi_puts_first_the_units_nobody_can_be_reminded_in(office: Office) -> None:
    an = await office.member("2001", "Sở TT&TT")
    admin = await office.member("9001", "Sở Tư pháp", "admin", name="Trần Quản Trị")
    committee = Officer(office.dispatcher, "9002", name="Đỗ Văn Chỉ")
    await committee.command(f"/start {code_in(await admin.command('/moi ban chi dao'))}")

    listing = await committee.command("/donvi")
    nobody, contacts_part = listing.split("Đơn vị có người liên hệ")
    # VP UBND TP leads VII.1, overdue since 31/12/2022: the first unit to invite someone in.
    assert nobody.index("Văn phòng UBND thành phố") < nobody.index("Sở Nội vụ")
    assert "Văn phòng UBND thành phố: chủ trì 1 nhiệm vụ, quá hạn 1 — chưa có ai đăng ký" in nobody
    assert "UBND quận Hồng Bàng" in nobody  # leads VII.4 through "UBND các quận, huyện"
    assert "UBND các quận, huyện" not in listing and "Sở Thông tin" not in nobody
    assert "Sở Thông tin và Truyền thông: chủ trì 3 nhiệm vụ, quá hạn 1" in contacts_part
    assert "chưa báo cáo lần nào" in contacts_part
    assert "Nguyễn Văn An (cán bộ đầu mối) — Telegram" in contacts_part
    assert "Đỗ Văn Chỉ (thành viên Ban Chỉ đạo)" in contacts_part.split("Không gắn đơn vị")[1]

    await report_on(an, "VII.3")
    assert "báo cáo gần nhất 25/11/2026 09:00" in await admin.command("/donvi")
    async with office.sessions() as session:
        await people.mark_unreachable(session, "telegram", "2001")
        await session.commit()
    nobody = (await admin.command("/donvi")).split("Đơn vị có người liên hệ")[0]
    assert "Sở Thông tin và Truyền thông" in nobody and "không nhắn được" in nobody


async def test_donvi_for_one_unit_counts_its_tasks(office: Office) -> None:
    await office.member("2001", "Sở TT&TT")
    admin = await office.member("9001", "Sở Nội vụ", "admin")
    card = await admin.command("/donvi stttt")
    assert card.startswith("■ Sở Thông tin và Truyền thông (Sở TT&TT)")
    assert "Chủ trì 3 nhiệm vụ: đã hoàn thành 0; quá hạn 1; chưa báo cáo 3" in card
    assert "Phối hợp 1 nhiệm vụ" in card and "Nguyễn Văn An" in card
    lonely = await admin.command("/donvi Sở Công Thương")
    assert "Chủ trì 0 nhiệm vụ" in lonely and "/moi SCT" in lonely
    assert "Gần giống" in await admin.command("/donvi Sở Thông tin và Truyền thôg")


async def test_people_without_the_role_or_in_a_group_are_refused_and_audited(
    office: Office,
) -> None:
    officer = await office.member("2001", "Sở TT&TT")
    head = await office.member("2002", "Sở Nội vụ", "head", name="Vũ Thị Lan")
    admin = await office.member("9001", "Sở TT&TT", "admin")
    for person, command in (
        (officer, "/thuhoi Vũ Thị Lan"),
        (head, "/thuhoi #1"),
        (officer, "/moi Sở Nội vụ"),
        (head, "/donvi"),
    ):
        assert "Bạn không có quyền dùng lệnh này" in await person.command(command)
    in_group = replace(admin.event(command="donvi"), chat_id="-100888", chat_type="group")
    assert "chỉ dùng trong cuộc trò chuyện riêng" in Officer.text_of(await admin.send(in_group))

    refused = await audit_rows(office.sessions, "command.refused")
    assert [(r.entity_id, r.details["reason"], r.details["role"]) for r in refused] == [
        ("thuhoi", "permission_denied", "officer"),
        ("thuhoi", "permission_denied", "head"),
        ("moi", "permission_denied", "officer"),
        ("donvi", "permission_denied", "head"),
        ("donvi", "private_chat_only", "admin"),
    ]
    lan = await person_named(office.sessions, "Vũ Thị Lan")
    assert lan.revoked_at is None


async def test_thuhoi_asks_which_person_and_never_revokes_oneself(office: Office) -> None:
    await office.member("2001", "Sở TT&TT", name="Nguyễn Văn An")
    await office.member("2002", "Sở Nội vụ", name="Nguyễn Thị Anh")
    admin = await office.member("9001", "Sở TT&TT", "admin", name="Trần Quản Trị")
    an = await person_named(office.sessions, "Nguyễn Văn An")
    me = await person_named(office.sessions, "Trần Quản Trị")

    several = await admin.command("/thuhoi nguyen")
    assert "Có 2 người khớp" in several
    assert f"#{an.id} Nguyễn Văn An (cán bộ đầu mối, Sở Thông tin và Truyền thông)" in several
    assert "Không tìm thấy" in await admin.say("Lê Văn Không")  # asked again
    confirm = await admin.say(f"#{an.id}")
    assert "Thu hồi quyền sử dụng tiendo của" in confirm and "Nguyễn Văn An" in confirm
    assert "chưa thu hồi" in await admin.press("Huỷ")
    assert (await person_named(office.sessions, "Nguyễn Văn An")).revoked_at is None

    assert "tự thu hồi" in await admin.command(f"/thuhoi {me.id}")
    assert "tự thu hồi" in await admin.command("/thuhoi trần quản")
    assert "Không tìm thấy ai" in await admin.command("/thuhoi #99999")

    await admin.command("/thuhoi nguyen")
    await admin.press(f"#{an.id}")
    assert "Đã thu hồi quyền" in await admin.press("Thu hồi")
    assert "đã bị thu hồi quyền từ 25/11/2026 09:00" in await admin.command("/thuhoi van an")
    assert len(await audit_rows(office.sessions, "person.revoked")) == 1


async def test_a_revoked_admin_is_refused_too(office: Office) -> None:
    first = await office.member("9001", "Sở TT&TT", "admin", name="Trần Quản Trị")
    second = await office.member("9002", "Sở TT&TT", "admin", name="Hoàng Quản Lý")
    await first.command("/thuhoi hoang")
    await first.press("Thu hồi")
    assert "đã bị thu hồi" in await second.command("/thuhoi tran")
    assert (await person_named(office.sessions, "Trần Quản Trị")).revoked_at is None


async def test_once_telegram_said_who_the_bot_is_invites_carry_its_deep_link(
    fake: FakeTelegram, tmp_path: Path, sqlite_url: str
) -> None:
    settings = load_settings(
        database_url=sqlite_url,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=fake.url,
        data_dir=tmp_path / "data",
    )
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    await load_plan(sessions, tmp_path)
    dispatcher = Dispatcher(sessions, config(tmp_path / "data"), clock=lambda: NOW)
    service = TelegramService(settings, dispatcher, FileLinks.from_settings(settings))
    await service.open()
    try:
        assert dispatcher.config.telegram_username == "tiendo_test_bot"
        admin = Officer(dispatcher, "4242", "Trần Quản Trị")
        await admin.command(f"/start {await make_invite(sessions, 'Sở TT&TT', role='admin')}")
        made = await admin.command("/moi Sở Nội vụ")
        code = code_in(made)
        assert f"https://t.me/tiendo_test_bot?start={code}" in made
    finally:
        await service.close()
        await engine.dispose()
