"""An admin imports plans whose unit cells hold dashes and commas, a district's own units,
and slips of the pen: names are never cut, new units come in knowingly, typos never do."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.models import AuditLog, Task, Unit, UnitAlias
from storage.samples.builder import AppendixGroup, AppendixTask, write_appendix
from tests.plan_factory import district_plan
from tests.test_import import count, db_rows, tasks_by_code

T = AppendixTask

DISTRICT_UNITS = {
    "Phòng Văn hoá - Thông tin",
    "Trung tâm Văn hoá, Thông tin và Thể thao huyện",
    "Phòng Nội vụ",
    "Phòng Giáo dục và Đào tạo",
    "Văn phòng HĐND và UBND huyện",
    "Phòng Tài nguyên và Môi trường",
    "Phòng Tài chính - Kế hoạch",
    "UBND xã An Thái",
    "UBND xã An Thắng",
    "Phòng Lao động - Thương binh và Xã hội",
    "Công an huyện",
}


def unit_names(url: str) -> set[str]:
    return {name for (name,) in db_rows(url, select(Unit.name))}


def units_of(task: Task, role: str) -> list[str]:
    return [tu.unit.name for tu in task.units if tu.role == role]


def test_dashed_and_comma_names_are_never_cut(tmp_path: Path, run_cli, db_url: str) -> None:
    plan = [
        AppendixGroup(
            "VI",
            "Phát triển nguồn nhân lực",
            [
                T(1, "Đào tạo nghề số", "Sở Lao động - Thương binh và Xã hội", "Sở Nội vụ"),
                T(2, "Kỹ năng số", "Sở Lao động – Thương binh và Xã hội, Sở Y tế", ""),
                T(3, "Phổ cập", "Sở LĐ-TB&XH", "UBND các xã, thị trấn; Các sở, ban, ngành"),
                T(4, "Học liệu", "Sở Lao động, Thương binh và Xã hội", "Sở Văn hóa, Thể thao"),
            ],
        )
    ]
    path = write_appendix(tmp_path / "nhan_luc.xlsx", plan)

    result = run_cli("import", str(path), env={"DATABASE_URL": db_url})

    assert result.code == 0, result.err
    tasks = tasks_by_code(db_url)
    labour = "Sở Lao động - Thương binh và Xã hội"
    assert [tasks[f"VI.{n}"].lead_unit.name for n in (1, 2, 3, 4)] == [labour] * 4
    assert units_of(tasks["VI.2"], "lead") == [labour, "Sở Y tế"]
    assert units_of(tasks["VI.3"], "cooperating") == [
        "UBND các xã, phường, thị trấn",
        "Các sở, ban, ngành",
    ]
    assert units_of(tasks["VI.4"], "cooperating") == ["Sở Văn hóa và Thể thao"]


def test_a_district_plan_lists_its_new_units_then_imports_them_with_add_units(
    tmp_path: Path, run_cli, db_url: str
) -> None:
    env = {"DATABASE_URL": db_url}
    path = write_appendix(tmp_path / "huyen.xlsx", district_plan())

    refused = run_cli("import", str(path), env=env)

    assert refused.code == 1
    assert "11 đơn vị chưa có trong danh mục" in refused.err and "--add-units" in refused.err
    assert "units add" not in refused.err and "Traceback" not in refused.err
    assert count(db_url, Task) == 0 and not DISTRICT_UNITS & unit_names(db_url)

    dry = run_cli("import", str(path), "--dry-run", env=env)

    assert dry.code == 0, dry.err
    assert "Đơn vị chưa có trong danh mục (11)" in dry.out and "+ II.5" in dry.out
    lines = dry.out.splitlines()
    environment = next(line for line in lines if "+ Phòng Tài nguyên và Môi trường" in line)
    assert "(cùng một đơn vị: Phòng TN&MT)" in environment and "dòng 9, 11, 12" in environment
    office = next(line for line in lines if "+ Văn phòng HĐND và UBND huyện" in line)
    assert "VP HĐND-UBND huyện" in office
    culture = next(line for line in lines if "+ Phòng Văn hoá - Thông tin" in line)
    assert "Phòng Văn hóa và Thông tin" in culture
    centre = next(line for line in lines if "+ Trung tâm Văn hoá, Thông tin" in line)
    assert "Trung tâm VH-TT&TT huyện" in centre
    assert count(db_url, Task) == 0 and not DISTRICT_UNITS & unit_names(db_url)

    added = run_cli("import", str(path), "--add-units", env=env)

    assert added.code == 0, added.err
    assert "Đã thêm 11 đơn vị mới vào danh mục" in added.out
    assert unit_names(db_url) >= DISTRICT_UNITS
    audited = db_rows(db_url, select(AuditLog.details).where(AuditLog.action == "unit.created"))
    assert {details["name"] for (details,) in audited} == DISTRICT_UNITS
    tasks = tasks_by_code(db_url)
    assert tasks["I.1"].lead_unit.name == tasks["I.2"].lead_unit.name == "Phòng Văn hoá - Thông tin"
    assert tasks["I.3"].lead_unit.name == tasks["II.1"].lead_unit.name
    assert tasks["II.1"].lead_unit.name == "Văn phòng HĐND và UBND huyện"
    assert units_of(tasks["I.1"], "cooperating") == [
        "Trung tâm Văn hoá, Thông tin và Thể thao huyện",
        "UBND các xã, phường, thị trấn",
    ]
    assert units_of(tasks["II.1"], "cooperating") == [
        "Phòng Tài chính - Kế hoạch",
        "Phòng Tài nguyên và Môi trường",
    ]
    assert units_of(tasks["II.3"], "cooperating") == [
        "Sở Thông tin và Truyền thông",
        "Phòng Lao động - Thương binh và Xã hội",
    ]
    assert units_of(tasks["II.4"], "cooperating") == ["Các phòng, ban chuyên môn"]
    assert tasks["II.5"].lead_unit.name == "UBND xã An Thái"

    again = run_cli("import", str(path), env=env)

    assert again.code == 0, again.err
    assert "Không có thay đổi" in again.out
    listing = run_cli("units", "list", env=env)
    assert "Phòng Tài chính - Kế hoạch" in listing.out


def test_a_typo_or_a_cut_name_is_refused_even_with_add_units(
    tmp_path: Path, run_cli, db_url: str
) -> None:
    env = {"DATABASE_URL": db_url}
    plan = district_plan()
    plan[0].tasks[0].coop = "Sở Thông tin và Truyền thôg"
    plan[1].tasks[2].coop = "Sở Lao động; Thương binh và Xã hội"
    plan[1].tasks[3].lead = "Sở Tài chín"
    path = write_appendix(tmp_path / "go_nham.xlsx", plan)
    before = unit_names(db_url)

    result = run_cli("import", str(path), "--add-units", env=env)

    assert result.code == 1
    assert "có 4 lỗi" in result.err and "units add" not in result.err
    lines = result.err.splitlines()
    typo = next(line for line in lines if "“Sở Thông tin và Truyền thôg”" in line)
    assert "Dòng 7, cột Cơ quan phối hợp" in typo and "Sở Thông tin và Truyền thông" in typo
    assert any("“Sở Tài chín”" in line and "có phải là: Sở Tài chính" in line for line in lines)
    cut = [line for line in lines if "chỉ là một phần của tên đơn vị" in line]
    assert len(cut) == 2 and all("Sở Lao động - Thương binh và Xã hội" in line for line in cut)
    # The district's genuinely new units are still listed apart, and nothing was stored.
    assert "Đơn vị chưa có trong danh mục" in result.err
    assert unit_names(db_url) == before and count(db_url, Task) == 0


def test_units_add_of_a_whole_dashed_name_stops_the_cut_and_a_fragment_is_refused(
    tmp_path: Path, run_cli, sqlite_url: str
) -> None:
    fragment = run_cli("units", "add", "Sở Lao động")
    assert fragment.code == 1
    assert "chỉ là một phần của tên đơn vị “Sở Lao động - Thương binh và Xã hội”" in fragment.err

    added = run_cli("units", "add", "Phòng Kinh tế - Hạ tầng", "--kind", "other")
    assert added.code == 0, added.err
    plan = [
        AppendixGroup(
            "III",
            "Phát triển hạ tầng số",
            [
                T(
                    1,
                    "Hạ tầng đô thị thông minh",
                    "Phòng Kinh tế - Hạ tầng; Sở Xây dựng",
                    "Phòng KT-HT",
                )
            ],
        )
    ]

    result = run_cli("import", str(write_appendix(tmp_path / "ht.xlsx", plan)))

    assert result.code == 0, result.err
    task = tasks_by_code(sqlite_url)["III.1"]
    assert units_of(task, "lead") == ["Phòng Kinh tế - Hạ tầng", "Sở Xây dựng"]
    keys = {key for (key,) in db_rows(sqlite_url, select(UnitAlias.key))}
    assert "phongktht" in keys  # the abbreviation came with the name
