"""Figures tell reported from unreported: a task nobody reported on is "chưa báo cáo" in the
chat, the summary and the exports, and a pending extension shows until it is decided."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.commands.demo import summary_text
from handlers.dispatcher import Dispatcher
from handlers.i18n import number
from storage.db import create_engine, session_factory
from storage.exporter import export_tasks
from storage.models import ExtensionRequest, TaskStatus
from storage.status import effective_status
from tests.plan_factory import NOW, TZ, Officer, config, load_plan, make_invite

TODAY = NOW.astimezone(TZ).date()
DUE = date(2026, 6, 30)


@pytest.mark.parametrize(
    ("status", "reported", "pending", "due", "expected"),
    [
        ("not_started", False, False, DUE, TaskStatus.NOT_REPORTED),  # never "overdue"
        ("not_started", False, False, None, TaskStatus.NOT_REPORTED),
        ("in_progress", False, False, DUE, TaskStatus.NOT_REPORTED),  # a contribution only
        ("not_started", False, True, DUE, TaskStatus.EXTENSION_REQUESTED),
        ("in_progress", True, True, DUE, TaskStatus.EXTENSION_REQUESTED),
        ("done_on_time", True, True, DUE, TaskStatus.DONE_ON_TIME),  # done beats everything
        ("in_progress", True, False, DUE, TaskStatus.OVERDUE),
        ("in_progress", True, False, date(2027, 1, 1), TaskStatus.IN_PROGRESS),
        ("not_started", True, False, date(2027, 1, 1), TaskStatus.NOT_STARTED),
        ("not_started", True, False, DUE, TaskStatus.OVERDUE),
        ("blocked", True, False, DUE, TaskStatus.BLOCKED),
    ],
)
def test_the_one_rule(
    status: str, reported: bool, pending: bool, due: date | None, expected: TaskStatus
) -> None:
    assert (
        effective_status(status, due, False, TODAY, reported=reported, extension_pending=pending)
        == expected
    )


@pytest.fixture
async def sessions(tmp_path: Path, db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(db_url)
    factory = session_factory(engine)
    await load_plan(factory, tmp_path)
    yield factory
    await engine.dispose()


def block(listing: str, code: str) -> str:
    """The lines /nhiemvu shows for one task."""
    return next(part for part in listing.split("\n\n") if part.startswith(f"{code} · "))


async def a_report_and_an_extension(officer: Officer) -> None:
    """VII.3 reported at 40%; more time asked for I.1, not decided yet."""
    await officer.command("/baocao VII.3")
    await officer.say("đang làm")
    await officer.say("40")
    await officer.say("Đã lắp đặt máy chủ")
    for _ in range(3):
        await officer.press("Bỏ qua")
    assert "Đã gửi báo cáo" in await officer.press("Gửi")
    await officer.command("/giahan I.1")
    await officer.say("30/06/2028")
    await officer.say("Chờ kinh phí")
    assert "chờ phê duyệt" in await officer.press("Gửi")


async def test_the_chat_tells_unreported_and_pending_tasks_apart(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    an = Officer(Dispatcher(sessions, config(tmp_path / "data"), clock=lambda: NOW), "7001")
    await an.command(f"/start {await make_invite(sessions, 'Sở TT&TT')}")
    await a_report_and_an_extension(an)

    listing = await an.command("/nhiemvu")

    late = number("vi", (TODAY - date(2022, 6, 30)).days)
    assert block(listing, "I.3").endswith(f"Chưa báo cáo · Hạn 30/06/2022 (quá hạn {late} ngày)")
    assert "Đang thực hiện" not in block(listing, "I.3")
    assert "Đề nghị gia hạn · 0%" in block(listing, "I.1")
    assert "chờ duyệt đề nghị gia hạn đến 30/06/2028" in block(listing, "I.1")
    assert "Đang thực hiện, trong hạn · 40%" in block(listing, "VII.3")
    assert "Chưa báo cáo · Thường xuyên" in block(listing, "I.2")  # led by Sở Nội vụ
    assert listing.index("Chủ trì (3)") < listing.index("I.3 · ") < listing.index("Phối hợp (1)")
    assert listing.index("Phối hợp (1)") < listing.index("I.2 · ")

    await an.command("/baocao")
    assert an.labels()[0].startswith("I.3")  # the unreported overdue task comes first


async def test_summary_records_and_exports_count_unreported_on_their_own(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, db_url: str, run_cli
) -> None:
    an = Officer(Dispatcher(sessions, config(tmp_path / "data"), clock=lambda: NOW), "7002")
    await an.command(f"/start {await make_invite(sessions, 'Sở TT&TT')}")
    await a_report_and_an_extension(an)

    records = {r["code"]: r for r in await export_tasks(sessions, TZ, TODAY)}

    assert {code: r["status"] for code, r in records.items()} == {
        "I.1": "extension_requested",
        "I.2": "not_reported",
        "I.3": "not_reported",
        "VII.1": "not_reported",
        "VII.3": "in_progress",
        "VII.4": "not_reported",
    }
    summary = summary_text(list(records.values()), "25/11/2026")
    assert "Chưa báo cáo: 4 (66,7%)" in summary
    assert "Đề nghị gia hạn: 1 (16,7%)" in summary
    assert "Đang thực hiện, trong hạn: 1 (16,7%)" in summary

    env = {"DATABASE_URL": db_url}
    assert run_cli("export", str(tmp_path / "out.json"), env=env).code == 0
    exported = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert {r["code"]: r["status"] for r in exported} == {
        c: r["status"] for c, r in records.items()
    }
    assert run_cli("export", str(tmp_path / "out.csv"), env=env).code == 0
    csv_text = (tmp_path / "out.csv").read_text(encoding="utf-8-sig")
    assert csv_text.count(",not_reported,") == 4 and ",extension_requested," in csv_text
    assert run_cli("export", str(tmp_path / "out.xlsx"), env=env).code == 0
    sheet = load_workbook(tmp_path / "out.xlsx")["Tiến độ"]
    status_of = {row[1].value: row[7].value for row in sheet.iter_rows(min_row=3) if row[2].value}
    assert status_of["Tuyên truyền chuyển đổi số"] == "Đề nghị gia hạn"  # I.1
    assert status_of["Tài liệu tuyên truyền"].startswith("Chưa báo cáo, quá hạn ")  # I.3


async def test_a_decided_extension_no_longer_shows(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    an = Officer(Dispatcher(sessions, config(tmp_path / "data"), clock=lambda: NOW), "7003")
    await an.command(f"/start {await make_invite(sessions, 'Sở TT&TT')}")
    await a_report_and_an_extension(an)
    async with sessions() as session:
        await session.execute(update(ExtensionRequest).values(state="rejected"))
        await session.commit()

    listing = await an.command("/nhiemvu")

    assert "Chưa báo cáo" in block(listing, "I.1") and "gia hạn" not in block(listing, "I.1")
    records = {r["code"]: r for r in await export_tasks(sessions, TZ, TODAY)}
    assert records["I.1"]["status"] == "not_reported"
