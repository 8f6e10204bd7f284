"""The status the committee reads (/tinhhinh, the weekly digest): every figure checked against
what a plan built here holds, on SQLite and PostgreSQL, and its text in both languages.

Two followed plans reuse codes ("CT 284" and "KH 2026"), a third is closed and must not count.
Today is 25/11/2026 in Hai Phong; the period is the week from 19/11 to 25/11/2026.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.status_report import raised_lines, status_text
from storage.db import create_engine, session_factory
from storage.figures import Figures, Period
from storage.importer import import_plan
from storage.models import (
    ExtensionRequest,
    ExtensionState,
    Person,
    Plan,
    ReportKind,
    Task,
    TaskStatus,
    Unit,
)
from storage.repositories import plans as plan_store
from storage.repositories import reports
from storage.repositories.figures import load_figures
from storage.samples.builder import AppendixGroup, write_appendix
from tests.plan_factory import NOW, TZ, T

TODAY = NOW.astimezone(TZ).date()  # 25/11/2026
WEEK = Period(date(2026, 11, 19), TODAY, TZ)
I3_LATE = (TODAY - date(2022, 6, 30)).days  # 1609
VII1_LATE = (TODAY - date(2022, 12, 31)).days  # 1425
KH_I2_LATE = (TODAY - date(2026, 3, 31)).days  # 239


def programme() -> list[AppendixGroup]:
    return [
        AppendixGroup(
            "I",
            "Công tác tuyên truyền, nâng cao nhận thức",
            [
                T(1, "Tuyên truyền chuyển đổi số", "Sở TT&TT", "Báo Hải Phòng", "Quý IV/2027"),
                T(2, "Hội nghị chuyên đề", "Sở Nội vụ", "Sở TT&TT", "Thường xuyên"),
                T(3, "Tài liệu tuyên truyền", "Sở TT&TT", "", "Tháng 6/2022"),
                T(4, "Bộ tài liệu hướng dẫn", "Sở Tư pháp", "", "30/11/2026"),
            ],
        ),
        AppendixGroup(
            "VII",
            "Phát triển chính quyền số",
            [
                T(1, "Dịch vụ công trực tuyến", "VP UBND TP", "", "Quý IV/2022"),
                T(2, "Kho dữ liệu dùng chung", "Sở TT&TT", "", "Quý II/2026"),
                T(3, "Trung tâm điều hành thông minh", "Sở TT&TT", "Công an TP", "30/6/2027"),
                T(4, "Số hóa hồ sơ một cửa", "UBND các quận, huyện", "", "Năm 2027"),
                T(5, "Hệ thống họp trực tuyến", "Sở Nội vụ", "", "Quý III/2026"),
                T(6, "Chữ ký số cho cán bộ", "Sở Tư pháp", "", "01/12/2026"),
                T(7, "Nền tảng tích hợp dữ liệu", "Sở KH&ĐT", "", "Năm 2026"),
            ],
        ),
    ]


def yearly_plan() -> list[AppendixGroup]:
    return [
        AppendixGroup(
            "I",
            "Phát triển dữ liệu",
            [
                T(1, "Cơ sở dữ liệu đất đai", "Sở TN&MT", "", "25/11/2026"),
                T(2, "Số hóa sổ hộ tịch", "Sở Tư pháp", "", "Quý I/2026"),
            ],
        ),
    ]


def old_plan() -> list[AppendixGroup]:
    return [AppendixGroup("I", "Tuyên truyền", [T(1, "Hội thảo 2022", "Sở TT&TT", "", "Năm 2022")])]


def local(day: int, hour: int = 9, minute: int = 0, month: int = 11) -> datetime:
    """A moment of 2026 in Hai Phong, as stored (UTC)."""
    return datetime(2026, month, day, hour, minute, tzinfo=TZ).astimezone(UTC)


@dataclass(frozen=True)
class Filed:
    plan: str
    code: str
    unit: str  # short name of the unit filing
    at: datetime
    status: str = ""
    percent: int = 0
    difficulties: str = ""
    proposals: str = ""
    kind: ReportKind = ReportKind.REPORT


FILED = [
    Filed("CT 284", "I.1", "Sở TT&TT", local(10), "in_progress", 40),  # before the week
    Filed("CT 284", "I.4", "STP", local(23), "not_started"),
    # 23:30 on 18/11 in Hai Phong: the day before the week starts.
    Filed("CT 284", "VII.1", "VP UBND TP", local(18, 23, 30), "in_progress", 30, "Chờ nâng cấp"),
    Filed("CT 284", "VII.2", "Sở TT&TT", local(21), "done_late", 100),
    Filed("CT 284", "VII.3", "Sở TT&TT", local(19), "blocked", 20, "Chưa có mặt bằng"),
    Filed("CT 284", "VII.3", "Sở TT&TT", local(24), "blocked", 25, "Thiếu kinh phí", "Bổ sung vốn"),
    Filed(
        "CT 284",
        "VII.3",
        "Công an TP",
        local(22),
        difficulties="Thiếu nhân lực an ninh mạng",
        kind=ReportKind.CONTRIBUTION,
    ),
    Filed("CT 284", "VII.5", "SNV", local(25, month=9), "done_on_time", 100),
    Filed("CT 284", "VII.6", "STP", local(2), "in_progress", 50),
    # 00:30 on 19/11 in Hai Phong (17:30 UTC the day before): within the week.
    Filed("CT 284", "VII.7", "Sở KH&ĐT", local(19, 0, 30), "paused", 10),
    Filed("KH 2026", "I.2", "STP", local(24), "in_progress", 60),
    Filed("KH 2022", "I.1", "Sở TT&TT", local(25), "in_progress", 70, "Không được tính"),
]


async def build(sessions: async_sessionmaker[AsyncSession], folder: Path) -> None:
    """The three plans, the reports of FILED, a pending extension on CT 284 VII.4, and KH 2022
    closed."""
    for short, name, groups in (
        ("CT 284", "Chương trình hành động chuyển đổi số", programme()),
        ("KH 2026", "Kế hoạch chuyển đổi số năm 2026", yearly_plan()),
        ("KH 2022", "Kế hoạch chuyển đổi số năm 2022", old_plan()),
    ):
        path = write_appendix(folder / f"{short.replace(' ', '_')}.xlsx", groups)
        await import_plan(sessions, path, plan_name=name, plan_short=short)
    async with sessions() as session:
        plans = {plan.short_name: plan for plan in await plan_store.every(session)}
        plan_store.set_decision(session, plans["CT 284"], "284/QĐ-UBND ngày 24/01/2022", NOW, "t")
        people = await _people(session)
        for filed in FILED:
            await _file(session, plans[filed.plan], people[filed.unit], filed)
        task = await _task(session, plans["CT 284"], "VII.4")
        asker = people["UBND các quận, huyện"]
        session.add(
            ExtensionRequest(
                task_id=task.id,
                unit_id=asker.unit_id,
                person_id=asker.id,
                proposed_date=date(2028, 6, 30),
                reason="Chờ kinh phí",
                state=ExtensionState.PENDING,
                created_at=local(20),
            )
        )
        plan_store.set_followed(session, plans["KH 2022"], False, NOW, "t")
        await session.commit()


async def _people(session: AsyncSession) -> dict[str, Person]:
    """One officer for each unit that files something here."""
    shorts = {filed.unit for filed in FILED} | {"UBND các quận, huyện"}
    found = {}
    for unit in (await session.scalars(select(Unit).where(Unit.short_name.in_(shorts)))).all():
        person = Person(full_name=f"Cán bộ {unit.short_name}", unit_id=unit.id, created_at=NOW)
        session.add(person)
        found[unit.short_name] = person
    await session.flush()
    assert set(found) == shorts
    return found


async def _task(session: AsyncSession, plan: Plan, code: str) -> Task:
    task = await session.scalar(select(Task).where(Task.plan_id == plan.id, Task.code == code))
    assert task is not None, (plan.short_name, code)
    return task


async def _file(session: AsyncSession, plan: Plan, person: Person, filed: Filed) -> None:
    submission = reports.Submission(
        filed.kind, "Kết quả", filed.difficulties, filed.proposals, filed.status, filed.percent
    )
    await reports.add(
        session,
        task=await _task(session, plan, filed.code),
        person=person,
        submission=submission,
        files=[],
        channel="telegram",
        now=filed.at,
    )


@pytest.fixture
async def sessions(tmp_path: Path, db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(db_url)
    factory = session_factory(engine)
    await build(factory, tmp_path)
    yield factory
    await engine.dispose()


async def figures_of(
    sessions: async_sessionmaker[AsyncSession], plan: str | None = None, week: bool = True
) -> Figures:
    async with sessions() as session:
        chosen = await plan_store.find(session, plan) if plan else None
        return await load_figures(
            session,
            TODAY,
            plan_id=chosen.id if chosen else None,
            period=WEEK if week else None,
        )


async def test_counts_per_plan_and_in_total(sessions: async_sessionmaker[AsyncSession]) -> None:
    figures = await figures_of(sessions)

    assert [plan.short_name for plan in figures.plans] == ["CT 284", "KH 2026"]  # not KH 2022
    ct, kh = (plan.counts for plan in figures.plans)
    assert dict(ct.by_status) == {
        TaskStatus.IN_PROGRESS: 2,  # I.1, VII.6
        TaskStatus.NOT_REPORTED: 2,  # I.2 (ongoing), I.3 (past due)
        TaskStatus.NOT_STARTED: 1,  # I.4, not yet due
        TaskStatus.OVERDUE: 1,  # VII.1
        TaskStatus.DONE_LATE: 1,  # VII.2
        TaskStatus.BLOCKED: 1,  # VII.3 (a contribution changes nothing)
        TaskStatus.EXTENSION_REQUESTED: 1,  # VII.4, never reported but asked for time
        TaskStatus.DONE_ON_TIME: 1,  # VII.5
        TaskStatus.PAUSED: 1,  # VII.7
    }
    assert (ct.tasks, ct.done, ct.late, ct.not_reported_late) == (11, 2, 2, 1)
    assert dict(kh.by_status) == {TaskStatus.NOT_REPORTED: 1, TaskStatus.OVERDUE: 1}
    assert (kh.tasks, kh.late, kh.not_reported_late) == (2, 1, 0)  # I.1 is due today: not late
    total = figures.total
    assert (total.tasks, total.done, total.in_progress, total.overdue) == (13, 2, 2, 2)
    assert (total.not_reported, total.not_reported_late, total.late) == (3, 1, 3)
    assert round(total.share(total.done), 1) == 15.4

    groups = [(g.roman, g.name, g.counts.tasks) for g in figures.plans[0].groups]
    assert groups == [
        ("I", "Công tác tuyên truyền, nâng cao nhận thức", 4),
        ("VII", "Phát triển chính quyền số", 7),
    ]
    seventh = figures.plans[0].groups[1].counts
    assert (seventh.done, seventh.overdue, seventh.not_reported) == (2, 1, 0)


async def test_most_overdue_and_due_soon(sessions: async_sessionmaker[AsyncSession]) -> None:
    figures = await figures_of(sessions)

    assert [
        (t.plan_short, t.code, t.lead_units, t.days_overdue, t.status) for t in figures.most_overdue
    ] == [
        ("CT 284", "I.3", ("Sở TT&TT",), I3_LATE, TaskStatus.NOT_REPORTED),
        ("CT 284", "VII.1", ("VP UBND TP",), VII1_LATE, TaskStatus.OVERDUE),
        ("KH 2026", "I.2", ("STP",), KH_I2_LATE, TaskStatus.OVERDUE),
    ]
    assert [t.code for t in figures.plans[1].most_overdue] == ["I.2"]
    assert [(t.plan_short, t.code, t.due_date, t.days_left) for t in figures.due_soon] == [
        ("KH 2026", "I.1", date(2026, 11, 25), 0),
        ("CT 284", "I.4", date(2026, 11, 30), 5),
        ("CT 284", "VII.6", date(2026, 12, 1), 6),
    ]
    async with sessions() as session:
        limited = await load_figures(session, TODAY, limit=1, soon_days=5)
    assert [t.code for t in limited.most_overdue] == ["I.3"]
    assert [t.code for t in limited.due_soon] == ["I.1"] and limited.due_soon_total == 2


async def test_units_that_did_not_report_and_what_was_raised(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    figures = await figures_of(sessions)

    silent = {u.short_name: (u.missing, u.owed, u.last_report) for u in figures.silent_units}
    assert silent == {
        "Sở TT&TT": (2, 3, date(2026, 11, 24)),  # I.1 and I.3; not KH 2022's report of 25/11
        "SNV": (1, 1, date(2026, 9, 25)),  # I.2 (ongoing: reported every period)
        "VP UBND TP": (1, 1, date(2026, 11, 18)),  # 23:30 on 18/11 is before the week
        "STP": (1, 3, date(2026, 11, 24)),  # VII.6; I.4 and KH 2026 I.2 were reported
        "UBND các quận, huyện": (1, 1, None),
        "Sở TN&MT": (1, 1, None),
    }
    assert figures.silent_units[0].short_name == "Sở TT&TT"  # the most missing first
    assert "Sở KH&ĐT" not in silent  # 00:30 on 19/11 is within the week

    assert [
        (r.plan_short, r.code, r.unit, r.day, r.difficulties, r.proposals) for r in figures.raised
    ] == [
        ("CT 284", "VII.3", "Công an TP", date(2026, 11, 22), "Thiếu nhân lực an ninh mạng", ""),
        ("CT 284", "VII.3", "Sở TT&TT", date(2026, 11, 24), "Thiếu kinh phí", "Bổ sung vốn"),
    ]


async def test_one_plan_asked_for_even_closed(sessions: async_sessionmaker[AsyncSession]) -> None:
    closed = await figures_of(sessions, "KH 2022")
    assert [plan.short_name for plan in closed.plans] == ["KH 2022"]
    assert closed.total.tasks == 1 and closed.total.late == 1
    assert [r.difficulties for r in closed.raised] == ["Không được tính"]

    yearly = await figures_of(sessions, "KH2026", week=False)
    assert yearly.total.tasks == 2 and yearly.period is None and yearly.silent_units == ()
    assert not yearly.several


async def test_a_few_queries_whatever_the_number_of_tasks(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    async with sessions() as session:
        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            await load_figures(session, TODAY, period=WEEK)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert len(statements) <= 8, statements


async def test_the_status_in_vietnamese(sessions: async_sessionmaker[AsyncSession]) -> None:
    text = status_text(await figures_of(sessions), "vi")
    lines = text.splitlines()

    assert lines[0] == "Tình hình thực hiện nhiệm vụ đến ngày 25/11/2026"
    ct = lines.index("CT 284 — Chương trình hành động chuyển đổi số (284/QĐ-UBND ngày 24/01/2022)")
    assert lines[ct + 1 : ct + 5] == [
        "11 nhiệm vụ; đã hoàn thành 2 (18,2%); đang thực hiện trong hạn 2; quá hạn 1 (9,1%)",
        "Đã hoàn thành: đúng hạn 1; quá hạn 1; không có hạn 0",
        "Chưa báo cáo: 2 (18,2%), trong đó 1 đã quá hạn",
        "Ngoài ra: chưa triển khai 1; gặp vướng mắc 1; tạm dừng 1; đề nghị gia hạn 1",
    ]
    assert (
        "I. Công tác tuyên truyền, nâng cao nhận thức: 4 nhiệm vụ; hoàn thành 0; quá hạn 0; "
        "chưa báo cáo 2" in lines
    )
    kh = lines.index("KH 2026 — Kế hoạch chuyển đổi số năm 2026")
    assert lines[kh + 1 : kh + 3] == [
        "2 nhiệm vụ; đã hoàn thành 0 (0,0%); đang thực hiện trong hạn 0; quá hạn 1 (50,0%)",
        "Chưa báo cáo: 1 (50,0%)",
    ]
    total = lines.index("Tổng cộng 2 kế hoạch:")
    assert lines[total + 1 : total + 3] == [
        "13 nhiệm vụ; đã hoàn thành 2 (15,4%); đang thực hiện trong hạn 2; quá hạn 2 (15,4%)",
        "Đã hoàn thành: đúng hạn 1; quá hạn 1; không có hạn 0",
    ]
    assert "Chưa báo cáo: 3 (23,1%), trong đó 1 đã quá hạn" in lines[total:]
    overdue = lines.index("Quá hạn lâu nhất (3/3 nhiệm vụ chưa hoàn thành đã quá hạn):")
    assert lines[overdue + 1 : overdue + 4] == [
        "1. CT 284 · I.3 Tài liệu tuyên truyền — Sở TT&TT — quá hạn 1.609 ngày (chưa báo cáo)",
        "2. CT 284 · VII.1 Dịch vụ công trực tuyến — VP UBND TP — quá hạn 1.425 ngày",
        "3. KH 2026 · I.2 Số hóa sổ hộ tịch — STP — quá hạn 239 ngày",
    ]
    soon = lines.index("Sắp đến hạn trong 7 ngày tới: 3 nhiệm vụ")
    assert lines[soon + 1] == (
        "- KH 2026 · I.1 Cơ sở dữ liệu đất đai — Sở TN&MT — hạn 25/11/2026 (đến hạn hôm nay)"
    )
    assert lines[soon + 2].endswith("— STP — hạn 30/11/2026 (còn 5 ngày)")
    silent = lines.index("Đơn vị chưa báo cáo từ 19/11/2026 đến 25/11/2026 (6 đơn vị):")
    assert lines[silent + 1] == (
        "- Sở TT&TT: 2/3 nhiệm vụ chủ trì chưa báo cáo; báo cáo gần nhất 24/11/2026"
    )
    assert "- Sở TN&MT: 1/1 nhiệm vụ chủ trì chưa báo cáo; chưa báo cáo lần nào" in lines
    raised = lines.index("Khó khăn, vướng mắc và đề xuất, kiến nghị từ 19/11/2026 đến 25/11/2026:")
    assert lines[raised + 3 : raised + 6] == [
        "- CT 284 · VII.3 Trung tâm điều hành thông minh — Sở TT&TT (24/11/2026)",
        "  Khó khăn, vướng mắc: Thiếu kinh phí",
        "  Đề xuất, kiến nghị: Bổ sung vốn",
    ]
    assert "KH 2022" not in text and "Chưa có mặt bằng" not in text


async def test_the_status_in_english(sessions: async_sessionmaker[AsyncSession]) -> None:
    text = status_text(await figures_of(sessions), "en")

    assert text.startswith("Status of the tasks as of 25/11/2026\n")
    assert "13 tasks; completed 2 (15.4%); in progress within deadline 2; overdue 2 (15.4%)" in text
    assert "Not reported: 3 (23.1%), of which 1 past due" in text
    assert (
        "1. CT 284 · I.3 Tài liệu tuyên truyền — Sở TT&TT — 1,609 days overdue (not reported)"
        in text
    )
    assert "- KH 2026 · I.1 Cơ sở dữ liệu đất đai — Sở TN&MT — due 25/11/2026 (due today)" in text
    assert "- Sở TN&MT: 1 of 1 tasks it leads not reported; never reported" in text
    assert "  Difficulties: Thiếu nhân lực an ninh mạng" in text


async def test_one_plan_reads_without_plan_names_on_tasks(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    text = status_text(await figures_of(sessions, "CT 284", week=False), "vi")

    assert "Tổng cộng" not in text and "Đơn vị chưa báo cáo" not in text
    assert "1. I.3 Tài liệu tuyên truyền — Sở TT&TT — quá hạn 1.609 ngày (chưa báo cáo)" in text
    assert "- I.4 Bộ tài liệu hướng dẫn — STP — hạn 30/11/2026 (còn 5 ngày)" in text


async def test_nothing_followed(tmp_path: Path, sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        async with session_factory(engine)() as session:
            figures = await load_figures(session, TODAY, period=WEEK)
    finally:
        await engine.dispose()
    assert figures.plans == () and figures.total.tasks == 0
    assert status_text(figures, "vi").splitlines()[1] == "Chưa có kế hoạch nào đang được theo dõi."
    assert status_text(figures, "en").endswith("No plan is being followed yet.")


async def test_a_week_of_many_difficulties_stays_readable_on_a_phone(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    figures = await figures_of(sessions)
    assert figures.period is not None and figures.raised
    one = figures.raised[0]
    many = tuple(replace(one, code=f"I.{n}", difficulties=f"Khó khăn số {n}") for n in range(1, 41))
    lines = raised_lines(replace(figures, raised=many), figures.period, "vi")

    assert "  Khó khăn, vướng mắc: Khó khăn số 15" in lines
    assert "  Khó khăn, vướng mắc: Khó khăn số 16" not in lines
    assert lines[-1] == "  … và 25 nội dung khác (xem đầy đủ bằng /xuat)."
