"""An officer asks for more time; an admin of the standing agency decides with /duyet.

Approved: the task's due date moves, the decision is audited and the officer is told (a notice
row in the outbox, in their words). Refused: only with a reason, which the officer is told. An
option is checked again when pressed (a forged or stale one decides nothing), two admins
deciding at once decide once, a head of unit only looks, and nobody else gets in.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.dispatcher import Dispatcher
from storage.db import create_engine, session_factory
from storage.deadlines import parse_deadline
from storage.importer import import_plan
from storage.models import AuditLog, ExtensionRequest, OutboxMessage, Person, Task
from storage.samples.builder import write_appendix
from tests.fake_telegram import FakeTelegram
from tests.plan_factory import NOW, Officer, config, load_plan, make_invite
from tests.test_plans import PROGRAMME, YEARLY_NAME, yearly_layout, yearly_plan
from tests.test_telegram import button, running_bot
from tests.test_zalo_journey import fake_zalo, number_of, running_zalo, said

REASON = "Chờ bố trí kinh phí năm 2028"
REFUSAL = "Kinh phí đã được bố trí đủ; đề nghị hoàn thành đúng hạn"
AT = "25/11/2026 09:00"  # NOW in Hai Phong


@dataclass
class Desk:
    """A database with the small plan, and people talking to the dispatcher."""

    sessions: async_sessionmaker[AsyncSession]
    folder: Path

    async def person(
        self, user_id: str, name: str, role: str = "officer", unit: str = "Sở TT&TT"
    ) -> Officer:
        talker = Officer(
            Dispatcher(self.sessions, config(self.folder / "data"), clock=lambda: NOW),
            user_id,
            name,
        )
        greeting = await talker.command(f"/start {await make_invite(self.sessions, unit, role)}")
        assert "Chào" in greeting, greeting
        return talker

    async def rows(self, model: Any, *where: Any) -> list[Any]:
        async with self.sessions() as session:
            return list((await session.scalars(select(model).where(*where))).all())

    async def task(self, code: str) -> Task:
        found = await self.rows(Task, Task.code == code)
        assert len(found) == 1
        return found[0]  # type: ignore[no-any-return]

    async def request(self) -> ExtensionRequest:
        found = await self.rows(ExtensionRequest)
        assert len(found) == 1
        return found[0]  # type: ignore[no-any-return]

    async def notices(self) -> list[OutboxMessage]:
        return await self.rows(OutboxMessage, OutboxMessage.kind == "notice")

    async def audited(self, action: str) -> list[AuditLog]:
        return await self.rows(AuditLog, AuditLog.action == action)


async def open_desk(url: str, folder: Path) -> AsyncIterator[Desk]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    await load_plan(sessions, folder)
    yield Desk(sessions, folder)
    await engine.dispose()


@pytest.fixture
async def desk(tmp_path: Path, sqlite_url: str) -> AsyncIterator[Desk]:
    """One engine: the dialog's logic does not depend on it."""
    async for opened in open_desk(sqlite_url, tmp_path):
        yield opened


@pytest.fixture
async def both(tmp_path: Path, db_url: str) -> AsyncIterator[Desk]:
    """SQLite and PostgreSQL: the stories and the races."""
    async for opened in open_desk(db_url, tmp_path):
        yield opened


async def ask_for_time(officer: Officer, code: str, until: str, reason: str = REASON) -> None:
    """The officer's /giahan dialog, to the end."""
    assert "dd/mm/yyyy" in await officer.command(f"/giahan {code}")
    assert "lý do" in await officer.say(until)
    assert "Gửi đề nghị?" in await officer.say(reason)
    assert "chờ phê duyệt" in await officer.press("Gửi")


