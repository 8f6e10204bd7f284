"""The weekly digest the steering committee's group reads on Friday afternoon.

Two followed plans; contact officers of four units file their reports through the real
dialogs, on the days they would; the digest is then computed as of Friday 27/11/2026 15:00 in
Hai Phong (the week from Monday 23/11), and checked figure by figure against the plan: the
text in the office's words, the chart, the workbook; `tiendo digest --preview` writes all three,
and `tiendo digest --send` puts it in the outbox once per bound committee group and week.
"""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.dispatcher import Dispatcher
from scheduler.digest import Digest, build_digest, enqueue_digest
from scheduler.digest_chart import chart_bars, chart_png
from storage.db import create_engine, session_factory
from storage.importer import import_plan
from storage.models import OutboxMessage, TaskStatus
from storage.repositories import bound_chats
from storage.samples.builder import AppendixGroup, write_appendix
from tests.conftest import CliResult
from tests.plan_factory import NOW, TZ, Officer, T, config, make_invite

# Any glyph matplotlib cannot draw fails the test that drew it.
pytestmark = pytest.mark.filterwarnings("error:Glyph .* missing:UserWarning")

FRIDAY = datetime(2026, 11, 27, 15, 0, tzinfo=TZ)  # the digest's moment
TODAY = FRIDAY.date()


def programme() -> list[AppendixGroup]:
    return [
        AppendixGroup(
            "I",
            "Công tác tuyên truyền, nâng cao nhận thức",
            [
                T(1, "Tuyên truyền chuyển đổi số", "Sở TT&TT", "Báo Hải Phòng", "Quý IV/2027"),
                T(2, "Hội nghị chuyên đề", "Sở Nội vụ", "Sở TT&TT", "Thường xuyên"),
                T(3, "Tài liệu tuyên truyền", "Sở TT&TT", "", "Tháng 6/2026"),
            ],
        ),
        AppendixGroup(
            "VII",
            "Phát triển chính quyền số",
            [
                T(1, "Dịch vụ công trực tuyến", "VP UBND TP", "", "Quý III/2026"),
                T(2, "Kho dữ liệu dùng chung", "Sở TT&TT", "", "Quý II/2026"),
                T(3, "Trung tâm điều hành thông minh", "Sở TT&TT", "Công an TP", "30/6/2027"),
                T(4, "Chữ ký số cho cán bộ", "Sở Tư pháp", "", "02/12/2026"),
                T(5, "Hệ thống họp trực tuyến", "Sở Nội vụ", "", "04/12/2026"),
            ],
        ),
    ]


def yearly_plan() -> list[AppendixGroup]:
    return [
        AppendixGroup(
            "I",
            "Phát triển dữ liệu",
            [
                T(1, "Cơ sở dữ liệu đất đai", "Sở TN&MT", "", "27/11/2026"),
                T(2, "Số hóa sổ hộ tịch", "Sở Tư pháp", "", "Quý I/2026"),
            ],
        ),
    ]


def local(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=TZ).astimezone(UTC)


@dataclass
class Clock:
    """The dispatcher's "now": each report is filed on the day an officer would file it."""

    at: datetime = NOW

    def __call__(self) -> datetime:
        return self.at


@dataclass(frozen=True)
class Filing:
    unit: str
    at: datetime
    code: str
    status: str  # typed as an officer types it
    percent: int | None = None
    difficulties: str = ""
    proposals: str = ""


FILINGS = [
    Filing("Sở Tư pháp", local(3, 20), "I.2", "xong"),  # KH 2026, before its due date
    Filing("VP UBND TP", local(11, 19), "VII.1", "đang làm", 30, "Chờ nâng cấp"),  # last week
    Filing("Sở TT&TT", local(11, 23), "I.1", "đang làm", 40),
    Filing("Sở TT&TT", local(11, 24), "VII.2", "xong"),  # three months late
    Filing("Sở TT&TT", local(11, 25), "VII.3", "vướng", 20, "Thiếu kinh phí", "Bổ sung vốn"),
    Filing("Sở Nội vụ", local(11, 26), "VII.5", "đang làm", 60),
]


