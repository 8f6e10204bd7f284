"""An admin loads the city's plan appendix, then loads a corrected version of it."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.db import create_engine, session_factory
from storage.models import AuditLog, Task, TaskGroup
from storage.samples.builder import AppendixGroup, AppendixTask, Layout, write_appendix
from storage.samples.make_sample import GROUPS, SAMPLE_PATH

T = AppendixTask


def quirky_plan() -> list[AppendixGroup]:
    """Every layout quirk of real appendices, in one small plan."""
    return [
        AppendixGroup(
            "I",
            "Công tác tuyên truyền, nâng cao nhận thức",
            [
                T(
                    1,
                    "Tuyên truyền về chuyển đổi số",
                    "Sở TT&TT",
                    "Sở TTTT; Báo Hải Phòng",
                    "Quý IV/2022",
                    "Chuyên mục",
                ),
                T(
                    2,
                    "Hội nghị chuyên đề",
                    "STTTT",
                    "Các sở, ban, ngành; UBND các quận, huyện",
                    "Thường xuyên",
                ),
                T(3, "Tài liệu tuyên truyền", "Sở Thông tin và Truyền thông", "", "Tháng 6/2022"),
            ],
        ),
        AppendixGroup(
            "II",
            "Công tác xây dựng thể chế, cơ chế chính sách",
            [
                T(
                    1,
                    "Đề án chuyển đổi số",
                    "Sở Kế hoạch và Đầu tư",
                    "Sở KH&ĐT, Sở Tài chính",
                    "Trước 30/6/2022",
                ),
                T(2, "Quy chế dữ liệu", "Sở Tư pháp", "Sở Nội vụ và Sở Tài chính", "30/6/2022"),
                T(
                    3,
                    "Cơ chế khuyến khích",
                    "UBND huyện Thuỷ Nguyên",
                    "Kiến Thụy, Bạch Long Vỹ",
                    date(2023, 3, 15),
                ),
                T(4, "Rà soát văn bản", "Sở TT&TT", "", "Năm 2022"),
                T(5, "Đề án giai đoạn", "Sở TT&TT", "", "Giai đoạn 2022-2025"),
                T(6, "Báo cáo hằng năm", "Sở TT&TT", "", "Hằng năm"),
                T(7, "Kết nối liên thông", "Sở TT&TT", "", "2022–2025"),
                T(8, "Chỉ tiêu hàng năm", "Sở TT&TT", "", "Hàng năm"),
            ],
        ),
    ]


def db_rows(url: str, statement: Any) -> list[Any]:
    async def run() -> list[Any]:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                return list((await session.execute(statement)).all())
        finally:
            await engine.dispose()

    return asyncio.run(run())


def tasks_by_code(url: str) -> dict[str, Task]:
    return {task.code: task for (task,) in db_rows(url, select(Task))}


def count(url: str, model: Any) -> int:
    return int(db_rows(url, select(func.count()).select_from(model))[0][0])


def test_every_quirk_lands_in_the_right_code_group_units_and_dates(
    tmp_path: Path, run_cli, db_url: str
) -> None:
    path = write_appendix(tmp_path / "ke_hoach.xlsx", quirky_plan())

    result = run_cli("import", str(path), env={"DATABASE_URL": db_url})

    assert result.code == 0, result.err
    assert "2 nhóm, 11 nhiệm vụ" in result.out
    tasks = tasks_by_code(db_url)
    assert sorted(tasks) == sorted(
        ["I.1", "I.2", "I.3", "II.1", "II.2", "II.3", "II.4", "II.5", "II.6", "II.7", "II.8"]
    )
    first = tasks["I.1"]
    assert first.group.number == 1 and first.lead_unit.name == "Sở Thông tin và Truyền thông"
    # "Sở TTTT" in the cooperating cell is the lead itself: not listed twice.
    assert [(tu.unit.name, tu.role) for tu in first.units] == [
        ("Sở Thông tin và Truyền thông", "lead"),
        ("Báo Hải Phòng", "cooperating"),
    ]
    assert first.due_date == date(2022, 12, 31) and not first.ongoing
    assert tasks["I.3"].lead_unit.name == "Sở Thông tin và Truyền thông"
    assert [tu.unit.name for tu in tasks["I.2"].units if tu.role == "cooperating"] == [
        "Các sở, ban, ngành",
        "UBND các quận, huyện",
    ]
    assert tasks["I.2"].ongoing and tasks["I.2"].due_date is None
    assert tasks["II.1"].lead_unit.name == "Sở Kế hoạch và Đầu tư"
    assert [tu.unit.name for tu in tasks["II.2"].units if tu.role == "cooperating"] == [
        "Sở Nội vụ",
        "Sở Tài chính",
    ]
    assert tasks["II.3"].lead_unit.name == "UBND huyện Thủy Nguyên"
    assert tasks["II.3"].due_date == date(2023, 3, 15)
    assert tasks["II.3"].deadline_text == "15/03/2023"
    assert {tu.unit.name for tu in tasks["II.3"].units if tu.role == "cooperating"} == {
        "UBND huyện Kiến Thụy",
        "UBND huyện Bạch Long Vĩ",
    }
    expected_dates = {
        "I.3": date(2022, 6, 30),
        "II.1": date(2022, 6, 30),
        "II.2": date(2022, 6, 30),
        "II.4": date(2022, 12, 31),
        "II.5": date(2025, 12, 31),
        "II.7": date(2025, 12, 31),
    }
    assert {code: tasks[code].due_date for code in expected_dates} == expected_dates
    assert tasks["II.6"].ongoing and tasks["II.8"].ongoing
    assert tasks["II.5"].deadline_text == "Giai đoạn 2022-2025"


def test_a_one_row_header_and_groups_written_in_the_title_column(
    tmp_path: Path, run_cli, sqlite_url: str
) -> None:
    layout = Layout(
        titles=("KẾ HOẠCH",),
        two_row_header=False,
        number_row=False,
        group_in_title_column=True,
        footer=("Nơi nhận:", "- Như trên;"),
    )
    path = write_appendix(tmp_path / "plan.xlsx", quirky_plan()[:1], layout)

    result = run_cli("import", str(path))

    assert result.code == 0, result.err
    assert sorted(tasks_by_code(sqlite_url)) == ["I.1", "I.2", "I.3"]


def test_reimporting_the_same_file_changes_nothing(
    tmp_path: Path, run_cli, sqlite_url: str
) -> None:
    path = write_appendix(tmp_path / "plan.xlsx", quirky_plan())
    assert run_cli("import", str(path)).code == 0
    audits = count(sqlite_url, AuditLog)

    again = run_cli("import", str(path))

    assert again.code == 0
    assert "Không có thay đổi" in again.out
    assert count(sqlite_url, AuditLog) == audits


def test_a_changed_file_updates_by_code_audits_and_reports_what_disappeared(
    tmp_path: Path, run_cli, db_url: str
) -> None:
    env = {"DATABASE_URL": db_url}
    assert (
        run_cli("import", str(write_appendix(tmp_path / "v1.xlsx", quirky_plan())), env=env).code
        == 0
    )
    changed = quirky_plan()
    changed[0].tasks[0].deadline = "Quý II/2023"
    changed[0].tasks[0].coop = "Sở Nội vụ"
    del changed[1].tasks[-1]  # II.8 is no longer in the plan

    dry = run_cli(
        "import", str(write_appendix(tmp_path / "v2.xlsx", changed)), "--dry-run", env=env
    )
    assert dry.code == 0 and "~ I.1" in dry.out and "II.8" in dry.out
    assert tasks_by_code(db_url)["I.1"].due_date == date(2022, 12, 31)

    result = run_cli("import", str(tmp_path / "v2.xlsx"), env=env)

    assert result.code == 0, result.err
    assert "cập nhật: 1" in result.out and "II.8" in result.out
    tasks = tasks_by_code(db_url)
    assert tasks["I.1"].due_date == date(2023, 6, 30)
    assert [tu.unit.name for tu in tasks["I.1"].units if tu.role == "cooperating"] == ["Sở Nội vụ"]
    assert tasks["II.8"].active is False
    audits = db_rows(
        db_url,
        select(AuditLog.action, AuditLog.entity_id, AuditLog.details)
        .where(AuditLog.action != "task.created")
        .where(AuditLog.entity == "task"),
    )
    by_action = {(action, code): details for action, code, details in audits}
    assert by_action[("task.updated", "I.1")]["due_date"] == ["2022-12-31", "2023-06-30"]
    assert ("task.missing_from_import", "II.8") in by_action


def test_the_shipped_sample_imports_whole(run_cli, sqlite_url: str) -> None:
    result = run_cli("import", str(SAMPLE_PATH))

    assert result.code == 0, result.err
    assert count(sqlite_url, TaskGroup) == 9
    assert count(sqlite_url, Task) == sum(len(group.tasks) for group in GROUPS)


def test_a_dry_run_on_an_empty_database_stores_nothing(
    tmp_path: Path, run_cli, sqlite_url: str
) -> None:
    result = run_cli("import", str(write_appendix(tmp_path / "p.xlsx", quirky_plan())), "--dry-run")

    assert result.code == 0
    assert "+ I.1" in result.out
    assert count(sqlite_url, Task) == 0


@pytest.mark.parametrize("sheet, code", [("Kế hoạch", 0), ("Không có", 1)])
def test_choosing_the_sheet(tmp_path: Path, run_cli, sheet: str, code: int) -> None:
    path = write_appendix(tmp_path / "p.xlsx", quirky_plan(), Layout(sheet_name="Kế hoạch"))

    result = run_cli("import", str(path), "--sheet", sheet)

    assert result.code == code
    if code:
        assert "Kế hoạch" in result.err and "Traceback" not in result.err