async def test_an_approved_extension_moves_the_due_date_and_the_officer_is_told(
    both: Desk,
) -> None:
    an = await both.person("9101", "Nguyễn Văn An")
    binh = await both.person("9001", "Trần Thị Bình", "admin")
    await ask_for_time(an, "VII.3", "30/06/2028")
    assert (await both.task("VII.3")).due_date == date(2027, 6, 30)

    listing = await binh.command("/duyet")
    assert "Đề nghị gia hạn đang chờ duyệt: 1" in listing
    request = await both.request()
    assert f"Số {request.id} · VII.3 — Trung tâm điều hành thông minh" in listing
    assert "Đơn vị: Sở Thông tin và Truyền thông" in listing
    assert f"Người đề nghị: Nguyễn Văn An ({AT})" in listing
    assert "Hiện tại: Hạn 30/06/2027 (còn 217 ngày)" in listing
    assert "Đề nghị gia hạn đến: 30/06/2028" in listing
    assert f"Lý do: {REASON}" in listing
    assert binh.labels() == [f"✅ Duyệt số {request.id}", f"❌ Từ chối số {request.id}"]

    done = await binh.press("✅ Duyệt")
    assert (
        f"Đã duyệt đề nghị số {request.id}: hạn nhiệm vụ VII.3 chuyển từ 30/06/2027 sang "
        "30/06/2028." in done
    )
    assert "Đã báo cho Nguyễn Văn An." in done
    assert "Không có đề nghị gia hạn nào đang chờ duyệt." in done
    assert binh.last[-1].replace_prompt  # the list's message is edited on Telegram

    task = await both.task("VII.3")
    assert task.due_date == date(2028, 6, 30)
    assert task.deadline_text == "30/06/2028 (gia hạn)"
    assert parse_deadline(task.deadline_text).due_date == task.due_date  # one date, two forms
    decided = await both.request()
    admin = (await both.rows(Person, Person.full_name == "Trần Thị Bình"))[0]
    assert (decided.state, decided.decided_by_id) == ("approved", admin.id)
    assert decided.decided_at is not None

    (entry,) = await both.audited("extension.approved")
    assert entry.actor.startswith(f"person:{admin.id} telegram:9001")
    assert entry.entity == "extension_request" and entry.entity_id == str(request.id)
    assert entry.details["due_date"] == ["2027-06-30", "2028-06-30"]
    assert entry.details["deadline_text"] == ["30/6/2027", "30/06/2028 (gia hạn)"]
    assert entry.details["task"] == "VII.3" and entry.details["proposed_date"] == "2028-06-30"

    (notice,) = await both.notices()
    assert (notice.channel, notice.chat_id, notice.state) == ("telegram", "9101", "pending")
    assert notice.payload["text"] == (
        f"✅ Đề nghị gia hạn số {request.id} cho nhiệm vụ VII.3 — Trung tâm điều hành thông minh "
        "đã được duyệt.\nHạn mới: 30/06/2028 (hạn cũ: 30/06/2027)."
    )
    assert notice.payload["extras"]["lang"] == "vi"

    # The officer's own list shows the new date, and a new request may be made.
    listing = await an.command("/nhiemvu")
    assert "Hạn 30/06/2028" in listing and "Đang chờ duyệt" not in listing
    assert "dd/mm/yyyy" in await an.command("/giahan VII.3")


async def test_a_refusal_needs_a_reason_and_the_officer_is_told_it(desk: Desk) -> None:
    an = await desk.person("9101", "Nguyễn Văn An")
    binh = await desk.person("9001", "Trần Thị Bình", "admin")
    await an.command("/ngonngu en")  # told in their own language
    await an.command("/giahan I.1")
    await an.say("31/03/2028")
    await an.say("Waiting for the budget")
    await an.press("Send")
    request = await desk.request()

    await binh.command("/duyet")
    asked = await binh.press("❌ Từ chối")
    assert f"Từ chối đề nghị gia hạn số {request.id} (nhiệm vụ I.1)" in asked
    assert "Nguyễn Văn An, Sở Thông tin và Truyền thông" in asked
    assert "Nhập lý do từ chối" in asked
    assert "Cần nhập lý do từ chối" in await binh.say("   ")
    assert "Cần nhập lý do từ chối" in await binh.upload()  # nothing typed
    back = await binh.press("‹ Quay lại")  # changed their mind: the list again
    assert "Đề nghị gia hạn đang chờ duyệt: 1" in back
    assert (await desk.request()).state == "pending"

    await binh.press("❌ Từ chối")
    done = await binh.say(REFUSAL)
    assert f"Đã từ chối đề nghị số {request.id} (nhiệm vụ I.1)." in done
    assert "Đã báo cho Nguyễn Văn An." in done

    refused = await desk.request()
    assert (refused.state, refused.decision_note) == ("rejected", REFUSAL)
    assert (await desk.task("I.1")).due_date == date(2027, 12, 31)  # unchanged
    assert (await desk.task("I.1")).deadline_text == "Quý IV/2027"
    (entry,) = await desk.audited("extension.rejected")
    assert entry.details["due_date"] == ["2027-12-31", "2027-12-31"]
    assert entry.details["reason"] == REFUSAL
    (notice,) = await desk.notices()
    assert notice.payload["text"] == (
        f"❌ Your extension request no. {request.id} for task I.1 — Tuyên truyền chuyển đổi số "
        f"(until 31/03/2028) has been refused.\nReason: {REFUSAL}\nThe deadline stays 31/12/2027."
    )
    assert "Đang chờ duyệt" not in await an.command("/nhiemvu")


