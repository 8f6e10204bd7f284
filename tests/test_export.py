"""The standing agency exports the plan with its progress, for a meeting or another tool."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import update

from storage.db import create_engine, session_factory, session_scope
from storage.models import Task
from storage.samples.builder import AppendixGroup, AppendixTask, write_appendix

T = AppendixTask
FIELDS = [
    "code",
    "group",
    "group_name",
    "title",
    "lead_unit",
    "cooperating_units",
    "deadline_text",
    "due_date",
    "ongoing",
    "status",
    "percent",
    "last_report_at",
    "plan",
    "plan_short",
]
KEYS = set(FIELDS)


def plan() -> list[AppendixGroup]:
    return [
        AppendixGroup(
            "I",
            "Công tác tuyên truyền, nâng cao nhận thức",
            [
                T(
                    1,
                    '=HYPERLINK("http://x";"bấm")',
                    "Sở TT&TT",
                    "Sở Nội vụ; Báo Hải Phòng",
                    "Quý IV/2022",
                    "+ sản phẩm",
                ),
                T(2, "Hội nghị hằng năm", "Sở TT&TT; Sở Nội vụ", "", "Hằng năm", "@ghi"),
            ],
        ),
        AppendixGroup(
            "VII",
            "Phát triển chính quyền số",
            [
                T(1, "Dịch vụ công trực tuyến", "VP UBND TP", "", "Năm 2099", "-1"),
            ],
        ),
    ]


def record_progress(url: str, code: str, status: str, percent: int, when: datetime) -> None:
    async def run() -> None:
        engine = create_engine(url)
        try:
            async with session_scope(session_factory(engine)) as session:
                await session.execute(
                    update(Task)
                    .where(Task.code == code)
                    .values(status=status, percent=percent, last_report_at=when)
                )
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_json_export_has_exactly_the_agreed_keys_and_types(
    tmp_path: Path, run_cli, db_url: str
) -> None:
    env = {"DATABASE_URL": db_url}
    assert run_cli("import", str(write_appendix(tmp_path / "p.xlsx", plan())), env=env).code == 0
    record_progress(db_url, "VII.1", "in_progress", 40, datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC))

    result = run_cli("export", str(tmp_path / "out.json"), env=env)

    assert result.code == 0, result.err
    tasks = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert [t["code"] for t in tasks] == ["I.1", "I.2", "VII.1"]
    assert all(set(t) == KEYS for t in tasks)
    first, second, third = tasks
    assert first["group"] == 1 and first["group_name"].startswith("Công tác tuyên truyền")
    assert first["lead_unit"] == "Sở Thông tin và Truyền thông"
    assert first["cooperating_units"] == ["Sở Nội vụ", "Báo Hải Phòng"]
    assert first["due_date"] == "2022-12-31" and first["ongoing"] is False
    assert first["status"] == "not_reported"  # nobody reported, though its deadline has passed
    assert first["percent"] == 0 and first["last_report_at"] is None
    assert second["lead_unit"] == "Sở Thông tin và Truyền thông; Sở Nội vụ"
    assert second["due_date"] is None and second["ongoing"] is True
    assert second["status"] == "not_reported"
    assert third["group"] == 7 and third["status"] == "in_progress" and third["percent"] == 40
    assert third["last_report_at"] == "2026-11-02T10:04:05+07:00"
    assert datetime.fromisoformat(third["last_report_at"]).utcoffset() is not None
    for task in tasks:
        assert isinstance(task["percent"], int) and isinstance(task["ongoing"], bool)
        assert task["due_date"] is None or date.fromisoformat(task["due_date"])


def test_csv_export_opens_in_excel_and_runs_no_formula(tmp_path: Path, run_cli) -> None:
    assert run_cli("import", str(write_appendix(tmp_path / "p.xlsx", plan()))).code == 0

    assert run_cli("export", str(tmp_path / "out.csv")).code == 0

    raw = (tmp_path / "out.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(FIELDS)
    assert "'=HYPERLINK" in text
    assert not re.search(r"(^|,)\"?=", text, re.MULTILINE)


def test_xlsx_export_keeps_the_appendix_layout_and_is_inert(tmp_path: Path, run_cli) -> None:
    assert run_cli("import", str(write_appendix(tmp_path / "p.xlsx", plan()))).code == 0

    result = run_cli("export", str(tmp_path / "tien_do.xlsx"))

    assert result.code == 0
    sheet = load_workbook(tmp_path / "tien_do.xlsx").active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[1][:3] == ["STT", "Nhiệm vụ", "Cơ quan chủ trì"]
    assert "Trạng thái" in rows[1] and "Tiến độ (%)" in rows[1]
    assert rows[2][:2] == ["I", "Công tác tuyên truyền, nâng cao nhận thức"]
    task_row = next(row for row in sheet.iter_rows() if row[0].value == "1")
    assert task_row[1].value.startswith("=HYPERLINK") and task_row[1].data_type == "s"
    assert task_row[5].value == "+ sản phẩm" and task_row[5].data_type == "s"
    assert re.fullmatch(r"Chưa báo cáo, quá hạn \d+ ngày", task_row[7].value)
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_format_follows_the_extension_or_the_flag(tmp_path: Path, run_cli) -> None:
    assert run_cli("import", str(write_appendix(tmp_path / "p.xlsx", plan()))).code == 0

    assert run_cli("export", str(tmp_path / "a.txt"), "--format", "json").code == 0
    assert run_cli("export", str(tmp_path / "b.dat")).code == 0

    assert json.loads((tmp_path / "a.txt").read_text(encoding="utf-8"))[0]["code"] == "I.1"
    assert (tmp_path / "b.dat").read_bytes().startswith(b"PK")


def test_an_unwritable_path_is_a_message(tmp_path: Path, run_cli) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")

    result = run_cli("export", str(blocker / "out.json"))

    assert result.code == 1
    assert "Không ghi được tệp" in result.err and "Traceback" not in result.err
