"""The standing agency follows the programme and the year's plan side by side, through the CLI.

Both appendices number their tasks from I.1: each import changes its own plan only, the
decision comes from the title rows, and the exports say which plan each task belongs to.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from bot.commands.demo import summary_text
from storage.models import AuditLog, Plan, Task
from storage.samples.builder import AppendixGroup, AppendixTask, Layout, write_appendix
from tests.plan_factory import small_plan
from tests.test_import import count, db_rows

T = AppendixTask
PROGRAMME = Layout(
    titles=(
        "PHỤ LỤC",
        "CHƯƠNG TRÌNH HÀNH ĐỘNG CHUYỂN ĐỔI SỐ THÀNH PHỐ GIAI ĐOẠN 2022-2025",
        "(Kèm theo Quyết định số 284/QĐ-UBND ngày 24/01/2022 của UBND thành phố)",
    )
)
YEARLY_NAME = "Kế hoạch chuyển đổi số năm 2023"


def yearly_layout(decision: str = "45/KH-UBND ngày 20/02/2023") -> Layout:
    return Layout(
        titles=(
            "PHỤ LỤC",
            "KẾ HOẠCH CHUYỂN ĐỔI SỐ NĂM 2023",
            f"(Kèm theo Kế hoạch số {decision} của UBND thành phố)",
        )
    )


def yearly_plan(first_title: str = "Ngày chuyển đổi số 2023") -> list[AppendixGroup]:
    """The year's plan: its own tasks, numbered I.1, I.2, … like the programme's."""
    return [
        AppendixGroup(
            "I",
            "Tuyên truyền",
            [
                T(1, first_title, "Sở TT&TT", "Sở Nội vụ", "Tháng 10/2023"),
                T(2, "Cuộc thi tìm hiểu chuyển đổi số", "Sở TT&TT", "", "Quý III/2023"),
                T(3, "Sổ tay chuyển đổi số", "Sở TT&TT", "", "Năm 2023"),
            ],
        ),
        AppendixGroup(
            "II",
            "Chính quyền số",
            [
                T(1, "Nâng cấp cổng dịch vụ công", "VP UBND TP", "Sở TT&TT", "Năm 2023"),
                T(2, "Ký số cho cán bộ", "Sở Nội vụ", "", "Năm 2023"),
            ],
        ),
    ]


def exported(run_cli, env: dict[str, str], folder: Path, *args: str) -> list[dict[str, Any]]:
    out = folder / "out.json"
    result = run_cli("export", str(out), *args, env=env)
    assert result.code == 0, result.err
    return list(json.loads(out.read_text(encoding="utf-8")))


def by_plan(records: list[dict[str, Any]], short: str) -> dict[str, dict[str, Any]]:
    return {r["code"]: r for r in records if r["plan_short"] == short}


def plans_in(url: str) -> dict[str, Plan]:
    return {plan.short_name: plan for (plan,) in db_rows(url, select(Plan))}


def test_the_programme_and_a_yearly_plan_live_side_by_side(
    tmp_path: Path, run_cli, db_url: str
) -> None:
    env = {"DATABASE_URL": db_url}
    programme = write_appendix(tmp_path / "ct284.xlsx", small_plan(), PROGRAMME)
    yearly = write_appendix(tmp_path / "kh2023.xlsx", yearly_plan(), yearly_layout())

    first = run_cli("import", str(programme), env=env)
    assert first.code == 0, first.err
    assert "Kế hoạch: CT 284 — Chương trình hành động chuyển đổi số" in first.out
    assert "(mới tạo)" in first.out and "số 284/QĐ-UBND ngày 24/01/2022" in first.out

    # One plan is there, but this file cites another document: it is another plan, not a new
    # version of the programme (it would overwrite I.1–I.3), so nothing changes.
    guessed = run_cli("import", str(yearly), env=env)
    assert guessed.code == 1 and "số 45/KH-UBND ngày 20/02/2023, khác với" in guessed.err
    assert "--plan TÊN_MỚI" in guessed.err and count(db_url, Task) == 6

    dry = run_cli("import", str(yearly), "--plan", YEARLY_NAME, "--dry-run", env=env)
    assert dry.code == 0, dry.err
    assert "KH 2023 — Kế hoạch chuyển đổi số năm 2023 (sẽ tạo mới)" in dry.out
    assert set(plans_in(db_url)) == {"CT 284"}

    second = run_cli("import", str(yearly), "--plan", YEARLY_NAME, env=env)
    assert second.code == 0, second.err
    assert "Thêm mới: 5" in second.out and "số 45/KH-UBND ngày 20/02/2023" in second.out
    plans = plans_in(db_url)
    assert plans["KH 2023"].decision == "45/KH-UBND ngày 20/02/2023"
    assert plans["KH 2023"].period == "2023" and plans["CT 284"].period == "2022-2025"
    assert plans["CT 284"].decision == "284/QĐ-UBND ngày 24/01/2022"

    before = exported(run_cli, env, tmp_path)
    assert len(before) == 11 and {r["plan"] for r in before} == {plans["CT 284"].name, YEARLY_NAME}
    assert by_plan(before, "CT 284")["I.1"]["title"] == "Tuyên truyền chuyển đổi số"
    assert by_plan(before, "KH 2023")["I.1"]["title"] == "Ngày chuyển đổi số 2023"

    # Several plans now: without --plan the import asks which, and lists them.
    refused = run_cli("import", str(programme), env=env)
    assert refused.code == 1
    assert "2 kế hoạch" in refused.err and "--plan" in refused.err
    assert "CT 284: Chương trình" in refused.err and f"KH 2023: {YEARLY_NAME}" in refused.err

    # The programme's corrected appendix changes the programme only.
    changed = small_plan()
    changed[0].tasks[0].deadline = "Quý II/2028"
    fixed = write_appendix(tmp_path / "ct284_v2.xlsx", changed, PROGRAMME)
    again = run_cli("import", str(fixed), "--plan", "CT284", env=env)
    assert again.code == 0, again.err
    assert "cập nhật: 1" in again.out and "Kế hoạch: CT 284" in again.out
    after = exported(run_cli, env, tmp_path)
    assert by_plan(after, "KH 2023") == by_plan(before, "KH 2023")
    assert by_plan(after, "CT 284")["I.1"]["due_date"] == "2028-06-30"

    # The year's plan: the half-plan guard counts its own tasks only …
    shrunk = write_appendix(tmp_path / "kh_half.xlsx", yearly_plan()[1:], yearly_layout())
    half = run_cli("import", str(shrunk), "--plan", "kh 2023", env=env)
    assert half.code == 1 and "3/5" in half.err
    # … and its corrected appendix, stating another decision, changes it alone.
    corrected = write_appendix(
        tmp_path / "kh2023_v2.xlsx",
        yearly_plan("Ngày hội chuyển đổi số 2023"),
        yearly_layout("46/KH-UBND ngày 01/03/2023"),
    )
    third = run_cli("import", str(corrected), "--plan", "Kế hoạch chuyển đổi số năm 2023", env=env)
    assert third.code == 0, third.err
    assert "cập nhật: 1" in third.out
    assert "46/KH-UBND ngày 01/03/2023, khác với văn bản đã ghi" in third.out
    assert plans_in(db_url)["KH 2023"].decision == "45/KH-UBND ngày 20/02/2023"
    last = exported(run_cli, env, tmp_path)
    assert by_plan(last, "CT 284") == by_plan(after, "CT 284")
    assert by_plan(last, "KH 2023")["I.1"]["title"] == "Ngày hội chuyển đổi số 2023"

    only = exported(run_cli, env, tmp_path, "--plan", "KH 2023")
    assert [r["code"] for r in only] == ["I.1", "I.2", "I.3", "II.1", "II.2"]
    assert {(r["plan"], r["plan_short"]) for r in only} == {(YEARLY_NAME, "KH 2023")}

    listed = run_cli("plans", "list", env=env)
    assert listed.code == 0, listed.err
    assert "Các kế hoạch (2):" in listed.out
    assert "CT 284 — Chương trình" in listed.out and "6 nhiệm vụ · hoàn thành 0/6" in listed.out
    assert "KH 2023 — Kế hoạch chuyển đổi số năm 2023 · số 45/KH-UBND" in listed.out


def test_a_plan_is_renamed_closed_and_reopened_and_each_change_audited(
    tmp_path: Path, run_cli, sqlite_url: str
) -> None:
    programme = write_appendix(tmp_path / "ct284.xlsx", small_plan(), PROGRAMME)
    yearly = write_appendix(tmp_path / "kh.xlsx", yearly_plan(), yearly_layout())
    assert run_cli("import", str(programme)).code == 0
    assert run_cli("import", str(yearly), "--plan", "KH 2023").code == 0

    taken = run_cli("plans", "rename", "KH 2023", "--name", "Năm 2023", "--short", "ct284")
    assert taken.code == 1 and "đã là tên của kế hoạch" in taken.err
    renamed = run_cli("plans", "rename", "kh2023", "--name", YEARLY_NAME, "--short", "KH23")
    assert renamed.code == 0, renamed.err
    assert f"KH23 — {YEARLY_NAME}" in renamed.out

    closed = run_cli("plans", "close", "KH23")
    assert closed.code == 0 and "Đã đóng kế hoạch KH23" in closed.out
    assert "đã đóng ngày" in run_cli("plans", "list").out
    assert {r["plan_short"] for r in exported(run_cli, {}, tmp_path)} == {"CT 284"}
    kept = exported(run_cli, {}, tmp_path, "--plan", "KH23")
    assert len(kept) == 5 and {r["plan_short"] for r in kept} == {"KH23"}
    assert "không thay đổi gì" in run_cli("plans", "close", "KH23").out
    unknown = run_cli("plans", "close", "KH 2099")
    assert unknown.code == 1 and "Không có kế hoạch “KH 2099”" in unknown.err
    assert "CT 284" in unknown.err

    assert run_cli("plans", "open", "KH23").code == 0
    assert {r["plan_short"] for r in exported(run_cli, {}, tmp_path)} == {"CT 284", "KH23"}
    book = tmp_path / "tien_do.xlsx"
    assert run_cli("export", str(book)).code == 0
    assert load_workbook(book).sheetnames == ["CT 284", "KH23", "Báo cáo"]

    audits = db_rows(
        sqlite_url,
        select(AuditLog.action, AuditLog.details)
        .where(AuditLog.entity == "plan")
        .order_by(AuditLog.id),
    )
    assert [action for action, _ in audits] == [
        "plan.created",
        "plan.created",
        "plan.renamed",
        "plan.closed",
        "plan.opened",
    ]
    assert audits[2][1] == {"name": ["KH 2023", YEARLY_NAME], "short_name": ["KH 2023", "KH23"]}


def test_the_summary_counts_each_plan_and_the_total(tmp_path: Path, run_cli) -> None:
    assert run_cli("import", str(write_appendix(tmp_path / "a.xlsx", small_plan(), PROGRAMME)))
    yearly = write_appendix(tmp_path / "b.xlsx", yearly_plan(), yearly_layout())
    assert run_cli("import", str(yearly), "--plan", YEARLY_NAME).code == 0
    records = exported(run_cli, {}, tmp_path)

    text = summary_text(records, "25/11/2026")

    assert text.startswith("Tình hình thực hiện đến ngày 25/11/2026: 11 nhiệm vụ")
    assert "Theo kế hoạch (2 kế hoạch):" in text
    assert "  CT 284 — Chương trình hành động" in text
    assert f"  KH 2023 — {YEARLY_NAME}: 5 nhiệm vụ; đã hoàn thành 0 (0,0%)" in text
    assert "  KH 2023 · 2. Chính quyền số: 2" in text
    one_plan = summary_text(by_plan_records(records, "CT 284"), "25/11/2026")
    assert "Theo kế hoạch" not in one_plan and "  1. Công tác tuyên truyền" in one_plan


def by_plan_records(records: list[dict[str, Any]], short: str) -> list[dict[str, Any]]:
    return [r for r in records if r["plan_short"] == short]


def test_no_plan_yet_names_it_from_the_file(tmp_path: Path, run_cli, sqlite_url: str) -> None:
    untitled = Layout(titles=("PHỤ LỤC",))
    path = write_appendix(tmp_path / "ke_hoach_quan_le_chan.xlsx", small_plan(), untitled)

    result = run_cli("import", str(path))

    assert result.code == 0, result.err
    assert "Kế hoạch: KH 1 — Ke hoach quan le chan (mới tạo)" in result.out
    assert "Văn bản ban hành" not in result.out
    assert run_cli("import", str(path)).out.count("Không có thay đổi") == 1