async def test_a_stale_or_forged_option_decides_nothing(desk: Desk) -> None:
    an = await desk.person("9101", "Nguyễn Văn An")
    binh = await desk.person("9001", "Trần Thị Bình", "admin")
    cuong = await desk.person("9002", "Lê Văn Cường", "admin")
    await ask_for_time(an, "VII.3", "30/06/2028")
    request = await desk.request()
    await binh.command("/duyet")
    await cuong.command("/duyet")

    for forged in ("ext_ok:999999", "ext_no:424242"):
        number = forged.split(":")[1]
        assert f"Đề nghị số {number} không tồn tại." in binh.text_of(
            await binh.send(binh.event(option_id=forged, message_id="1"))
        )
    for malformed in ("ext_ok:0", f"ext_ok:0{request.id}", f"ext_ok:{request.id} ", "ext_ok"):
        answer = await binh.send(binh.event(option_id=malformed, message_id="1"))
        assert "Lựa chọn này không còn hiệu lực." in binh.text_of(answer)
    assert (await desk.request()).state == "pending"

    await cuong.press("✅ Duyệt")  # Cường decides first; Bình's list is now stale
    late = await binh.press("✅ Duyệt")
    assert f"Đề nghị số {request.id} đã được Lê Văn Cường duyệt lúc {AT}." in late
    assert "Không có đề nghị gia hạn nào đang chờ duyệt." in late
    stale = await binh.send(binh.event(option_id=f"ext_no:{request.id}", message_id="1"))
    assert "thao tác đã kết thúc" in binh.text_of(stale)  # the dialog ended with the list

    assert len(await desk.audited("extension.approved")) == 1
    assert len(await desk.notices()) == 1
    assert (await desk.task("VII.3")).due_date == date(2028, 6, 30)


async def test_a_head_sees_the_units_requests_and_decides_nothing(desk: Desk) -> None:
    an = await desk.person("9101", "Nguyễn Văn An")
    head = await desk.person("9201", "Phạm Thị Dung", "head")
    other_head = await desk.person("9202", "Vũ Văn Em", "head", "Sở Nội vụ")
    await ask_for_time(an, "VII.3", "30/06/2028")
    request = await desk.request()

    listing = await head.command("/duyet")
    assert "Đề nghị gia hạn của Sở Thông tin và Truyền thông đang chờ duyệt: 1" in listing
    assert f"Số {request.id} · VII.3" in listing and f"Lý do: {REASON}" in listing
    assert "Chỉ quản trị viên mới duyệt" in listing
    assert head.labels() == []
    forged = await head.send(head.event(option_id=f"ext_ok:{request.id}", message_id="1"))
    assert "thao tác đã kết thúc" in head.text_of(forged)
    # Inside another dialog, the option is not one it offers.
    await head.command("/baocao VII.3")
    forged = await head.send(head.event(option_id=f"ext_ok:{request.id}", message_id="1"))
    assert "Lựa chọn này không còn hiệu lực." in head.text_of(forged)
    assert (await desk.request()).state == "pending"

    assert "Sở Nội vụ không có đề nghị gia hạn nào đang chờ duyệt." in await other_head.command(
        "/duyet"
    )


async def test_only_admins_decide_and_only_in_a_private_chat(desk: Desk) -> None:
    an = await desk.person("9101", "Nguyễn Văn An")
    member = await desk.person("9301", "Đỗ Thị Giang", "committee", "VP UBND TP")
    binh = await desk.person("9001", "Trần Thị Bình", "admin")
    await ask_for_time(an, "VII.3", "30/06/2028")

    for person in (an, member):
        assert "Bạn không có quyền dùng lệnh này." in await person.command("/duyet")
    in_group = replace(
        binh.event(command="duyet", text="/duyet"), chat_type="group", chat_id="-100777"
    )
    assert "chỉ dùng trong cuộc trò chuyện riêng" in binh.text_of(await binh.send(in_group))
    refusals = await desk.audited("command.refused")
    assert [(r.entity_id, r.details["reason"]) for r in refusals] == [
        ("duyet", "permission_denied"),
        ("duyet", "permission_denied"),
        ("duyet", "private_chat_only"),
    ]

    # An admin whose role is taken away while the list is open decides nothing with it.
    await binh.command("/duyet")
    async with desk.sessions() as session:
        await session.execute(
            update(Person).where(Person.full_name == "Trần Thị Bình").values(role="committee")
        )
        await session.commit()
    assert "Bạn không có quyền dùng lệnh này." in await binh.press("✅ Duyệt")
    assert (await desk.request()).state == "pending"
    assert (await desk.task("VII.3")).due_date == date(2027, 6, 30)


