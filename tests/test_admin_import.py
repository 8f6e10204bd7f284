"""An admin imports a plan's appendix from the chat with /nhap: sends the .xlsx, chooses the
plan, reads the dry run, and imports it (or not) while the officers go on reporting.

The dry run's summary and the import's result come back through the outbox (the dispatcher
that sends such rows is another story): these tests read what the admin is told there, and
what the database keeps.
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import open_app
from bot.channels.telegram import TelegramChannel, build_application
from bot.channels.telegram_polling import poll as telegram_poll
from bot.channels.zalo import ZaloChannel
from bot.channels.zalo_api import ZaloClient
from bot.channels.zalo_polling import poll as zalo_poll
from bot.config import load_settings
from bot.handler_config import handler_config
from handlers import import_jobs
from handlers.dispatcher import Dispatcher
from handlers.events import IncomingFile, Reply
from handlers.notices import reply_of
from storage.db import create_engine, session_factory
from storage.models import AuditLog, OutboxMessage, Plan, Report, Task, Unit
from storage.samples.builder import AppendixGroup, write_appendix
from tests.fake_telegram import TOKEN as TG_TOKEN
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import TOKEN as ZALO_TOKEN
from tests.fake_zalo import FakeZalo
from tests.plan_factory import (
    NOW,
    Officer,
    T,
    config,
    district_plan,
    load_plan,
    make_invite,
    small_plan,
)

ADMIN = "9001"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class World:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    folder: Path

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def dispatcher(self, max_file_bytes: int | None = None) -> Dispatcher:
        settings = config(self.data, frozenset({("telegram", ADMIN)}))
        if max_file_bytes is not None:
            settings = replace(settings, max_file_bytes=max_file_bytes)
        return Dispatcher(self.sessions, settings, clock=lambda: NOW)

    def admin(self, max_file_bytes: int | None = None) -> Officer:
        return Officer(self.dispatcher(max_file_bytes), ADMIN, "Trần Quản Trị")

    async def officer(self, user_id: str = "2001", unit: str = "Sở TT&TT") -> Officer:
        person = Officer(self.dispatcher(), user_id)
        await person.command(f"/start {await make_invite(self.sessions, unit)}")
        return person

    def appendix(self, groups: list[AppendixGroup], name: str = "phu_luc.xlsx") -> IncomingFile:
        return sent(name, self.appendix_bytes(groups, name))

    def appendix_bytes(self, groups: list[AppendixGroup], name: str = "phu_luc.xlsx") -> bytes:
        return write_appendix(self.folder / "made" / name, groups).read_bytes()

    def uploads(self) -> list[str]:
        folder = self.data / "uploads"
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    async def count(self, model: type, *where: object) -> int:
        async with self.sessions() as session:
            query = select(func.count()).select_from(model)
            for condition in where:
                query = query.where(condition)  # type: ignore[arg-type]
            return int(await session.scalar(query) or 0)

    async def told(self, chat: str = ADMIN) -> list[Reply]:
        """Once the background jobs have ended: what the outbox holds for `chat`, in order."""
        await import_jobs.settle()
        async with self.sessions() as session:
            rows = await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.chat_id == chat, OutboxMessage.kind == "notice")
                .order_by(OutboxMessage.id)
            )
            return [reply_of(row.payload) for row in rows]

    async def last_told(self, person: Officer) -> str:
        """The latest message the jobs left for `person`, which they can now answer."""
        replies = await self.told(person.user_id)
        assert replies, "nothing was told"
        person.last = replies[-1:]
        return replies[-1].text

    async def task(self, code: str, plan: str | None = None) -> Task | None:
        async with self.sessions() as session:
            query = select(Task).where(Task.code == code)
            if plan is not None:
                query = query.join(Plan).where(Plan.short_name == plan)
            return await session.scalar(query)


def sent(name: str, content: bytes, size: int | None = -1, mime: str = XLSX) -> IncomingFile:
    async def read() -> bytes:
        return content

    return IncomingFile(name, mime, len(content) if size == -1 else size, read)


async def world_on(url: str, folder: Path) -> AsyncIterator[World]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    await load_plan(sessions, folder, plan="KH 1")
    try:
        yield World(engine, sessions, folder)
    finally:
        await import_jobs.settle()
        await engine.dispose()


@pytest.fixture
async def world(tmp_path: Path, sqlite_url: str) -> AsyncIterator[World]:
    async for made in world_on(sqlite_url, tmp_path):
        yield made


@pytest.fixture
async def both(tmp_path: Path, db_url: str) -> AsyncIterator[World]:
    async for made in world_on(db_url, tmp_path):
        yield made


def revised_plan() -> list[AppendixGroup]:
    """The small plan a month later: I.1 reworded, a task I.4 added, the rest as it was."""
    groups = small_plan()
    reworded = "Tuyên truyền chuyển đổi số trên báo chí"
    groups[0].tasks[0] = T(1, reworded, "Sở TT&TT", "Báo Hải Phòng", "Quý IV/2027")
    groups[0].tasks.append(T(4, "Cuộc thi tìm hiểu chuyển đổi số", "Sở Nội vụ", "", "Năm 2027"))
    return groups


async def test_an_appendix_sent_in_the_chat_is_tried_then_imported(both: World) -> None:
    admin = both.admin()
    assert ".xlsx" in await admin.command("/nhap")
    asked = await admin.upload(both.appendix(revised_plan()))
    assert "Nhập vào kế hoạch nào?" in asked
    assert admin.labels() == ["KH 1", "Kế hoạch mới"]
    assert "chạy thử" in await admin.press("KH 1")

    summary = await both.last_told(admin)
    assert "Thêm mới 1; thay đổi 1; không đổi 5; không còn trong tệp 0." in summary
    assert "+ Nhiệm vụ mới: I.4" in summary and "~ Thay đổi: I.1 (nội dung)" in summary
    assert admin.labels() == ["Nhập", "Huỷ"]
    assert await both.task("I.4") is None  # nothing changes before Nhập

    assert "Đang nhập “phu_luc.xlsx” vào KH 1" in await admin.press("Nhập")
    told = await both.last_told(admin)
    assert "Đã nhập xong “phu_luc.xlsx” vào kế hoạch KH 1" in told
    assert "thêm mới 1, thay đổi 1, không đổi 5, ngừng theo dõi 0" in told
    task = await both.task("I.4")
    assert task is not None and task.title == "Cuộc thi tìm hiểu chuyển đổi số"
    reworded = await both.task("I.1")
    assert reworded is not None and reworded.title.endswith("trên báo chí")
    assert both.uploads() == []  # the file went with the dialog

    async with both.sessions() as session:
        entries = (await session.scalars(select(AuditLog).order_by(AuditLog.id))).all()
    chat = next(e for e in entries if e.action == "import.from_chat")
    assert chat.actor.endswith(f"telegram:{ADMIN}")
    assert chat.details["outcome"] == "done" and len(chat.details["file_sha256"]) == 64
    counts = [chat.details[key] for key in ("created", "updated", "unchanged", "disappeared")]
    assert counts == [1, 1, 5, 0]
    # The importer's own rows name the admin too: every change of a task is audited.
    created = next(e for e in entries if e.action == "task.created" and e.entity_id == "I.4")
    assert created.actor == chat.actor


async def test_a_command_written_as_the_file_caption_starts_at_the_plan(world: World) -> None:
    admin = world.admin()
    caption = admin.event(text="/nhap", files=(world.appendix(revised_plan()),))
    assert caption.command == "nhap"
    assert "Nhập vào kế hoạch nào?" in admin.text_of(await admin.send(caption))


async def test_a_new_plan_with_new_units_needs_the_units_option(world: World) -> None:
    admin = world.admin()
    await admin.command("/nhap")
    await admin.upload(world.appendix(district_plan(), "huyen.xlsx"))
    assert "Tên đầy đủ" in await admin.press("Kế hoạch mới")
    assert "Đã có kế hoạch" in await admin.say("kh 1")  # a plan's short name, folded
    assert "Tên ngắn" in await admin.say("Kế hoạch chuyển đổi số huyện Thuỷ Nguyên 2027")
    assert "đã là tên của kế hoạch" in await admin.say("KH1")
    await admin.say("KH TN 2027")

    summary = await world.last_told(admin)
    assert "(sẽ tạo mới)" in summary and "KH TN 2027" in summary
    assert "Đơn vị chưa có trong danh mục" in summary and "Phòng Văn hoá - Thông tin" in summary
    units_option = admin.option("Nhập và thêm")
    assert [o.label for o in admin.last[-1].options] == [units_option.label, "Huỷ"]
    # A plain "Nhập" was not offered: pressed anyway (a forged button), it imports nothing.
    forged = admin.event(option_id="imp:go", message_id="1")
    assert "không còn hiệu lực" in admin.text_of(await admin.send(forged))
    units_before = await world.count(Unit)

    assert "Đang nhập" in await admin.press("Nhập và thêm")
    told = await world.last_told(admin)
    assert "vào kế hoạch KH TN 2027" in told and "Đã thêm" in told
    assert await world.count(Unit) > units_before
    assert await world.task("I.1", plan="KH TN 2027") is not None
    assert (await world.task("I.1", plan="KH 1")) is not None  # the other plan is untouched


async def test_cancel_changes_nothing_and_removes_the_file(world: World) -> None:
    admin = world.admin()
    await admin.command("/nhap")
    await admin.upload(world.appendix(revised_plan()))
    assert len(world.uploads()) == 1
    await admin.press("KH 1")
    await world.last_told(admin)
    assert "Đã huỷ" in await admin.press("Huỷ")
    assert world.uploads() == []
    assert await world.task("I.4") is None
    assert await world.count(AuditLog, AuditLog.action == "import.from_chat") == 0


async def test_a_dry_run_that_ends_after_the_admin_left_is_dropped(world: World) -> None:
    admin = world.admin()
    await admin.command("/nhap")
    await admin.upload(world.appendix(revised_plan()))
    assert "chạy thử" in await admin.press("KH 1")
    assert "Đã huỷ" in await admin.command("/huy")  # while the dry run may still run
    assert await world.told() == []  # its summary has no dialog to go to
    assert world.uploads() == []
    assert "chưa hiểu" in await admin.say("Nhập")


async def test_a_file_changed_after_the_dry_run_is_not_imported(world: World) -> None:
    admin = world.admin()
    await admin.command("/nhap")
    await admin.upload(world.appendix(revised_plan()))
    await admin.press("KH 1")
    await world.last_told(admin)
    (kept,) = world.uploads()
    (world.data / "uploads" / kept).write_bytes(world.appendix_bytes(small_plan(), "khac.xlsx"))
    assert "không còn như lúc chạy thử" in await admin.press("Nhập")
    assert await world.task("I.4") is None and world.uploads() == []


async def test_replacing_more_than_half_of_the_plan_is_asked_twice(world: World) -> None:
    kept = small_plan()[:1]
    kept[0].tasks = kept[0].tasks[:2]  # I.1 and I.2 only: four of six tasks left out
    admin = world.admin()
    await admin.command("/nhap")
    await admin.upload(world.appendix(kept, "rut_gon.xlsx"))
    await admin.press("KH 1")
    summary = await world.last_told(admin)
    assert "⚠ Tệp không có 4/6 nhiệm vụ đang theo dõi" in summary
    assert "Xác nhận lần hai" in await admin.press("Nhập")
    assert admin.labels() == ["Thay kế hoạch", "Huỷ"]
    assert await world.count(Task, Task.active.is_(False)) == 0  # asked, not yet done

    assert "Đang nhập" in await admin.press("Thay kế hoạch")
    assert "ngừng theo dõi 4" in await world.last_told(admin)
    assert await world.count(Task, Task.active.is_(False)) == 4
    assert await world.count(Task) == 6  # kept, never deleted


def zipped(**parts: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name.replace("__", "/"), content)
    return buffer.getvalue()


def empty_workbook() -> bytes:
    buffer = io.BytesIO()
    Workbook().save(buffer)
    return buffer.getvalue()


async def test_files_that_are_not_appendices_are_refused_clearly(world: World) -> None:
    admin = world.admin(max_file_bytes=1024 * 1024)
    await admin.command("/nhap")
    assert "Chưa nhận được tệp" in (said := await admin.say("đây")) and "tiendo import" in said
    assert "cần tệp Excel .xlsx" in await admin.upload(
        sent("ke_hoach.pdf", b"%PDF-1.4", mime="application/pdf")
    )
    assert "cần tệp Excel .xlsx" in await admin.upload(
        sent("ke_hoach.xls", b"\xd0\xcf", mime="application/vnd.ms-excel")
    )
    big = b"PK\x03\x04" + b"0" * (1024 * 1024)
    assert "lớn hơn 1 MB" in await admin.upload(sent("lon.xlsx", big))
    assert "lớn hơn 1 MB" in await admin.upload(sent("lon.xlsx", big, size=None))  # not declared
    assert "không mở được" in await admin.upload(sent("hong.xlsx", b"PK\x03\x04 not a zip"))
    assert "không mở được" in await admin.upload(sent("la.xlsx", zipped(note__txt=b"hello")))
    assert world.uploads() == []  # nothing refused was kept

    assert "Nhập vào kế hoạch nào?" in await admin.upload(sent("trong.xlsx", empty_workbook()))
    await admin.press("KH 1")
    refused = await world.last_told(admin)
    assert "không đọc được “trong.xlsx” như một phụ lục" in refused.lower()
    assert world.uploads() == []


async def test_rows_that_cannot_be_imported_are_listed_by_row(world: World) -> None:
    groups = revised_plan()
    groups[0].tasks[1] = T(2, "Hội nghị chuyên đề", "Sở Nội vụ", "", "Quý V/2027")
    admin = world.admin()
    await admin.command("/nhap")
    await admin.upload(world.appendix(groups, "loi.xlsx"))
    await admin.press("KH 1")
    refused = await world.last_told(admin)
    assert "Không nhập được “loi.xlsx”: có 1 lỗi, chưa lưu gì" in refused
    assert "- Dòng " in refused and "“Quý V/2027”" in refused
    assert admin.labels() == []  # no Nhập to press
    assert await world.task("I.4") is None and world.uploads() == []


async def test_an_officer_reports_while_a_big_appendix_imports(both: World) -> None:
    officer = await both.officer()
    big = [
        AppendixGroup(
            roman,
            f"Nhóm {roman}",
            [T(n, f"Nhiệm vụ {roman}.{n}", "Sở TT&TT") for n in range(1, 151)],
        )
        for roman in ("I", "II", "III", "IV", "V")
    ]
    admin = both.admin()
    await admin.command("/nhap")
    await admin.upload(both.appendix(big, "lon.xlsx"))
    await admin.press("Kế hoạch mới")
    await admin.say("Kế hoạch lớn")
    await admin.press("Tự đặt")
    await both.last_told(admin)
    await admin.press("Nhập")
    # The officer keeps reporting for as long as the import runs: every step is answered.
    reports = 0
    while import_jobs.IN_USE or reports == 0:
        await officer.command("/baocao KH1 VII.3")
        await officer.press("Đang thực hiện")
        await officer.say("40")
        await officer.say("Đã lắp đặt xong phần cứng.")
        await officer.press("Bỏ qua")
        await officer.press("Bỏ qua")
        await officer.press("Bỏ qua")  # no files
        assert "Đã gửi báo cáo" in await officer.press("Gửi")
        reports += 1
    assert "Đã nhập xong" in await both.last_told(admin)
    assert await both.count(Report) == reports
    assert await both.count(Task) == 6 + 750


# ---- through the messengers ---------------------------------------------------------------

TG_ADMIN = 5550042
ZALO_ADMIN = "a1b2c3d4e5f6a7b8c9d0"


@asynccontextmanager
async def telegram_bot(fake: FakeTelegram, url: str, data: Path) -> AsyncIterator[None]:
    settings = load_settings(
        database_url=url,
        telegram_bot_token=TG_TOKEN,
        telegram_api_base_url=fake.url,
        data_dir=data,
        admins=f"telegram:{TG_ADMIN}",
    )
    async with open_app(settings) as app:
        application = build_application(settings)
        await application.initialize()
        channel = TelegramChannel(application, Dispatcher(app.sessions, handler_config(settings)))
        stop = asyncio.Event()
        polling = asyncio.create_task(telegram_poll(channel, stop, timeout=1))
        try:
            yield
        finally:
            stop.set()
            await asyncio.wait_for(polling, 10)
            await channel.close()
            await application.shutdown()


async def test_on_telegram_the_appendix_is_sent_as_a_document(world: World) -> None:
    fake = FakeTelegram()
    await fake.start()
    url = str(world.engine.url.render_as_string(hide_password=False))
    try:
        async with telegram_bot(fake, url, world.data):
            await fake.push_text(TG_ADMIN, "/nhap", name="Trần Quản Trị")
            assert ".xlsx" in (await fake.wait_sent(TG_ADMIN, 1))[-1].text
            content = world.appendix_bytes(revised_plan())
            await fake.push_document(TG_ADMIN, "phu_luc.xlsx", content, XLSX)
            asked = (await fake.wait_sent(TG_ADMIN, 2))[-1]
            assert "Nhập vào kế hoạch nào?" in asked.text
            plan_button = next(data for label, data in asked.buttons if label.startswith("KH 1"))
            await fake.press(TG_ADMIN, plan_button, asked.message_id)
            assert "chạy thử" in (await fake.wait_sent(TG_ADMIN, 3))[-1].text
            summary = (await world.told(str(TG_ADMIN)))[-1]
            assert "+ Nhiệm vụ mới: I.4" in summary.text
            go = next(o.id for o in summary.options if o.label == "Nhập")
            await fake.press(TG_ADMIN, go, asked.message_id)
            assert "Đang nhập" in (await fake.wait_sent(TG_ADMIN, 4))[-1].text
            assert "Đã nhập xong" in (await world.told(str(TG_ADMIN)))[-1].text
    finally:
        await fake.stop()
    assert await world.task("I.4") is not None


@asynccontextmanager
async def zalo_bot(fake: FakeZalo, url: str, data: Path) -> AsyncIterator[None]:
    settings = load_settings(
        database_url=url,
        zalo_bot_token=ZALO_TOKEN,
        zalo_api_base_url=fake.url,
        data_dir=data,
        admins=f"zalo:{ZALO_ADMIN}",
    )
    async with open_app(settings) as app:
        client = ZaloClient(ZALO_TOKEN, fake.url)
        channel = ZaloChannel(client, Dispatcher(app.sessions, handler_config(settings)))
        stop = asyncio.Event()
        polling = asyncio.create_task(zalo_poll(channel, stop, timeout=1))
        try:
            yield
        finally:
            stop.set()
            await asyncio.wait_for(polling, 10)
            await channel.close()
            await client.close()


async def test_on_zalo_a_file_that_does_not_arrive_points_to_the_command_line(
    world: World,
) -> None:
    fake = FakeZalo()
    await fake.start()
    url = str(world.engine.url.render_as_string(hide_password=False))
    try:
        async with zalo_bot(fake, url, world.data):
            await fake.push_text(ZALO_ADMIN, "/nhap")
            assert "tiendo import" in (await fake.wait_sent(ZALO_ADMIN, 1))[-1].text
            await fake.push_unsupported(ZALO_ADMIN)  # the client sent a file Zalo did not pass on
            said = (await fake.wait_sent(ZALO_ADMIN, 2))[-1].text
            assert "không đến được bot" in said and "tiendo import TỆP --plan" in said
            await fake.push_text(ZALO_ADMIN, "gửi rồi")
            said = (await fake.wait_sent(ZALO_ADMIN, 4))[-2].text  # then the question again
            assert "Chưa nhận được tệp" in said and "tiendo import" in said
            # Where Zalo does deliver the document, the dialog goes on as on Telegram.
            content = world.appendix_bytes(revised_plan())
            await fake.push_document(ZALO_ADMIN, "phu_luc.xlsx", content, XLSX)
            asked = (await fake.wait_sent(ZALO_ADMIN, 5))[-1].text
            assert "Nhập vào kế hoạch nào?" in asked and "1. KH 1" in asked
            await fake.push_text(ZALO_ADMIN, "1")
            assert "chạy thử" in (await fake.wait_sent(ZALO_ADMIN, 6))[-1].text
    finally:
        await fake.stop()
    assert "+ Nhiệm vụ mới: I.4" in (await world.told(ZALO_ADMIN))[-1].text
