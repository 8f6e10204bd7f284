"""The rest of an officer's days: refusals, second thoughts, restarts, extensions, English."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.dispatcher import Dispatcher
from handlers.events import Incoming
from storage.db import create_engine, session_factory
from storage.models import Conversation, ExtensionRequest, Person, Report
from tests.plan_factory import NOW, Officer, config, load_plan, make_invite, pdf_file


@dataclass
class World:
    sessions: async_sessionmaker[AsyncSession]
    data: Path

    def dispatcher(self, clock=lambda: NOW, admins=frozenset()) -> Dispatcher:  # type: ignore[no-untyped-def]
        return Dispatcher(self.sessions, config(self.data, admins), clock=clock)

    async def officer(self, user_id: str = "2001", unit: str = "Sở TT&TT") -> Officer:
        person = Officer(self.dispatcher(), user_id)
        await person.command(f"/start {await make_invite(self.sessions, unit)}")
        return person


@pytest.fixture
async def world(tmp_path: Path, sqlite_url: str) -> AsyncIterator[World]:
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    await load_plan(sessions, tmp_path)
    yield World(sessions, tmp_path / "data")
    await engine.dispose()


async def test_each_bad_invite_gets_its_own_message(world: World) -> None:
    stranger = Officer(world.dispatcher(), "3001")
    assert "mã mời" in await stranger.command("/start")
    assert "chưa đăng ký" in await stranger.say("xin chào")
    assert "không đúng" in await stranger.command("/start SAIMA123")
    expired = await make_invite(world.sessions, "Sở Nội vụ", expires=timedelta(seconds=-1))
    assert "hết hạn" in await stranger.command(f"/start {expired}")
    once = await make_invite(world.sessions, "Sở Nội vụ")
    assert "Sở Nội vụ" in await stranger.command(f"/start {once}")
    assert "đã dùng mã mời này rồi" in await stranger.command(f"/start {once}")
    other = Officer(world.dispatcher(), "3002")
    assert "dùng hết" in await other.command(f"/start {once}")
    assert "chưa đăng ký" in await other.command("/baocao")


async def test_a_zalo_style_code_alone_joins(world: World) -> None:
    code = await make_invite(world.sessions, "UBND huyện Vĩnh Bảo")
    newcomer = Officer(world.dispatcher(), "zalo-1", channel="zalo")
    assert "UBND huyện Vĩnh Bảo" in await newcomer.say(code)


async def test_admins_need_no_invite_and_help_follows_the_role(world: World) -> None:
    admin = Officer(world.dispatcher(admins=frozenset({("telegram", "9999")})), "9999")
    help_text = await admin.command("/trogiup")
    assert "/baocao —" not in help_text and "/ngonngu" in help_text  # a unit's command
    assert "chưa gắn với đơn vị" in await admin.command("/baocao")
    officer = await world.officer()
    assert "/baocao" in await officer.command("/trogiup")


async def test_typed_numbers_words_and_cancel(world: World) -> None:
    an = await world.officer()
    await an.command("/baocao VII.3")
    second_label = an.labels()[1]
    percent_prompt = await an.say("2")  # the second status, by its number
    assert "Tỷ lệ hoàn thành" in percent_prompt, second_label
    assert "Kết quả" in await an.say("2")  # here "2" is two percent, not option 2
    assert "Vẫn đang" not in (tasks := await an.command("/nhiemvu"))
    assert "VII.3" in tasks and "vẫn đang có thao tác dở" in tasks
    assert "Đã huỷ" in await an.command("/huy")
    assert "Không có thao tác" in await an.command("/huy")


async def test_completed_sets_100_and_a_second_report_is_a_new_version(world: World) -> None:
    an = await world.officer()
    for _ in range(2):
        await an.command("/baocao VII.3")
        assert "Kết quả" in await an.press("Hoàn thành đúng hạn")
        await an.say("Đã xong")
        await an.press("Bỏ qua")
        await an.press("Bỏ qua")
        assert "Tỷ lệ hoàn thành: 100%" in await an.press("Bỏ qua")
        assert "Đã gửi báo cáo" in await an.press("Gửi")
    async with world.sessions() as session:
        reports = (await session.scalars(select(Report).order_by(Report.id))).all()
    assert [(r.version, r.status, r.percent) for r in reports] == [
        (1, "done_on_time", 100),
        (2, "done_on_time", 100),
    ]
    assert reports[1].corrects_id == reports[0].id
    assert f"(cập nhật báo cáo số {reports[0].id})" in await an.command("/lichsu")


async def test_edit_from_the_summary_and_cancel(world: World) -> None:
    an = await world.officer()
    await an.command("/baocao VII.3")
    await an.press("Đang thực hiện")
    await an.say("40")
    await an.say("Đang triển khai")
    await an.press("Bỏ qua")
    await an.press("Bỏ qua")
    await an.press("Bỏ qua")
    assert "Sửa phần nào" in await an.press("Sửa") or "phần nào" in an.text_of(an.last)
    await an.press("Tỷ lệ")
    assert "Tỷ lệ hoàn thành: 65%" in await an.say("65")
    await an.press("Sửa")
    await an.press("Kết quả")
    assert "Kết quả: Đã chạy thử" in await an.say("Đã chạy thử")
    assert "Đã huỷ báo cáo" in await an.press("Huỷ")
    async with world.sessions() as session:
        assert (await session.scalars(select(Report))).all() == []


async def test_files_of_other_types_or_too_big_are_refused(world: World) -> None:
    an = await world.officer()
    await an.command("/baocao VII.3")
    await an.press("Đang thực hiện")
    await an.say("10")
    await an.say("Bắt đầu")
    await an.press("Bỏ qua")
    await an.press("Bỏ qua")
    assert "chỉ nhận pdf" in await an.upload(pdf_file("virus.exe"))
    assert "vượt quá 20 MB" in await an.upload(pdf_file("lon.pdf", size=21 * 1024 * 1024))
    assert "Hãy gửi tệp" in await an.say("đây là tệp")
    assert "Đã nhận 1 tệp" in await an.upload(pdf_file("ok.pdf"))


async def test_a_forged_option_and_a_foreign_code_are_refused(world: World) -> None:
    an = await world.officer()
    await an.command("/baocao")
    async with world.sessions() as session:
        from storage.models import Task

        foreign = await session.scalar(select(Task.id).where(Task.code == "VII.1"))
    replies = await an.send(an.event(option_id=f"t:{foreign}"))
    assert "không thuộc đơn vị của bạn" in an.text_of(replies)
    assert "Không tìm thấy nhiệm vụ “VII.1”" in await an.say("VII.1")
    assert "Nhiệm vụ VII.3" in await an.say("vii.3")


async def test_a_restart_continues_the_dialog(world: World) -> None:
    an = await world.officer()
    await an.command("/baocao VII.3")
    await an.press("Đang thực hiện")
    after_restart = Officer(world.dispatcher(), an.user_id)  # a new process, same database
    assert "Kết quả" in await after_restart.say("30")


async def test_an_abandoned_dialog_ends_politely(world: World) -> None:
    an = await world.officer()
    await an.command("/baocao VII.3")
    later = Officer(world.dispatcher(clock=lambda: NOW + timedelta(hours=3)), an.user_id)
    assert "đã hết hạn" in await later.say("50")
    assert "Chọn nhiệm vụ" in await later.command("/baocao")


async def test_the_same_update_twice_and_a_redelivery_before_delivery(world: World) -> None:
    an = await world.officer()
    dispatcher = world.dispatcher()
    event = an.event(command="baocao", args=("VII.3",), text="/baocao VII.3")
    first = await dispatcher.handle(event)
    again = await dispatcher.handle(event)  # e.g. a crash before the answer was sent
    assert first.replies and len(first.rows) == len(first.replies)  # the answer, in the outbox
    assert again.replies == [] and again.rows == []  # nothing more: it is there already
    assert (await dispatcher.handle(event)).replies == []
    an.last = first.replies
    await an.press("Đang thực hiện")
    assert "Tỷ lệ" in an.text_of(an.last)  # the step advanced exactly once


async def test_two_updates_at_once_on_two_instances_lose_no_step(world: World) -> None:
    an = await world.officer()
    await an.command("/baocao VII.3")
    await an.press("Đang thực hiện")
    one, two = world.dispatcher(), world.dispatcher()

    def typed(text: str) -> Incoming:
        return an.event(text=text)

    await asyncio.gather(one.handle(typed("70")), two.handle(typed("Đã hoàn thiện")))

    async with world.sessions() as session:
        state = await session.scalar(select(Conversation))
    assert state is not None
    # Whichever came first, both were applied in turn: never one lost to the other.
    assert state.step in ("difficulties", "percent")
    if state.step == "difficulties":
        assert state.data["percent"] == 70 and state.data["results"] == "Đã hoàn thiện"


async def test_asking_for_more_time(world: World) -> None:
    an = await world.officer()
    await an.command("/giahan")
    assert "dd/mm/yyyy" in await an.press("I.3")
    assert "không phải ngày" in await an.say("sang năm")
    assert "không tồn tại" in await an.say("31/02/2027")
    assert "phải sau hôm nay" in await an.say("25/11/2026")
    assert "lý do" in await an.say("30/06/2027")
    assert "Gửi đề nghị?" in await an.say("Chờ kinh phí năm 2027")
    assert "chờ phê duyệt" in await an.press("Gửi")
    async with world.sessions() as session:
        request = await session.scalar(select(ExtensionRequest))
    assert request is not None and request.state == "pending"
    assert "Đang chờ duyệt đề nghị gia hạn đến 30/06/2027" in await an.command("/nhiemvu")


async def test_switching_to_english(world: World) -> None:
    an = await world.officer()
    assert "English" in await an.command("/ngonngu en")
    assert "Choose the task" in await an.command("/baocao")
    await an.press("VII.3")
    assert "In progress, within deadline" in an.labels()
    async with world.sessions() as session:
        person = await session.scalar(select(Person))
    assert person is not None and person.language == "en"
    await an.command("/ngonngu")
    assert "Tiếng Việt" in await an.press("Tiếng Việt")


async def test_many_tasks_come_in_pages_of_eight(tmp_path: Path, sqlite_url: str) -> None:
    from storage.samples.builder import AppendixGroup, AppendixTask

    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    many = [
        AppendixTask(n, f"Nhiệm vụ số {n}", "Sở Y tế", "", f"Tháng {n}/2027") for n in range(1, 12)
    ]
    await load_plan(sessions, tmp_path, [AppendixGroup("IX", "Phát triển xã hội số", many)])
    nurse = Officer(Dispatcher(sessions, config(tmp_path / "data"), clock=lambda: NOW), "4001")
    await nurse.command(f"/start {await make_invite(sessions, 'Sở Y tế')}")

    first = await nurse.command("/baocao")

    assert "Trang 1/2" in first
    tasks = [label for label in nurse.labels() if label.startswith("IX.")]
    assert tasks == [f"IX.{n} · Nhiệm vụ số {n}" for n in range(1, 9)]  # nearest deadline first
    assert "Trang 2/2" in await nurse.press("Trang sau")
    assert [label for label in nurse.labels() if label.startswith("IX.")] == [
        "IX.9 · Nhiệm vụ số 9",
        "IX.10 · Nhiệm vụ số 10",
        "IX.11 · Nhiệm vụ số 11",
    ]
    assert "IX.10" in await nurse.press("IX.10")
    await engine.dispose()