async def file_report(officer: Officer, filing: Filing) -> None:
    """A whole report through the dialog, as in tests/test_dialog_report.py."""
    await officer.command(f"/baocao {filing.code}")
    await officer.say(filing.status)
    if filing.percent is not None:
        await officer.say(str(filing.percent))
    await officer.say("Đã triển khai theo kế hoạch.")
    for text in (filing.difficulties, filing.proposals):
        await (officer.say(text) if text else officer.press("Bỏ qua"))
    await officer.press("Bỏ qua")  # no evidence file
    assert "Đã gửi báo cáo số" in await officer.press("Gửi"), filing


async def build_story(sessions: async_sessionmaker[AsyncSession], folder: Path) -> None:
    for short, name, groups in (
        ("CT 284", "Chương trình hành động chuyển đổi số", programme()),
        ("KH 2026", "Kế hoạch chuyển đổi số năm 2026", yearly_plan()),
    ):
        path = write_appendix(folder / f"{short.replace(' ', '_')}.xlsx", groups)
        await import_plan(sessions, path, plan_name=name, plan_short=short)
    clock = Clock()
    dispatcher = Dispatcher(sessions, config(folder / "data"), clock=clock)
    officers: dict[str, Officer] = {}
    for number, unit in enumerate(dict.fromkeys(f.unit for f in FILINGS), start=1):
        officers[unit] = Officer(dispatcher, str(5000 + number), name=f"Cán bộ {number}")
        await officers[unit].command(f"/start {await make_invite(sessions, unit)}")
    for filing in FILINGS:
        clock.at = filing.at
        await file_report(officers[filing.unit], filing)