async def test_many_requests_come_a_page_at_a_time(desk: Desk) -> None:
    an = await desk.person("9101", "Nguyễn Văn An")
    binh = await desk.person("9001", "Trần Thị Bình", "admin")
    await ask_for_time(an, "VII.3", "30/06/2028")
    first = await desk.request()
    async with desk.sessions() as session:  # five more units' requests, on the same task rows
        tasks = (await session.scalars(select(Task).where(Task.code != "VII.3"))).all()
        for number, task in enumerate(tasks, start=1):
            session.add(
                ExtensionRequest(
                    task_id=task.id,
                    unit_id=first.unit_id,
                    person_id=first.person_id,
                    proposed_date=date(2028, 1, number),
                    reason=f"Lý do {number}",
                    created_at=NOW,
                )
            )
        await session.commit()

    listing = await binh.command("/duyet")
    assert "Đề nghị gia hạn đang chờ duyệt: 6" in listing and "Trang 1/2" in listing
    assert len([label for label in binh.labels() if label.startswith("✅")]) == 5
    assert "Trang sau ›" in binh.labels()
    second = await binh.press("Trang sau")
    assert "Trang 2/2" in second and "Lý do 5" in second
    await binh.press("✅ Duyệt")
    assert "Đề nghị gia hạn đang chờ duyệt: 5" in binh.text_of(binh.last)
    assert "Trang 2/2" not in binh.text_of(binh.last)  # one page left: shown, not an empty one


async def test_with_two_plans_the_code_names_its_plan(tmp_path: Path, sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    await load_plan(sessions, tmp_path, titles=tuple(PROGRAMME.titles))
    yearly = write_appendix(tmp_path / "kh2023.xlsx", yearly_plan(), yearly_layout())
    await import_plan(sessions, yearly, plan_name=YEARLY_NAME)
    desk = Desk(sessions, tmp_path)
    try:
        an = await desk.person("9101", "Nguyễn Văn An")
        binh = await desk.person("9001", "Trần Thị Bình", "admin")
        await ask_for_time(an, "CT284 VII.3", "30/06/2028")
        listing = await binh.command("/duyet")
        assert "CT 284 · VII.3 — Trung tâm điều hành thông minh" in listing
        assert "chuyển từ 30/06/2027 sang 30/06/2028" in await binh.press("✅ Duyệt")
        (notice,) = await desk.notices()
        assert "cho nhiệm vụ CT 284 · VII.3 — Trung tâm" in notice.payload["text"]
    finally:
        await engine.dispose()


async def test_two_admins_approving_at_once_decide_once(both: Desk) -> None:
    an = await both.person("9101", "Nguyễn Văn An")
    binh = await both.person("9001", "Trần Thị Bình", "admin")
    cuong = await both.person("9002", "Lê Văn Cường", "admin")
    await ask_for_time(an, "VII.3", "30/06/2028")
    await binh.command("/duyet")
    await cuong.command("/duyet")

    answers = await asyncio.gather(binh.press("✅ Duyệt"), cuong.press("✅ Duyệt"))

    assert sum("Đã duyệt đề nghị số" in answer for answer in answers) == 1
    assert sum("đã được" in answer and "duyệt lúc" in answer for answer in answers) == 1
    assert (await both.request()).state == "approved"
    assert len(await both.audited("extension.approved")) == 1
    assert len(await both.notices()) == 1
    assert (await both.task("VII.3")).due_date == date(2028, 6, 30)


async def test_an_approval_and_a_refusal_at_once_decide_once(both: Desk) -> None:
    an = await both.person("9101", "Nguyễn Văn An")
    binh = await both.person("9001", "Trần Thị Bình", "admin")
    cuong = await both.person("9002", "Lê Văn Cường", "admin")
    await ask_for_time(an, "VII.3", "30/06/2028")
    await binh.command("/duyet")
    await cuong.command("/duyet")
    await cuong.press("❌ Từ chối")

    approved, refused = await asyncio.gather(binh.press("✅ Duyệt"), cuong.say(REFUSAL))

    request = await both.request()
    if request.state == "approved":
        assert "Đã duyệt" in approved and "đã được Trần Thị Bình duyệt" in refused
        assert (await both.task("VII.3")).due_date == date(2028, 6, 30)
    else:
        assert request.state == "rejected"
        assert "Đã từ chối" in refused and "đã bị Lê Văn Cường từ chối" in approved
        assert (await both.task("VII.3")).due_date == date(2027, 6, 30)
    decisions = await both.audited("extension.approved") + await both.audited("extension.rejected")
    assert len(decisions) == 1 and len(await both.notices()) == 1


async def test_on_telegram_the_buttons_decide_and_the_list_is_edited(
    tmp_path: Path, sqlite_url: str, fake: FakeTelegram
) -> None:
    officer, admin = 5551101, 5551001
    async with running_bot(fake, sqlite_url, tmp_path / "data") as bot:
        await load_plan(bot.sessions, tmp_path)
        for user, name, role in ((officer, "Nguyễn Văn An", "officer"), (admin, "Bình", "admin")):
            code = await make_invite(bot.sessions, "Sở TT&TT", role)
            await fake.push_text(user, f"/start {code}", name=name)
            await fake.wait_sent(user, 1)
        await fake.push_text(officer, "/giahan VII.3")
        await fake.wait_sent(officer, 2)
        await fake.push_text(officer, "30/06/2028")
        await fake.wait_sent(officer, 3)
        await fake.push_text(officer, REASON)
        summary = (await fake.wait_sent(officer, 4))[-1]
        await fake.press(officer, button(summary, "Gửi"), summary.message_id)
        assert "chờ phê duyệt" in (await fake.wait_sent(officer, 5))[-1].text

        await fake.push_text(admin, "/duyet", name="Bình")
        listing = (await fake.wait_sent(admin, 2))[-1]
        assert "Đề nghị gia hạn đến: 30/06/2028" in listing.text
        approve = button(listing, "✅ Duyệt")
        assert approve.startswith("ext_ok:") and len(approve.encode()) <= 64
        await fake.press(admin, approve, listing.message_id, name="Bình")
        decided = (await fake.wait_sent(admin, 3))[-1]
        assert decided.method == "editMessageText" and decided.message_id == listing.message_id
        assert "chuyển từ 30/06/2027 sang 30/06/2028" in decided.text and decided.buttons == []

        async with bot.sessions() as session:
            task = await session.scalar(select(Task).where(Task.code == "VII.3"))
            notices = (
                await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "notice"))
            ).all()
        assert task is not None and task.due_date == date(2028, 6, 30)
        assert [(n.chat_id, n.payload["text"].splitlines()[-1]) for n in notices] == [
            (str(officer), "Hạn mới: 30/06/2028 (hạn cũ: 30/06/2027).")
        ]


