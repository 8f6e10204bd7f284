"""/xuat: the standing agency (or a committee member) gets the export in the chat.

On Telegram it arrives as a document; on Zalo, which takes no documents, as a signed link that
downloads it. The .xlsx file opens with its progress sheet and its sheet of reports; /xuat json
gives the same records as JSON. One plan can be asked for by its short name, a closed one too.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from openpyxl import load_workbook
from openpyxl.workbook import Workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.dispatcher import Dispatcher
from handlers.events import Reply
from storage.db import create_engine, session_factory
from storage.importer import import_plan
from storage.models import AuditLog, Plan
from storage.repositories import plans as plan_store
from storage.samples.builder import write_appendix
from tests.fake_telegram import FakeTelegram
from tests.plan_factory import NOW, TZ, Officer, config, load_plan, make_invite
from tests.test_plans import PROGRAMME, YEARLY_NAME, yearly_layout, yearly_plan
from tests.test_telegram import running_bot
from tests.test_zalo_journey import fake_zalo, running_zalo, said

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TITLE = "Trung tâm điều hành thông minh"
RESULTS = "Đã lắp đặt 40 máy chủ tại trung tâm dữ liệu"
ADMIN = 5559001


def dispatcher(sessions: async_sessionmaker[AsyncSession], folder: Path) -> Dispatcher:
    admins = frozenset({("telegram", "9000")})  # an admin named in ADMINS, without a unit
    return Dispatcher(sessions, config(folder / "data", admins), clock=lambda: NOW)


async def joined(
    sessions: async_sessionmaker[AsyncSession],
    folder: Path,
    user_id: str,
    name: str,
    role: str = "officer",
    unit: str = "Sở TT&TT",
    channel: str = "telegram",
) -> Officer:
    person = Officer(dispatcher(sessions, folder), user_id, name, channel)
    assert "Chào" in await person.command(f"/start {await make_invite(sessions, unit, role)}")
    return person


async def a_report_is_filed(sessions: async_sessionmaker[AsyncSession], folder: Path) -> None:
    """Sở TT&TT reports VII.3 at 60%, from the console (whose update keys cannot meet the fake
    servers' update ids)."""
    an = await joined(sessions, folder, "9101", "Nguyễn Văn An", channel="console")
    await an.command("/baocao VII.3")
    await an.press("Đang thực hiện")
    await an.say("60")
    await an.say(RESULTS)
    for _ in range(3):
        await an.press("Bỏ qua")
    assert "Đã gửi báo cáo" in await an.press("Gửi")


def workbook(content: bytes) -> Workbook:
    return load_workbook(io.BytesIO(content))


def column(book: Workbook, sheet: str, index: int) -> list[Any]:
    return [row[index] for row in book[sheet].iter_rows(values_only=True)]


def today() -> str:
    return datetime.now(TZ).date().isoformat()


def the_file(replies: list[Reply]) -> tuple[str, bytes, str]:
    files = [file for reply in replies for file in reply.files]
    assert len(files) == 1, replies
    return files[0].file_name, files[0].content, files[0].mime_type


async def exports_audited(sessions: async_sessionmaker[AsyncSession]) -> list[AuditLog]:
    async with sessions() as session:
        query = select(AuditLog).where(AuditLog.action == "export.chat").order_by(AuditLog.id)
        return list((await session.scalars(query)).all())


async def test_an_admin_gets_the_export_as_a_document_on_telegram(
    tmp_path: Path, db_url: str, fake: FakeTelegram
) -> None:
    async with running_bot(fake, db_url, tmp_path / "data") as bot:
        await load_plan(bot.sessions, tmp_path)
        await a_report_is_filed(bot.sessions, tmp_path)
        invite = await make_invite(bot.sessions, "Sở TT&TT", "admin")
        await fake.push_text(ADMIN, f"/start {invite}", name="Trần Thị Bình")
        before = len(await fake.wait_sent(ADMIN, 1))

        await fake.push_text(ADMIN, "/xuat", name="Trần Thị Bình")
        said_, document = (await fake.wait_sent(ADMIN, before + 2))[before:]
        assert said_.method == "sendMessage" and document.method == "sendDocument"
        assert "Bảng tiến độ" in said_.text and "6 nhiệm vụ, 1 báo cáo" in said_.text
        ((name, content),) = fake.uploads
        assert name == f"tiendo-{today()}.xlsx" and name in said_.text
        book = workbook(content)
        assert book.sheetnames == ["Tiến độ", "Báo cáo"]
        titles = column(book, "Tiến độ", 1)
        row = next(r for r in book["Tiến độ"].iter_rows(values_only=True) if r[1] == TITLE)
        assert (row[0], row[2], row[8]) == ("3", "Sở Thông tin và Truyền thông", 60)
        assert "Số hóa hồ sơ một cửa" in titles
        assert RESULTS in column(book, "Báo cáo", 8)

        await fake.push_text(ADMIN, "/xuat json", name="Trần Thị Bình")
        said_, document = (await fake.wait_sent(ADMIN, before + 4))[before + 2 :]
        assert document.method == "sendDocument"
        name, content = fake.uploads[1]
        assert name == f"tiendo-{today()}.json"
        exported = json.loads(content)
        assert len(exported["tasks"]) == 6 and len(exported["reports"]) == 1
        task = next(t for t in exported["tasks"] if t["code"] == "VII.3")
        assert (task["percent"], task["status"]) == (60, "in_progress")
        assert exported["reports"][0]["results"] == RESULTS

        async with bot.sessions() as session:
            plans = list((await session.scalars(select(Plan.short_name))).all())
        first, second = await exports_audited(bot.sessions)
        assert first.entity_id == f"tiendo-{today()}.xlsx"
        assert first.details == {
            "format": "xlsx",
            "plans": plans,
            "tasks": 6,
            "reports": 1,
            "channel": "telegram",
        }
        assert second.details["format"] == "json" and first.actor.endswith(f"telegram:{ADMIN}")


async def test_on_zalo_the_export_is_a_signed_link_that_downloads(
    tmp_path: Path, sqlite_url: str
) -> None:
    admin = "a1b2c3d4e5f60718293a"
    async with fake_zalo() as fake, running_zalo(fake, sqlite_url, tmp_path / "data") as bot:
        await load_plan(bot.sessions, tmp_path)
        await a_report_is_filed(bot.sessions, tmp_path)
        invite = await make_invite(bot.sessions, "Sở TT&TT", "admin")
        await fake.push_text(admin, f"/start {invite}")
        await said(fake, 1, admin)

        await fake.push_text(admin, "/xuat")
        text = await said(fake, 2, admin)
        name = f"tiendo-{today()}.xlsx"
        assert "6 nhiệm vụ, 1 báo cáo" in text
        link = text.splitlines()[-1]
        assert link.startswith(f"Tải tệp {name}: {bot.base_url}/files/")
        async with aiohttp.ClientSession() as http, http.get(link.split(": ", 1)[1]) as got:
            assert got.status == 200
            assert got.headers["Content-Type"] == XLSX_MIME
            content = await got.read()
        book = workbook(content)
        assert book.sheetnames == ["Tiến độ", "Báo cáo"]
        assert RESULTS in column(book, "Báo cáo", 8)

        await fake.push_text(admin, "/xuat json")
        link = (await said(fake, 3, admin)).splitlines()[-1]
        async with aiohttp.ClientSession() as http, http.get(link.split(": ", 1)[1]) as got:
            assert got.status == 200
            assert len(json.loads(await got.read())["tasks"]) == 6
        assert [entry.details["channel"] for entry in await exports_audited(bot.sessions)] == [
            "zalo",
            "zalo",
        ]


@dataclass
class TwoPlans:
    """The programme (CT 284, 6 tasks) and the year's plan (KH 2023, 5 tasks)."""

    sessions: async_sessionmaker[AsyncSession]
    folder: Path


@pytest.fixture
async def plans(tmp_path: Path, sqlite_url: str) -> AsyncIterator[TwoPlans]:
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    await load_plan(sessions, tmp_path, titles=tuple(PROGRAMME.titles))
    yearly = write_appendix(tmp_path / "kh2023.xlsx", yearly_plan(), yearly_layout())
    await import_plan(sessions, yearly, plan_name=YEARLY_NAME)
    yield TwoPlans(sessions, tmp_path)
    await engine.dispose()


async def test_one_plan_or_every_followed_plan(plans: TwoPlans) -> None:
    admin = Officer(dispatcher(plans.sessions, plans.folder), "9000", "Trần Thị Bình")

    name, content, mime = the_file(await admin.send(admin.event(command="xuat", text="/xuat")))
    assert (name, mime) == ("tiendo-2026-11-25.xlsx", XLSX_MIME)
    assert workbook(content).sheetnames == ["CT 284", "KH 2023", "Báo cáo"]
    assert "CT 284, KH 2023" in admin.text_of(admin.last)

    for typed in (("KH", "2023"), ("json", "kh2023"), ("KH", "2023", "JSON")):
        replies = await admin.send(admin.event(command="xuat", args=typed))
        name, content, _ = the_file(replies)
        if name.endswith(".xlsx"):
            assert name == "tiendo-kh-2023-2026-11-25.xlsx"
            book = workbook(content)
            assert book.sheetnames == ["Tiến độ", "Báo cáo"]
            assert "Sổ tay chuyển đổi số" in column(book, "Tiến độ", 1)
            assert "Trung tâm điều hành thông minh" not in column(book, "Tiến độ", 1)
        else:
            assert name == "tiendo-kh-2023-2026-11-25.json"
            tasks = json.loads(content)["tasks"]
            assert len(tasks) == 5 and {t["plan_short"] for t in tasks} == {"KH 2023"}

    unknown = await admin.send(admin.event(command="xuat", args=("KH", "2099")))
    assert not [file for reply in unknown for file in reply.files]
    assert "Không tìm thấy kế hoạch “KH 2099”. Các kế hoạch: CT 284, KH 2023" in admin.text_of(
        unknown
    )

    async with plans.sessions() as session:  # the year's plan is closed
        yearly = await session.scalar(select(Plan).where(Plan.short_name == "KH 2023"))
        assert yearly is not None
        plan_store.set_followed(session, yearly, False, NOW, "test")
        await session.commit()
    name, content, _ = the_file(await admin.send(admin.event(command="xuat", args=("json",))))
    assert {t["plan_short"] for t in json.loads(content)["tasks"]} == {"CT 284"}
    _, content, _ = the_file(await admin.send(admin.event(command="xuat", args=("json", "KH2023"))))
    assert len(json.loads(content)["tasks"]) == 5  # a closed plan, asked for by name

    assert len(await exports_audited(plans.sessions)) == 6


async def test_who_may_export_and_where(tmp_path: Path, sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    try:
        admin = Officer(dispatcher(sessions, tmp_path), "9000", "Trần Thị Bình")
        assert "Chưa có kế hoạch nào" in await admin.command("/xuat")  # an empty database

        await load_plan(sessions, tmp_path)
        officer = await joined(sessions, tmp_path, "9101", "Nguyễn Văn An")
        head = await joined(sessions, tmp_path, "9201", "Phạm Thị Dung", "head")
        member = await joined(sessions, tmp_path, "9301", "Đỗ Thị Giang", "committee", "VP UBND TP")
        for person in (officer, head):
            assert "Bạn không có quyền dùng lệnh này." in await person.command("/xuat")
            assert not [file for reply in person.last for file in reply.files]
        name, _, _ = the_file(await member.send(member.event(command="xuat", text="/xuat")))
        assert name == "tiendo-2026-11-25.xlsx"
        in_group = replace(admin.event(command="xuat"), chat_type="group", chat_id="-100555")
        refused = await admin.send(in_group)
        assert "chỉ dùng trong cuộc trò chuyện riêng" in admin.text_of(refused)
        assert not [file for reply in refused for file in reply.files]

        async with sessions() as session:
            refusals = (
                await session.scalars(select(AuditLog).where(AuditLog.action == "command.refused"))
            ).all()
        assert [(r.entity_id, r.details["reason"]) for r in refusals] == [
            ("xuat", "permission_denied"),
            ("xuat", "permission_denied"),
            ("xuat", "private_chat_only"),
        ]
        assert [entry.actor.split()[-1] for entry in await exports_audited(sessions)] == [
            "telegram:9301"
        ]
    finally:
        await engine.dispose()