@pytest.fixture
async def story(tmp_path: Path, db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    await build_story(sessions, tmp_path)
    yield sessions
    await engine.dispose()


@pytest.fixture(scope="module")
def story_file(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The story told once in a SQLite file, copied for each test that reads it there."""
    folder = tmp_path_factory.mktemp("digest_story")
    path = shutil.copy(sqlite_template, folder / "story.db")

    async def tell() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await build_story(session_factory(engine), folder)
        finally:
            await engine.dispose()  # the last connection closed: everything is in the file

    asyncio.run(tell())
    return Path(path)


@pytest.fixture
async def sqlite_story(
    story_file: Path, sqlite_url: str
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The story in this test's own database (the one `run_cli` uses too)."""
    database = make_url(sqlite_url).database
    assert database is not None
    shutil.copy(story_file, database)
    engine = create_engine(sqlite_url)
    yield session_factory(engine)
    await engine.dispose()


async def digest_at(
    sessions: async_sessionmaker[AsyncSession], when: datetime = FRIDAY, lang: str = "vi"
) -> Digest:
    async with sessions() as session:
        return await build_digest(session, when, TZ, lang)


# --- the figures, on both engines ------------------------------------------------------------


async def test_friday_digest_tells_the_week_in_the_offices_words(
    story: async_sessionmaker[AsyncSession],
) -> None:
    digest = await digest_at(story)

    assert (digest.period.start, digest.period.end, digest.week) == (
        date(2026, 11, 23),
        TODAY,
        "2026-W48",
    )
    lines = digest.text.splitlines()
    assert lines[0] == "TỔNG HỢP TUẦN TỪ 23/11/2026 ĐẾN 27/11/2026"
    ct = lines.index("CT 284 — Chương trình hành động chuyển đổi số")
    assert lines[ct + 1 : ct + 5] == [
        "8 nhiệm vụ; đã hoàn thành 1 (12,5%); đang thực hiện trong hạn 2; quá hạn 1 (12,5%)",
        "Đã hoàn thành: đúng hạn 0; quá hạn 1; không có hạn 0",
        "Chưa báo cáo: 3 (37,5%), trong đó 1 đã quá hạn",  # never reported: a line of its own
        "Ngoài ra: gặp vướng mắc 1",
    ]
    assert lines[ct + 5 : ct + 8] == [
        "Theo nhóm nhiệm vụ:",
        "I. Công tác tuyên truyền, nâng cao nhận thức: 3 nhiệm vụ; hoàn thành 0; quá hạn 0; "
        "chưa báo cáo 2",
        "VII. Phát triển chính quyền số: 5 nhiệm vụ; hoàn thành 1; quá hạn 1; chưa báo cáo 1",
    ]
    kh = lines.index("KH 2026 — Kế hoạch chuyển đổi số năm 2026")
    assert lines[kh + 1 : kh + 4] == [
        "2 nhiệm vụ; đã hoàn thành 1 (50,0%); đang thực hiện trong hạn 0; quá hạn 0 (0,0%)",
        "Đã hoàn thành: đúng hạn 1; quá hạn 0; không có hạn 0",
        "Chưa báo cáo: 1 (50,0%)",
    ]
    total = lines.index("Tổng cộng 2 kế hoạch:")
    assert lines[total + 1 : total + 4] == [
        "10 nhiệm vụ; đã hoàn thành 2 (20,0%); đang thực hiện trong hạn 2; quá hạn 1 (10,0%)",
        "Đã hoàn thành: đúng hạn 1; quá hạn 1; không có hạn 0",
        "Chưa báo cáo: 4 (40,0%), trong đó 1 đã quá hạn",
    ]

    overdue = lines.index("Quá hạn lâu nhất (2/2 nhiệm vụ chưa hoàn thành đã quá hạn):")
    assert lines[overdue + 1 : overdue + 3] == [
        "1. CT 284 · I.3 Tài liệu tuyên truyền — Sở TT&TT — quá hạn 150 ngày (chưa báo cáo)",
        "2. CT 284 · VII.1 Dịch vụ công trực tuyến — VP UBND TP — quá hạn 58 ngày",
    ]
    soon = lines.index("Sắp đến hạn trong 7 ngày tới: 3 nhiệm vụ")
    assert lines[soon + 1 : soon + 4] == [
        "- KH 2026 · I.1 Cơ sở dữ liệu đất đai — Sở TN&MT — hạn 27/11/2026 (đến hạn hôm nay)",
        "- CT 284 · VII.4 Chữ ký số cho cán bộ — STP — hạn 02/12/2026 (còn 5 ngày)",
        "- CT 284 · VII.5 Hệ thống họp trực tuyến — SNV — hạn 04/12/2026 (còn 7 ngày)",
    ]
    silent = lines.index("Đơn vị chưa báo cáo từ 23/11/2026 đến 27/11/2026 (5 đơn vị):")
    assert sorted(lines[silent + 1 : silent + 6]) == [
        "- SNV: 1/2 nhiệm vụ chủ trì chưa báo cáo; báo cáo gần nhất 26/11/2026",  # I.2
        "- STP: 1/1 nhiệm vụ chủ trì chưa báo cáo; báo cáo gần nhất 20/03/2026",  # VII.4
        "- Sở TN&MT: 1/1 nhiệm vụ chủ trì chưa báo cáo; chưa báo cáo lần nào",
        "- Sở TT&TT: 1/3 nhiệm vụ chủ trì chưa báo cáo; báo cáo gần nhất 25/11/2026",  # I.3
        "- VP UBND TP: 1/1 nhiệm vụ chủ trì chưa báo cáo; báo cáo gần nhất 19/11/2026",
    ]
    raised = lines.index("Khó khăn, vướng mắc và đề xuất, kiến nghị từ 23/11/2026 đến 27/11/2026:")
    assert lines[raised + 1 : raised + 4] == [
        "- CT 284 · VII.3 Trung tâm điều hành thông minh — Sở TT&TT (25/11/2026)",
        "  Khó khăn, vướng mắc: Thiếu kinh phí",
        "  Đề xuất, kiến nghị: Bổ sung vốn",
    ]
    assert "Chờ nâng cấp" not in digest.text  # raised on 19/11, the week before
    assert lines[-1] == (
        "Kèm theo: biểu đồ tinh-hinh-2026-W48.png và bảng tính tong-hop-2026-W48.xlsx "
        "(trang tổng hợp và danh sách nhiệm vụ)."
    )


async def test_on_monday_morning_a_new_week_begins(
    story: async_sessionmaker[AsyncSession],
) -> None:
    digest = await digest_at(story, datetime(2026, 11, 30, 8, 0, tzinfo=TZ))

    assert (digest.period.start, digest.period.end, digest.week) == (
        date(2026, 11, 30),
        date(2026, 11, 30),
        "2026-W49",
    )
    figures = digest.figures
    # Nobody has reported yet this week: every unit owing a report is listed, all it owes.
    silent = {unit.short_name: (unit.missing, unit.owed) for unit in figures.silent_units}
    assert silent == {
        "Sở TT&TT": (3, 3),
        "SNV": (2, 2),
        "VP UBND TP": (1, 1),
        "STP": (1, 1),
        "Sở TN&MT": (1, 1),
    }
    assert figures.raised == ()
    # KH 2026 I.1 was due on Friday and nobody reported: now overdue, among the longest.
    assert [(t.code, t.days_overdue, t.status) for t in figures.most_overdue] == [
        ("I.3", 153, TaskStatus.NOT_REPORTED),
        ("VII.1", 61, TaskStatus.OVERDUE),
        ("I.1", 3, TaskStatus.NOT_REPORTED),
    ]
    assert [(t.code, t.days_left) for t in figures.due_soon] == [("VII.4", 2), ("VII.5", 4)]
    assert "Từ 30/11/2026 đến 30/11/2026, không có khó khăn" in digest.text


# --- the chart and the workbook (SQLite) -----------------------------------------------------


async def test_the_chart_opens_and_draws_every_vietnamese_letter(
    sqlite_story: async_sessionmaker[AsyncSession],
) -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        digest = await digest_at(sqlite_story)
    assert [str(w.message) for w in seen if "Glyph" in str(w.message)] == []

    image = Image.open(io.BytesIO(digest.chart))
    image.load()
    assert image.format == "PNG" and image.width >= 800 and image.height >= 300
    assert len(digest.chart) <= 100_000
    assert [
        (bar.label, bar.counts.tasks, bar.bold) for bar in chart_bars(digest.figures, "vi")
    ] == [
        ("CT 284 (cả kế hoạch)", 8, True),
        ("CT 284 · I. Công tác tuyên truyền, nâng cao nhận thức", 3, False),
        ("CT 284 · VII. Phát triển chính quyền số", 5, False),
        ("KH 2026 (cả kế hoạch)", 2, True),
        ("KH 2026 · I. Phát triển dữ liệu", 2, False),
        ("Tổng cộng", 10, True),
    ]


async def test_a_missing_glyph_would_fail_the_chart_test(
    sqlite_story: async_sessionmaker[AsyncSession],
) -> None:
    figures = (await digest_at(sqlite_story)).figures
    plan = figures.plans[0]
    foreign = replace(plan, groups=(replace(plan.groups[0], name="数字化转型"),))
    with pytest.warns(UserWarning, match="Glyph .* missing"):
        chart_png(replace(figures, plans=(foreign, *figures.plans[1:])), "vi")


async def test_the_workbook_has_the_summary_and_every_task(
    sqlite_story: async_sessionmaker[AsyncSession],
) -> None:
    digest = await digest_at(sqlite_story)

    book = load_workbook(io.BytesIO(digest.workbook))
    assert book.sheetnames == ["Tổng hợp", "Nhiệm vụ"]
    summary = [list(row) for row in book["Tổng hợp"].iter_rows(values_only=True)]
    assert summary[0][0] == (
        "Tổng hợp tuần từ 23/11/2026 đến 27/11/2026: tình hình thực hiện nhiệm vụ đến ngày "
        "27/11/2026"
    )
    assert summary[1][:9] == [
        "Kế hoạch",
        "Nhóm nhiệm vụ",
        "Số nhiệm vụ",
        "Hoàn thành",
        "Hoàn thành (tỷ lệ)",
        "Đang thực hiện, trong hạn",
        "Đang thực hiện, trong hạn (tỷ lệ)",
        "Đang thực hiện, đã quá hạn",
        "Đang thực hiện, đã quá hạn (tỷ lệ)",
    ]
    assert summary[1][9] == "Chưa báo cáo"
    # plan, group, tasks, completed and its share, not reported and its share
    assert [(r[0], r[1], r[2], r[3], r[4], r[9], r[10]) for r in summary[2:]] == [
        ("CT 284", "Cả kế hoạch", 8, 1, 0.125, 3, 0.375),
        ("CT 284", "I. Công tác tuyên truyền, nâng cao nhận thức", 3, 0, 0.0, 2, 2 / 3),
        ("CT 284", "VII. Phát triển chính quyền số", 5, 1, 0.2, 1, 0.2),
        ("KH 2026", "Cả kế hoạch", 2, 1, 0.5, 1, 0.5),
        ("KH 2026", "I. Phát triển dữ liệu", 2, 1, 0.5, 1, 0.5),
        ("Tổng cộng", None, 10, 2, 0.2, 4, 0.4),
    ]
    assert book["Tổng hợp"]["E3"].number_format == "0.0%"

    tasks = [list(row) for row in book["Nhiệm vụ"].iter_rows(values_only=True)]
    assert tasks[0] == [
        "Mã nhiệm vụ",
        "Kế hoạch",
        "Nhóm nhiệm vụ",
        "Nhiệm vụ",
        "Cơ quan chủ trì",
        "Thời hạn",
        "Trạng thái",
        "Tiến độ (%)",
        "Số ngày quá hạn",
        "Báo cáo gần nhất",
    ]
    rows = {(row[1], row[0]): row for row in tasks[1:]}
    assert len(tasks) == 11 and len(rows) == 10
    assert [(row[1], row[0]) for row in tasks[1:4]] == [
        ("CT 284", "I.1"),
        ("CT 284", "I.2"),
        ("CT 284", "I.3"),
    ]
    assert rows[("CT 284", "I.3")][2:9] == [
        "I. Công tác tuyên truyền, nâng cao nhận thức",
        "Tài liệu tuyên truyền",
        "Sở Thông tin và Truyền thông",
        datetime(2026, 6, 30),
        "Chưa báo cáo",
        0,
        150,
    ]
    assert rows[("CT 284", "I.3")][9] is None
    assert rows[("CT 284", "I.2")][5:9] == ["Thường xuyên", "Chưa báo cáo", 0, None]
    assert rows[("CT 284", "VII.2")][6:10] == [
        "Hoàn thành nhưng quá hạn",
        100,
        None,
        datetime(2026, 11, 24, 9, 0),  # the city's time
    ]
    assert rows[("CT 284", "VII.1")][6:9] == ["Đang thực hiện, đã quá hạn", 30, 58]
    assert rows[("CT 284", "VII.3")][6:8] == ["Gặp vướng mắc", 20]
    assert rows[("KH 2026", "I.2")][6] == "Hoàn thành đúng hạn"
    assert book["Nhiệm vụ"]["F4"].number_format == "DD/MM/YYYY"


def test_the_workbook_is_streamed_through_lxml() -> None:
    # openpyxl falls back to building each row with ElementTree without lxml, silently and
    # about a fifth slower on 10,000 tasks (bench/digest_bench.py): the dependency must be there.
    assert openpyxl.LXML


async def test_the_digest_in_english(sqlite_story: async_sessionmaker[AsyncSession]) -> None:
    digest = await digest_at(sqlite_story, lang="en")

    assert digest.text.startswith("WEEKLY DIGEST FROM 23/11/2026 TO 27/11/2026\n")
    assert "10 tasks; completed 2 (20.0%); in progress within deadline 2; overdue 1 (10.0%)" in (
        digest.text
    )
    assert load_workbook(io.BytesIO(digest.workbook)).sheetnames == ["Summary", "Tasks"]
    assert chart_bars(digest.figures, "en")[-1].label == "Total"


# --- the command line (SQLite) ---------------------------------------------------------------


async def outbox_rows(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions() as session:
        found = await session.scalars(  # the story's own dialog answers aside
            select(OutboxMessage).where(OutboxMessage.kind != "reply").order_by(OutboxMessage.id)
        )
        return list(found.all())


async def test_preview_writes_the_text_the_chart_and_the_workbook(
    sqlite_story: async_sessionmaker[AsyncSession], run_cli, tmp_path: Path
) -> None:
    result: CliResult = run_cli("digest", "--preview", "xem-truoc", "--at", "2026-11-27 15:00")

    assert result.code == 0, result.err
    folder = tmp_path / "xem-truoc"
    text = (folder / "digest.txt").read_text(encoding="utf-8")
    assert text.startswith("TỔNG HỢP TUẦN TỪ 23/11/2026 ĐẾN 27/11/2026\n")
    assert result.out.startswith(text)
    assert "Đã ghi digest.txt, tinh-hinh-2026-W48.png, tong-hop-2026-W48.xlsx" in result.out
    Image.open(folder / "tinh-hinh-2026-W48.png").verify()
    assert load_workbook(folder / "tong-hop-2026-W48.xlsx").sheetnames == ["Tổng hợp", "Nhiệm vụ"]
    assert "Glyph" not in result.err
    assert await outbox_rows(sqlite_story) == []  # a preview sends nothing


async def test_send_twice_in_a_week_gives_each_group_one_digest(
    sqlite_story: async_sessionmaker[AsyncSession], run_cli, tmp_path: Path
) -> None:
    nowhere = run_cli("digest", "--send", "--at", "2026-11-27 15:00")
    assert nowhere.code == 1
    assert "Chưa có nhóm Ban Chỉ đạo nào được gắn" in nowhere.err and "/ganhom" in nowhere.err

    async with sqlite_story() as session:
        bound_chats.bind(session, "telegram", "-1001234", "BCĐ chuyển đổi số", NOW)
        bound_chats.bind(session, "zalo", "g-bcd", "BCĐ CĐS (Zalo)", NOW)
        await session.commit()

    first = run_cli("digest", "--send", "--at", "2026-11-27 15:00")
    assert first.code == 0, first.err
    assert "Bản tổng hợp tuần 2026-W48 (23/11/2026 – 27/11/2026), 2 nhóm" in first.out
    assert "- telegram “BCĐ chuyển đổi số” (-1001234): đã đưa vào hàng đợi gửi" in first.out
    rows = await outbox_rows(sqlite_story)
    assert [(row.key, row.channel, row.chat_id, row.kind) for row in rows] == [
        ("digest:2026-W48:telegram:-1001234", "telegram", "-1001234", "digest"),
        ("digest:2026-W48:zalo:g-bcd", "zalo", "g-bcd", "digest"),
    ]
    payload = rows[0].payload
    assert payload["text"].startswith("TỔNG HỢP TUẦN TỪ 23/11/2026 ĐẾN 27/11/2026")
    assert payload["extras"] == {"lang": "vi", "week": "2026-W48"}
    files = payload["files"]
    assert [(f["file_name"], f["mime_type"]) for f in files] == [
        ("tinh-hinh-2026-W48.png", "image/png"),
        (
            "tong-hop-2026-W48.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    ]
    data = tmp_path / "data"
    assert all(f["path"].startswith("outbox-files/") for f in files)
    Image.open(data / files[0]["path"]).verify()
    assert load_workbook(data / files[1]["path"]).sheetnames == ["Tổng hợp", "Nhiệm vụ"]
    assert rows[0].payload["files"][0]["path"] != rows[1].payload["files"][0]["path"]
    json.dumps(payload)  # plain JSON, as the outbox keeps it

    # Sunday night, the same week: nothing more, and it says so.
    again = run_cli("digest", "--send", "--at", "2026-11-29 22:00")
    assert again.code == 0, again.err
    assert "bản tổng hợp tuần 2026-W48 đã có trong hàng đợi từ trước" in again.out
    assert "Không đưa thêm gì vào hàng đợi" in again.out
    assert len(await outbox_rows(sqlite_story)) == 2

    # Monday night starts another week; it waits for Tuesday's opening.
    monday = run_cli("digest", "--send", "--at", "2026-11-30 22:00")
    assert monday.code == 0, monday.err
    assert "tin sẽ được gửi từ 01/12/2026 07:30" in monday.out
    later = (await outbox_rows(sqlite_story))[2:]
    assert [row.key for row in later] == [
        "digest:2026-W49:telegram:-1001234",
        "digest:2026-W49:zalo:g-bcd",
    ]
    opening = datetime(2026, 12, 1, 7, 30, tzinfo=TZ)
    assert all(row.not_before.replace(tzinfo=UTC) == opening for row in later)


async def test_a_second_instance_deciding_the_same_digest_writes_nothing(
    sqlite_story: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with sqlite_story() as session:
        bound_chats.bind(session, "telegram", "-1001234", "BCĐ", NOW)
        await session.commit()
    digest = await digest_at(sqlite_story)
    data = tmp_path / "data"
    async with sqlite_story() as session:
        first = await enqueue_digest(session, digest, data_dir=data, now=FRIDAY)
        await session.commit()
    written = sorted(p.relative_to(data) for p in data.rglob("*") if p.is_file())
    async with sqlite_story() as session:
        second = await enqueue_digest(session, digest, data_dir=data, now=FRIDAY)
        await session.commit()

    assert [q.new for q in first] == [True] and [q.new for q in second] == [False]
    assert sorted(p.relative_to(data) for p in data.rglob("*") if p.is_file()) == written
    assert len(written) == 2


def test_a_moment_not_understood_is_refused(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("digest", "--preview", "x", "--at", "27/11/2026 15:00")
    assert result.code == 1
    assert "“27/11/2026 15:00” không đúng dạng thời điểm" in result.err