async def test_on_zalo_a_refusal_is_answered_by_numbers(tmp_path: Path, sqlite_url: str) -> None:
    officer, admin = "0a1b2c3d4e5f60718291", "0a1b2c3d4e5f60718292"
    async with fake_zalo() as fake, running_zalo(fake, sqlite_url, tmp_path / "data") as bot:
        await load_plan(bot.sessions, tmp_path)
        for user, role in ((officer, "officer"), (admin, "admin")):
            await fake.push_text(
                user, f"/start {await make_invite(bot.sessions, 'Sở TT&TT', role)}"
            )
            await said(fake, 1, user)
        for count, text in enumerate(("/giahan VII.3", "30/06/2028", REASON), start=2):
            await fake.push_text(officer, text)
            await said(fake, count, officer)
        await fake.push_text(officer, number_of(await said(fake, 4, officer), "Gửi"))
        assert "chờ phê duyệt" in await said(fake, 5, officer)

        await fake.push_text(admin, "/duyet")
        listing = await said(fake, 2, admin)
        await fake.push_text(admin, number_of(listing, "❌ Từ chối"))
        assert "Nhập lý do từ chối" in await said(fake, 3, admin)
        await fake.push_text(admin, REFUSAL)
        assert "Đã từ chối đề nghị số" in await said(fake, 4, admin)

        async with bot.sessions() as session:
            request = await session.scalar(select(ExtensionRequest))
            notices = (
                await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "notice"))
            ).all()
        assert request is not None and (request.state, request.decision_note) == (
            "rejected",
            REFUSAL,
        )
        assert [(n.channel, n.chat_id) for n in notices] == [("zalo", officer)]
        assert f"Lý do: {REFUSAL}" in notices[0].payload["text"]


async def test_a_reimport_keeps_an_approved_extension(desk: Desk) -> None:
    an = await desk.person("9101", "Nguyễn Văn An")
    binh = await desk.person("9001", "Trần Thị Bình", "admin")
    await ask_for_time(an, "VII.3", "30/06/2028")
    await binh.command("/duyet")
    await binh.press("✅ Duyệt")

    await load_plan(desk.sessions, desk.folder)  # the same appendix again

    assert (await desk.task("VII.3")).due_date == date(2028, 6, 30)
