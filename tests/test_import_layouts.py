"""Appendices laid out as offices really write them import in one command: group rows in any
column, total rows under the table, titles on several lines, an instruction sheet in front."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from storage.models import Task
from storage.samples.builder import AppendixGroup, AppendixTask, Layout, write_appendix
from tests.test_import import count, quirky_plan, tasks_by_code

T = AppendixTask
CODES = ["I.1", "I.2", "I.3", "II.1", "II.2", "II.3", "II.4", "II.5", "II.6", "II.7", "II.8"]


@pytest.mark.parametrize(
    "total", ["Tổng cộng: 11 nhiệm vụ", "Tổng số: 11 nhiệm vụ", "TỔNG CỘNG", "Cộng", "Tổng"]
)
def test_groups_merged_in_the_number_column_and_a_total_row(
    tmp_path: Path, run_cli, sqlite_url: str, total: str
) -> None:
    layout = Layout(group_style="number", total_row=total, footer=("Nơi nhận:", "- Như trên;"))
    path = write_appendix(tmp_path / "ke_hoach.xlsx", quirky_plan(), layout)

    result = run_cli("import", str(path))

    assert result.code == 0, result.err
    assert "2 nhóm, 11 nhiệm vụ" in result.out
    tasks = tasks_by_code(sqlite_url)
    assert sorted(tasks) == sorted(CODES)
    assert tasks["I.1"].group.name == "Công tác tuyên truyền, nâng cao nhận thức"
    assert tasks["II.1"].group.name == "Công tác xây dựng thể chế, cơ chế chính sách"
    assert tasks["II.8"].title == "Chỉ tiêu hàng năm"  # nothing glued onto the last task


def test_a_total_row_ends_the_table_before_a_signature(
    tmp_path: Path, run_cli, sqlite_url: str
) -> None:
    layout = Layout(total_row="Tổng cộng: 11 nhiệm vụ", footer=("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"))
    path = write_appendix(tmp_path / "ke_hoach.xlsx", quirky_plan(), layout)

    result = run_cli("import", str(path))

    assert result.code == 0, result.err
    assert tasks_by_code(sqlite_url)["II.8"].title == "Chỉ tiêu hàng năm"


def handmade(path: Path, rows: list[list[Any]], merges: tuple[str, ...] = ()) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Phụ lục"
    sheet.append(["STT", "Nội dung nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời hạn"])
    for row in rows:
        sheet.append(row)
    for cells in merges:
        sheet.merge_cells(cells)
    workbook.save(path)
    return path


def test_group_rows_written_every_way_in_one_file(tmp_path: Path, run_cli, sqlite_url: str) -> None:
    rows: list[list[Any]] = [
        ["Nhóm 1: Công tác tuyên truyền, nâng cao nhận thức"],
        [1, "Tuyên truyền", "Sở TT&TT", "", "Năm 2022"],
        ["Phần II", "Công tác xây dựng thể chế"],
        [1, "Quy chế", "Sở Tư pháp", "", "Năm 2022"],
        [None, "III. Phát triển nền tảng, hạ tầng số"],
        [1, "Hạ tầng", "Sở TT&TT", "", "Năm 2022"],
        ["IV", "Phát triển dữ liệu", "Phát triển dữ liệu", "Phát triển dữ liệu"],
        [1, "Kho dữ liệu", "Sở TT&TT", "", "Năm 2022"],
        ["NHÓM NHIỆM VỤ V - Bảo đảm an toàn thông tin"],
        [1, "Giám sát an toàn", "Công an TP", "", "Năm 2022"],
        ["A", "Nhiệm vụ bổ sung"],
        ["VI", "Phát triển nguồn nhân lực"],
        [2, "Đào tạo, bồi dưỡng", "Sở Nội vụ", "", "Năm 2022"],
        [None, "a) nội dung đào tạo chung được ghi tiếp ở dòng này"],
        ["Cộng nhóm VI: 1 nhiệm vụ"],
    ]
    path = handmade(tmp_path / "nhom.xlsx", rows, ("A2:E2", "A10:E10"))

    result = run_cli("import", str(path))

    assert result.code == 0, result.err
    tasks = tasks_by_code(sqlite_url)
    assert sorted(tasks) == ["I.1", "II.1", "III.1", "IV.1", "V.1", "VI.2"]
    names = {code: task.group.name for code, task in tasks.items()}
    assert names["I.1"] == "Công tác tuyên truyền, nâng cao nhận thức"
    assert names["II.1"] == "Công tác xây dựng thể chế"
    assert names["III.1"] == "Phát triển nền tảng, hạ tầng số"
    assert names["IV.1"] == "Phát triển dữ liệu"
    assert names["V.1"] == "Bảo đảm an toàn thông tin"
    assert tasks["VI.2"].title == (
        "Đào tạo, bồi dưỡng\na) nội dung đào tạo chung được ghi tiếp ở dòng này"
    )


def test_a_numbered_heading_over_lettered_items(tmp_path: Path, run_cli, sqlite_url: str) -> None:
    rows: list[list[Any]] = [
        ["I", "Phát triển chính quyền số"],
        [1, "Xây dựng các hệ thống dùng chung:", None, None, None],
        ["a)", "Cổng dịch vụ công", "VP UBND TP", "Sở TT&TT", "Năm 2022"],
        ["b)", "Hệ thống báo cáo", "VP UBND TP", "", "Năm 2023"],
        [2, "Kho dữ liệu", "Sở TT&TT", "", "Năm 2022"],
    ]

    result = run_cli("import", str(handmade(tmp_path / "muc.xlsx", rows)))

    assert result.code == 0, result.err
    assert sorted(tasks_by_code(sqlite_url)) == ["I.1.a", "I.1.b", "I.2"]


def test_titles_on_several_lines_are_kept_as_written(tmp_path: Path, run_cli, db_url: str) -> None:
    title = "Xây dựng nền tảng tích hợp:\n- Cổng dữ liệu mở\n-   Kho dữ liệu   dùng chung"
    plan = [
        AppendixGroup(
            "IV",
            "Phát triển dữ liệu",
            [T(1, title, "Sở TT&TT\nCông an TP", "Sở Nội vụ", "Năm 2022", "Nền tảng\nKho dữ liệu")],
        )
    ]
    env = {"DATABASE_URL": db_url}

    result = run_cli("import", str(write_appendix(tmp_path / "p.xlsx", plan)), env=env)

    assert result.code == 0, result.err
    task = tasks_by_code(db_url)["IV.1"]
    assert task.title == "Xây dựng nền tảng tích hợp:\n- Cổng dữ liệu mở\n- Kho dữ liệu dùng chung"
    assert task.expected_output == "Nền tảng\nKho dữ liệu"
    assert [tu.unit.name for tu in task.units if tu.role == "lead"] == [
        "Sở Thông tin và Truyền thông",
        "Công an thành phố",
    ]
    out = tmp_path / "out.json"
    assert run_cli("export", str(out), "--format", "json", env=env).code == 0
    assert json.loads(out.read_text(encoding="utf-8"))[0]["title"] == task.title


def test_an_instruction_sheet_in_front_is_passed_over(
    tmp_path: Path, run_cli, sqlite_url: str
) -> None:
    guide = ("Hướng dẫn", ("HƯỚNG DẪN NHẬP LIỆU", "Cột STT: số thứ tự", "Cột Nhiệm vụ: nội dung"))
    layout = Layout(sheets_before=(guide,), sheet_name="Kế hoạch 2023")
    path = write_appendix(tmp_path / "p.xlsx", quirky_plan(), layout)

    result = run_cli("import", str(path))

    assert result.code == 0, result.err
    assert "trang tính “Kế hoạch 2023”" in result.out
    assert count(sqlite_url, Task) == 11


def test_no_sheet_holds_the_table(tmp_path: Path, run_cli, sqlite_url: str) -> None:
    workbook = Workbook()
    workbook.active.title = "Hướng dẫn"
    workbook.active.append(["Hướng dẫn nhập liệu"])
    other = workbook.create_sheet("Danh bạ")
    other.append(["Họ tên", "Điện thoại"])
    path = tmp_path / "khong_co_bang.xlsx"
    workbook.save(path)

    result = run_cli("import", str(path))

    assert result.code == 1 and "Traceback" not in result.err
    assert "“Hướng dẫn”, “Danh bạ”" in result.err and "--sheet" in result.err
    assert count(sqlite_url, Task) == 0


@pytest.mark.parametrize("lead", ["", "-", "x", "(chưa xác định)"])
def test_a_task_row_without_a_lead_unit_is_refused(
    tmp_path: Path, run_cli, sqlite_url: str, lead: str
) -> None:
    plan = [
        AppendixGroup(
            "I",
            "Công tác tuyên truyền",
            [T(1, "Có chủ trì", "Sở TT&TT", ""), T(2, "Không rõ chủ trì", lead, "Sở Nội vụ")],
        )
    ]

    result = run_cli("import", str(write_appendix(tmp_path / "p.xlsx", plan)), "--add-units")

    assert result.code == 1, result.out
    line = next(line for line in result.err.splitlines() if "Dòng 8" in line)
    assert "cột Cơ quan chủ trì" in line
    assert count(sqlite_url, Task) == 0


def test_groups_numbered_in_arabic_over_dotted_tasks(
    tmp_path: Path, run_cli, sqlite_url: str
) -> None:
    rows: list[list[Any]] = [
        ["1", "Công tác tuyên truyền, nâng cao nhận thức"],
        ["1.1", "Tuyên truyền", "Sở TT&TT", "", "Năm 2022"],
        ["1.2", "Hội nghị", "Sở Nội vụ", "", "Năm 2022"],
        ["2. Phát triển dữ liệu"],
        ["2.1", "Kho dữ liệu", "Sở TT&TT", "", "Năm 2022"],
        ["III", "Phát triển chính quyền số"],
        [1, "Hệ thống dùng chung", None, None, None],
        ["1.1", "Cổng dịch vụ công", "VP UBND TP", "", "Năm 2022"],
        ["1.2", "Hệ thống báo cáo", "VP UBND TP", "", "Năm 2023"],
        [2, "Số hoá hồ sơ", "Sở Nội vụ", "", "Năm 2022"],
    ]

    result = run_cli("import", str(handmade(tmp_path / "so.xlsx", rows, ("A5:E5",))))

    assert result.code == 0, result.err
    tasks = tasks_by_code(sqlite_url)
    assert sorted(tasks) == ["I.1", "I.2", "II.1", "III.1.1", "III.1.2", "III.2"]
    assert tasks["II.1"].group.name == "Phát triển dữ liệu"
    assert tasks["I.2"].title == "Hội nghị"
