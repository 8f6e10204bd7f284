"""Appendices laid out in ways the first importer had never seen, each through the real CLI as
an outside checker tried them: who leads written inside the cell, "-" items, text typed on a
Mac (decomposed diacritics) or pasted with non-breaking spaces, a time column split into start
and end, the header repeated after a page break, numbers written in the task's text or with
their group ("I.1"), lists sharing one word ("Các sở: Nội vụ, Tài chính"), lettered parts, and
a task written over two merged rows."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from storage.models import Task
from tests.test_import import count, tasks_by_code

TTTT = "Sở Thông tin và Truyền thông"
HEADER = ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian thực hiện"]


def sheet(
    path: Path,
    rows: Sequence[Any],
    merges: Sequence[str] = (),
    title: str = "Phụ lục",
) -> Path:
    """A workbook of one sheet holding `rows` from A1, with the merged ranges given."""
    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = title
    for row in rows:
        worksheet.append(list(row))
    for cells in merges:
        worksheet.merge_cells(cells)
    workbook.save(path)
    return path


def exported(run_cli, tmp_path: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """The plan as `tiendo export --format json` gives it, by task code."""
    out = tmp_path / "plan.json"
    result = run_cli("export", str(out), "--format", "json", env=env)
    assert result.code == 0, result.err
    return {task["code"]: task for task in json.loads(out.read_text(encoding="utf-8"))}


def units(task: Task, role: str) -> list[str]:
    return [tu.unit.name for tu in task.units if tu.role == role]


def test_who_leads_is_written_inside_the_unit_cell(tmp_path: Path, run_cli, db_url: str) -> None:
    rows = [
        HEADER,
        ["I", "An toàn thông tin"],
        [1, "Diễn tập", "Sở TT&TT (chủ trì); Sở Nội vụ", "Sở Tài chính", "Năm 2024"],
        [2, "Giám sát", "Sở TT&TT chủ trì, phối hợp với Công an TP", "", "Năm 2024"],
        [3, "Ứng cứu", "Chủ trì: Sở Y tế\nPhối hợp: Bảo hiểm xã hội thành phố", "", "Năm 2024"],
        [4, "Đào tạo", "Sở Nội vụ (phối hợp)", "", "Năm 2024"],
    ]
    path = sheet(tmp_path / "vai_tro.xlsx", rows)
    env = {"DATABASE_URL": db_url}

    refused = run_cli("import", str(path), env=env)

    assert refused.code == 1
    assert "Dòng 6, cột Cơ quan chủ trì “Sở Nội vụ (phối hợp)”: thiếu cơ quan chủ trì" in (
        refused.err
    )

    rows[-1] = [4, "Đào tạo", "Sở Nội vụ", "Sở TT&TT (phối hợp)", "Năm 2024"]
    result = run_cli("import", str(sheet(path, rows)), env=env)

    assert result.code == 0, result.err
    tasks = tasks_by_code(db_url)
    assert units(tasks["I.1"], "lead") == [TTTT]
    assert units(tasks["I.1"], "cooperating") == ["Sở Nội vụ", "Sở Tài chính"]
    assert (units(tasks["I.2"], "lead"), units(tasks["I.2"], "cooperating")) == (
        [TTTT],
        ["Công an thành phố"],
    )
    assert (units(tasks["I.3"], "lead"), units(tasks["I.3"], "cooperating")) == (
        ["Sở Y tế"],
        ["Bảo hiểm xã hội thành phố"],
    )
    assert units(tasks["I.4"], "cooperating") == [TTTT]


def test_one_column_of_units_marked_chu_tri_and_phoi_hop(
    tmp_path: Path, run_cli, sqlite_url: str
) -> None:
    rows = [
        ["STT", "Nhiệm vụ", "Cơ quan thực hiện", "Thời gian"],
        ["I", "An toàn thông tin"],
        [1, "Diễn tập", "Sở TT&TT chủ trì; Công an TP, Bộ CHQS TP phối hợp", "Hằng năm"],
        [2, "Giám sát", "Công an thành phố (chủ trì), Sở TT&TT (phối hợp)", "Thường xuyên"],
    ]

    result = run_cli("import", str(sheet(tmp_path / "p.xlsx", rows)))

    assert result.code == 0, result.err
    plan = exported(run_cli, tmp_path)
    assert plan["I.1"]["lead_unit"] == TTTT
    assert plan["I.1"]["cooperating_units"] == [
        "Công an thành phố",
        "Bộ Chỉ huy Quân sự thành phố",
    ]
    assert plan["I.2"]["lead_unit"] == "Công an thành phố"
    assert plan["I.2"]["cooperating_units"] == [TTTT]


def test_dash_items_under_a_task(tmp_path: Path, run_cli, sqlite_url: str) -> None:
    rows = [
        HEADER,
        ["NHÓM II. PHÁT TRIỂN HẠ TẦNG SỐ"],
        [1, "Hạ tầng mạng"],
        ["-", "Mạng truyền số liệu chuyên dùng", "Sở TT&TT", "VNPT", "Quý IV/2023"],
        ["-", "Mạng 5G", "Sở TT&TT", "Viettel", "Năm 2025"],
        [2, "Trung tâm dữ liệu thành phố", "Sở TT&TT", "Sở KH&ĐT", "Năm 2024"],
        ["-", "Giai đoạn 1: thuê dịch vụ"],
        ["+", "Giai đoạn 2: đầu tư"],
    ]
    path = sheet(tmp_path / "p.xlsx", rows, merges=("A2:E2",))

    result = run_cli("import", str(path))

    assert result.code == 0, result.err
    assert "1 nhóm, 3 nhiệm vụ" in result.out
    plan = exported(run_cli, tmp_path)
    assert plan["II.1.a"]["title"] == "Mạng truyền số liệu chuyên dùng"
    assert plan["II.1.a"]["cooperating_units"] == ["VNPT Hải Phòng"]
    assert plan["II.1.b"]["due_date"] == "2025-12-31"
    assert plan["II.2"]["title"] == (
        "Trung tâm dữ liệu thành phố\n- Giai đoạn 1: thuê dịch vụ\n+ Giai đoạn 2: đầu tư"
    )
    assert plan["II.2"]["group_name"] == "PHÁT TRIỂN HẠ TẦNG SỐ"


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def test_text_typed_on_a_mac_or_pasted_from_the_web(tmp_path: Path, run_cli, db_url: str) -> None:
    header = [nfd(h) for h in ("STT", "Nội dung\xa0nhiệm vụ", "Cơ\xa0quan chủ trì")]
    thuy, ngo = nfd("UBND huyện Thủy Nguyên"), "UBND Q. Ngô Quyền; UBND H. Vĩnh Bảo"
    rows = [
        [*header, "Cơ quan phối hợp", "Thời gian\nthực hiện"],
        ["II\xa0", nfd("  Phát triển  chính quyền số ")],
        [" 1 ", nfd("Triển khai\xa0họp trực tuyến\u200b"), nfd(TTTT), thuy, nfd(" Quý IV/2023 ")],
        [2.0, "Số hóa hồ sơ", "UBND huyện Thuỷ Nguyên", ngo, "Năm\xa02023"],
    ]
    path = sheet(tmp_path / "mac.xlsx", rows, title=nfd("Phụ lục"))
    env = {"DATABASE_URL": db_url}

    result = run_cli("import", str(path), "--sheet", "Phụ lục", env=env)

    assert result.code == 0, result.err
    assert "trang tính “Phụ lục”, 1 nhóm, 2 nhiệm vụ" in result.out
    plan = exported(run_cli, tmp_path, env)
    assert plan["II.1"]["title"] == "Triển khai họp trực tuyến"
    assert plan["II.1"]["group_name"] == "Phát triển chính quyền số"
    assert plan["II.1"]["lead_unit"] == TTTT
    assert plan["II.1"]["cooperating_units"] == ["UBND huyện Thủy Nguyên"]
    assert plan["II.1"]["deadline_text"] == "Quý IV/2023"
    assert plan["II.2"]["lead_unit"] == "UBND huyện Thủy Nguyên"
    assert plan["II.2"]["cooperating_units"] == ["UBND quận Ngô Quyền", "UBND huyện Vĩnh Bảo"]
    assert plan["II.2"]["due_date"] == "2023-12-31"
    again = run_cli("import", str(path), env=env)
    assert "Không có thay đổi" in again.out


def test_the_due_date_is_the_end_of_a_split_time_column(
    tmp_path: Path, run_cli, sqlite_url: str
) -> None:
    two_rows = [
        ["STT", "Nội dung", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian thực hiện", None],
        [None, None, None, None, "Bắt đầu", "Hoàn thành"],
        ["I", "Phát triển dữ liệu"],
        [1, "CSDL công chức", "Sở Nội vụ", "Sở TT&TT", "Quý I/2023", "Quý IV/2023"],
        [2, "CSDL đất đai", "Sở TN&MT", "", 2022, 2025],
    ]
    merges = ("A1:A2", "B1:B2", "C1:C2", "D1:D2", "E1:F1")
    one_row = [
        ["TT", "Nhiệm vụ", "Thời gian bắt đầu", "Thời gian hoàn thành", "Đơn vị chủ trì"],
        ["I", "Phát triển dữ liệu"],
        [1, "CSDL công chức", "Quý I/2023", "Quý IV/2023", "Sở Nội vụ"],
    ]

    first = run_cli("import", str(sheet(tmp_path / "a.xlsx", two_rows, merges)))
    assert first.code == 0, first.err
    plan = exported(run_cli, tmp_path)
    assert [plan[c]["due_date"] for c in ("I.1", "I.2")] == ["2023-12-31", "2025-12-31"]

    second = run_cli("import", str(sheet(tmp_path / "b.xlsx", one_row)), "--replace")
    assert second.code == 0, second.err
    assert exported(run_cli, tmp_path)["I.1"]["deadline_text"] == "Quý IV/2023"


def test_the_header_repeated_after_a_page_break(tmp_path: Path, run_cli, sqlite_url: str) -> None:
    rows = [
        HEADER,
        ["I", "Phát triển nền tảng"],
        [1, "Nền tảng tích hợp, chia sẻ dữ liệu (LGSP)", "Sở TT&TT", "", "Năm 2023"],
        [],
        [2, "Nền tảng định danh", "Công an TP", "Sở TT&TT", "Năm 2023"],
        HEADER,
        ["(1)", "(2)", "(3)", "(4)", "(5)"],
        ["II", "Phát triển dữ liệu"],
        [1, "Dữ liệu mở", "Sở TT&TT", "Các sở, ban, ngành", "Năm 2024"],
    ]

    result = run_cli("import", str(sheet(tmp_path / "p.xlsx", rows)))

    assert result.code == 0, result.err
    assert "2 nhóm, 3 nhiệm vụ" in result.out
    assert sorted(tasks_by_code(sqlite_url)) == ["I.1", "I.2", "II.1"]


def test_numbers_written_in_the_task_text_without_a_number_column(
    tmp_path: Path, run_cli, sqlite_url: str
) -> None:
    rows = [
        ["Nội dung nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời hạn hoàn thành"],
        ["I. PHÁT TRIỂN HẠ TẦNG SỐ"],
        ["1. Phủ sóng 4G/5G toàn thành phố", "Sở TT&TT", "Các doanh nghiệp viễn thông", 2025],
        ["2. Cáp quang đến hộ gia đình", "Sở TT&TT", "VNPT Hải Phòng", "Năm 2025"],
        ["II. PHÁT TRIỂN DỮ LIỆU"],
        ["1. Kho dữ liệu dùng chung", "Sở TT&TT", "", "Quý IV/2024"],
    ]

    result = run_cli("import", str(sheet(tmp_path / "p.xlsx", rows)))

    assert result.code == 0, result.err
    tasks = tasks_by_code(sqlite_url)
    assert sorted(tasks) == ["I.1", "I.2", "II.1"]
    assert tasks["I.1"].title == "Phủ sóng 4G/5G toàn thành phố"
    assert tasks["II.1"].due_date == date(2024, 12, 31)


def test_task_numbers_written_with_their_group(tmp_path: Path, run_cli, sqlite_url: str) -> None:
    rows = [
        HEADER,
        ["I", "Thể chế"],
        ["I.1", "Quy chế quản lý dữ liệu", "Sở TT&TT", "Sở Tư pháp", "Năm 2024"],
        ["I.2", "Quy định chia sẻ dữ liệu", "Sở TT&TT", "", "Năm 2024"],
        ["II", "Hạ tầng"],
        ["II.1.", "Mạng truyền số liệu", "Sở TT&TT", "VNPT", 45107],  # a date that lost its format
        ["I.3", "Lạc nhóm", "Sở TT&TT", "", "Năm 2024"],
    ]
    path = sheet(tmp_path / "p.xlsx", rows)

    refused = run_cli("import", str(path))

    assert refused.code == 1
    said = "Dòng 7, cột STT “I.3”: số thứ tự thuộc nhóm I nhưng dòng nằm dưới nhóm II"
    assert said in refused.err
    assert count(sqlite_url, Task) == 0

    result = run_cli("import", str(sheet(path, rows[:-1])))

    assert result.code == 0, result.err
    assert "2 nhóm, 3 nhiệm vụ" in result.out
    tasks = tasks_by_code(sqlite_url)
    assert tasks["I.1"].title == "Quy chế quản lý dữ liệu"
    assert tasks["II.1"].due_date == date(2023, 6, 30)


def test_a_table_of_group_rows_only_is_refused(tmp_path: Path, run_cli, sqlite_url: str) -> None:
    rows = [HEADER, ["I", "Thể chế"], ["II", "Hạ tầng"]]

    result = run_cli("import", str(sheet(tmp_path / "p.xlsx", rows)))

    assert result.code == 1
    assert "Không tìm thấy nhiệm vụ nào dưới dòng tiêu đề" in result.err
    assert "chỉ thấy 2 dòng nhóm" in result.err


def test_lists_sharing_one_word_and_names_split_by_a_slash(
    tmp_path: Path, run_cli, sqlite_url: str
) -> None:
    rows = [
        HEADER,
        ["I", "Chính quyền số"],
        [1, "Cổng dữ liệu mở", "Sở TT&TT", "Các sở: Nội vụ, Tài chính, Kế hoạch và Đầu tư", 2024],
        [2, "Thư điện tử công vụ", "Sở Nội vụ/Sở TT&TT", "UBND các huyện: An Dương, An Lão", 2024],
        [3, "Hồ sơ cán bộ", "Sở Nội vụ", "UBND các quận: Hồng Bàng, Lê Chân; Sở Tư pháp", 2024],
    ]

    result = run_cli("import", str(sheet(tmp_path / "p.xlsx", rows)))

    assert result.code == 0, result.err
    assert "đơn vị mới" not in result.out
    tasks = tasks_by_code(sqlite_url)
    assert units(tasks["I.1"], "cooperating") == [
        "Sở Nội vụ",
        "Sở Tài chính",
        "Sở Kế hoạch và Đầu tư",
    ]
    assert units(tasks["I.2"], "lead") == ["Sở Nội vụ", TTTT]
    assert units(tasks["I.2"], "cooperating") == ["UBND huyện An Dương", "UBND huyện An Lão"]
    assert units(tasks["I.3"], "cooperating") == [
        "UBND quận Hồng Bàng",
        "UBND quận Lê Chân",
        "Sở Tư pháp",
    ]


def test_lettered_parts_and_a_lettered_column_row(tmp_path: Path, run_cli, sqlite_url: str) -> None:
    rows = [
        [*HEADER, "Kinh phí"],
        ["A", "B", "1", "2", "3", "4"],
        ["PHẦN A. NHIỆM VỤ CHUNG"],
        ["I. Hoàn thiện thể chế"],
        [1, "Quy chế", "Sở Tư pháp", "", "Năm 2024", 100],
        ["B. NHIỆM VỤ CỤ THỂ"],
        ["II. Hạ tầng số"],
        [1, "Mạng 5G", "Sở TT&TT", "", "Năm 2025"],
    ]
    merges = ("A3:F3", "A4:F4", "A6:F6", "A7:F7")

    result = run_cli("import", str(sheet(tmp_path / "p.xlsx", rows, merges)))

    assert result.code == 0, result.err
    plan = exported(run_cli, tmp_path)
    assert sorted(plan) == ["I.1", "II.1"]
    assert plan["II.1"]["group_name"] == "Hạ tầng số"


def test_a_task_written_over_two_merged_rows(tmp_path: Path, run_cli, sqlite_url: str) -> None:
    rows = [
        HEADER,
        ["I", "Dữ liệu"],
        [1, "Xây dựng CSDL chuyên ngành", "Sở Y tế", "Sở TT&TT", "Năm 2024"],
        [None, None, None, "Sở Nội vụ", None],
        [2, "CSDL giáo dục", "Sở GD&ĐT", "", "Năm 2024"],
    ]
    merges = ("A3:A4", "B3:B4", "C3:C4", "E3:E4")

    result = run_cli("import", str(sheet(tmp_path / "p.xlsx", rows, merges)))

    assert result.code == 0, result.err
    tasks = tasks_by_code(sqlite_url)
    assert sorted(tasks) == ["I.1", "I.2"]
    assert tasks["I.1"].title == "Xây dựng CSDL chuyên ngành"
    assert units(tasks["I.1"], "cooperating") == [TTTT, "Sở Nội vụ"]
