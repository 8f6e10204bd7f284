"""A cooperating unit adds what it did to a task the lead unit reports on; only the lead unit
sets the figures and asks for more time, and asks once at a time."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.dispatcher import Dispatcher
from storage.db import create_engine, session_factory
from storage.models import ExtensionRequest, Report, Task
from tests.plan_factory import NOW, Officer, config, load_plan, make_invite, pdf_file


@dataclass
class World:
    sessions: async_sessionmaker[AsyncSession]
    data: Path

    async def officer(self, user_id: str, unit: str) -> Officer:
        person = Officer(Dispatcher(self.sessions, config(self.data), clock=lambda: NOW), user_id)
        await person.command(f"/start {await make_invite(self.sessions, unit)}")
        return person


@pytest.fixture
async def world(tmp_path: Path, db_url: str) -> AsyncIterator[World]:
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    await load_plan(sessions, tmp_path)
    yield World(sessions, tmp_path / "data")
    await engine.dispose()


async def task_row(world: World, code: str) -> Task:
    async with world.sessions() as session:
        task = await session.scalar(select(Task).where(Task.code == code))
        assert task is not None
        return task


async def report_in_progress(officer: Officer, code: str, percent: str) -> None:
    await officer.command(f"/baocao {code}")
    await officer.press("Đang thực hiện")
    await officer.say(percent)
    await officer.say("Đã triển khai")
    for _ in range(3):
        await officer.press("Bỏ qua")
    assert "Đã gửi báo cáo" in await officer.press("Gửi")


async def test_a_cooperating_unit_files_a_contribution(
    world: World, tmp_path: Path, db_url: str, run_cli
) -> None:
    lead = await world.officer("8001", "Sở TT&TT")
    police = await world.officer("8002", "Công an TP")
    await report_in_progress(lead, "VII.3", "30")
    before = await task_row(world, "VII.3")

    listing = await police.command("/nhiemvu")
    assert "Phối hợp (1)" in listing and "Chủ trì (" not in listing
    assert "Đơn vị chủ trì: Sở Thông tin và Truyền thông" in listing
    await police.command("/baocao")
    assert police.labels() == ["VII.3 · Trung tâm điều hành thông minh (phối hợp)"]
    assert "Kết quả thực hiện" in await police.press("VII.3")  # no status, no percent
    assert "Khó khăn" in await police.say("Đã kết nối 120 camera an ninh.")
    await police.say("Thiếu đường truyền tới 3 huyện.")
    await police.say("Đề nghị bổ sung kinh phí đường truyền.")
    assert "Đã nhận 1 tệp" in await police.upload(pdf_file("bien_ban_ket_noi.pdf"))
    summary = await police.press("Xong")
    assert "Trạng thái" not in summary and "Tỷ lệ hoàn thành" not in summary
    assert "Đã kết nối 120 camera an ninh." in summary
    await police.press("Sửa")
    assert "Tỷ lệ %" not in police.labels() and "Trạng thái" not in police.labels()
    await police.press("Đề xuất")
    await police.say("Đề nghị bổ sung kinh phí năm 2027.")
    assert "Đề nghị bổ sung kinh phí năm 2027." in await police.press("Xong")
    assert "nội dung phối hợp số" in await police.press("Gửi")

    after = await task_row(world, "VII.3")
    assert (after.status, after.percent, after.last_report_at) == (
        before.status,
        before.percent,
        before.last_report_at,
    )
    async with world.sessions() as session:
        reports = (await session.scalars(select(Report).order_by(Report.version))).all()
    assert [(r.version, r.kind) for r in reports] == [(1, "report"), (2, "contribution")]
    assert reports[1].proposals == "Đề nghị bổ sung kinh phí năm 2027."
    assert [f.file_name for f in reports[1].files] == ["bien_ban_ket_noi.pdf"]

    assert "Phối hợp (Công an TP): Đã kết nối 120 camera an ninh." in await police.command(
        "/lichsu"
    )
    lead_history = await lead.command("/lichsu")  # the lead unit sees what its partner did
    assert (
        "Phối hợp (Công an TP)" in lead_history
        and "Đang thực hiện, trong hạn · 30%" in lead_history
    )

    env = {"DATABASE_URL": db_url}
    result = run_cli("export", str(tmp_path / "bao_cao.json"), "--reports", env=env)
    assert result.code == 0, result.err
    exported = json.loads((tmp_path / "bao_cao.json").read_text(encoding="utf-8"))
    contribution = exported[1]
    assert contribution["kind"] == "contribution" and contribution["unit"] == "Công an thành phố"
    assert contribution["status"] is None and contribution["percent"] is None
    assert contribution["difficulties"] == "Thiếu đường truyền tới 3 huyện."
    assert contribution["evidence_files"] == ["bien_ban_ket_noi.pdf"]
    assert run_cli("export", str(tmp_path / "tasks.json"), env=env).code == 0
    tasks = {t["code"]: t for t in json.loads((tmp_path / "tasks.json").read_text("utf-8"))}
    assert (tasks["VII.3"]["status"], tasks["VII.3"]["percent"]) == ("in_progress", 30)


async def test_a_contribution_alone_leaves_the_task_unreported(world: World) -> None:
    police = await world.officer("8003", "Công an TP")
    await police.command("/baocao VII.3")
    await police.say("Đã khảo sát hiện trạng.")
    for _ in range(3):
        await police.press("Bỏ qua")
    await police.press("Gửi")

    task = await task_row(world, "VII.3")
    assert task.last_report_at is None and task.status == "not_started"
    lead = await world.officer("8004", "Sở TT&TT")
    assert "VII.3 · Trung tâm điều hành thông minh\n   Chưa báo cáo" in await lead.command(
        "/nhiemvu"
    )


async def test_only_the_lead_unit_asks_for_more_time_and_once_at_a_time(world: World) -> None:
    an = await world.officer("8101", "Sở TT&TT")
    await an.command("/giahan")
    assert [label.split(" · ")[0] for label in an.labels()] == ["I.3", "VII.3", "I.1"]
    refused = await an.say("I.2")  # Sở Nội vụ leads it; Sở TT&TT cooperates
    assert "chỉ phối hợp thực hiện nhiệm vụ I.2" in refused and "Chọn nhiệm vụ" in refused
    refused = await an.command("/giahan I.2")
    assert "chỉ đơn vị chủ trì mới đề nghị gia hạn" in refused

    binh = await world.officer("8102", "Sở TT&TT")  # a second officer of the same unit
    await binh.command("/giahan VII.3")
    await binh.say("31/12/2027")
    await binh.say("Chờ thiết bị")  # binh is at the summary, not sent yet
    await an.command("/giahan VII.3")
    await an.say("30/09/2027")
    await an.say("Chờ kinh phí")
    assert "chờ phê duyệt" in await an.press("Gửi")

    late = await binh.press("Gửi")
    assert "đã có đề nghị gia hạn đến 30/09/2027, gửi lúc 25/11/2026 09:00" in late
    again = await an.command("/giahan VII.3")
    assert "gửi lúc 25/11/2026 09:00, đang chờ phê duyệt" in again
    async with world.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(ExtensionRequest))
    assert count == 1

    police = await world.officer("8103", "Công an TP")  # cooperates on VII.3, leads nothing
    assert "không chủ trì nhiệm vụ nào" in await police.command("/giahan")
    assert "chỉ phối hợp" in await police.command("/giahan VII.3")


async def test_a_unit_covered_by_a_collective_lead_reports_the_figures(world: World) -> None:
    district = await world.officer("8201", "UBND huyện Vĩnh Bảo")  # "UBND các quận, huyện" leads
    listing = await district.command("/nhiemvu")
    assert "Chủ trì (1)" in listing and "VII.4 · " in listing
    assert "Tình trạng thực hiện" in await district.command("/baocao VII.4")
    assert "Chọn nhiệm vụ cần đề nghị gia hạn" in await district.command("/giahan")
    assert [label.split(" · ")[0] for label in district.labels()] == ["VII.4"]
