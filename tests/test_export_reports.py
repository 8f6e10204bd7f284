"""The committee reads every report, difficulties and proposals included, from the export."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

from openpyxl import load_workbook

from handlers.dispatcher import Dispatcher
from storage.db import create_engine, session_factory
from tests.plan_factory import NOW, Officer, config, load_plan, make_invite, pdf_file

REPORT_KEYS = [
    "id",
    "task_code",
    "unit",
    "person",
    "created_at",
    "kind",
    "status",
    "percent",
    "results",
    "difficulties",
    "proposals",
    "evidence_files",
    "version",
    "plan",
    "plan_short",
]


def reports_filed(url: str, folder: Path) -> None:
    """Sở TT&TT reports on VII.3 with a file; Công an TP adds a contribution."""

    async def run() -> None:
        engine = create_engine(url)
        sessions = session_factory(engine)
        await load_plan(sessions, folder)
        lead = Officer(Dispatcher(sessions, config(folder / "data"), clock=lambda: NOW), "9001")
        await lead.command(f"/start {await make_invite(sessions, 'Sở TT&TT')}")
        await lead.command("/baocao VII.3")
        await lead.say("vướng")
        await lead.say("35")
        await lead.say("=1+1 đã lắp đặt")
        await lead.say("Chậm giải ngân vốn")
        await lead.say("Đề nghị tạm ứng")
        await lead.upload(pdf_file("hop_dong.pdf"))
        await lead.press("Xong")
        await lead.press("Gửi")
        police = Officer(lead.dispatcher, "9002", name="Trần Thị Bình")
        await police.command(f"/start {await make_invite(sessions, 'Công an TP')}")
        await police.command("/baocao VII.3")
        await police.say("Đã kết nối camera")
        for _ in range(3):
            await police.press("Bỏ qua")
        await police.press("Gửi")
        await engine.dispose()

    asyncio.run(run())


def test_xlsx_has_a_sheet_of_every_report(tmp_path: Path, run_cli, db_url: str) -> None:
    reports_filed(db_url, tmp_path)

    result = run_cli("export", str(tmp_path / "tien_do.xlsx"), env={"DATABASE_URL": db_url})

    assert result.code == 0, result.err
    assert "6 nhiệm vụ và 2 báo cáo" in result.out
    book = load_workbook(tmp_path / "tien_do.xlsx")
    assert book.sheetnames == ["Tiến độ", "Báo cáo"]
    rows = [[cell.value for cell in row] for row in book["Báo cáo"].iter_rows(min_row=2)]
    assert rows[0] == [
        "Số",
        "Mã nhiệm vụ",
        "Đơn vị",
        "Người báo cáo",
        "Thời gian",
        "Loại",
        "Trạng thái",
        "Tiến độ (%)",
        "Kết quả thực hiện",
        "Khó khăn, vướng mắc",
        "Đề xuất, kiến nghị",
        "Tệp minh chứng",
    ]
    report, contribution = rows[1], rows[2]
    assert report[1:8] == [
        "VII.3",
        "Sở Thông tin và Truyền thông",
        "Nguyễn Văn An",
        "25/11/2026 09:00",  # 02:00 UTC, in the city's time
        "Báo cáo",
        "Gặp vướng mắc",
        35,
    ]
    assert report[8:] == [
        "=1+1 đã lắp đặt",
        "Chậm giải ngân vốn",
        "Đề nghị tạm ứng",
        "hop_dong.pdf",
    ]
    assert contribution[2:8] == [
        "Công an thành phố",
        "Trần Thị Bình",
        "25/11/2026 09:00",
        "Phối hợp",
        None,  # a contribution has no status and no percent
        None,
    ]
    sheet = book["Báo cáo"]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_json_and_csv_give_the_reports_as_a_list(tmp_path: Path, run_cli, db_url: str) -> None:
    reports_filed(db_url, tmp_path)
    env = {"DATABASE_URL": db_url}

    result = run_cli("export", str(tmp_path / "bao_cao.json"), "--reports", env=env)

    assert result.code == 0, result.err
    assert "Đã xuất 2 báo cáo" in result.out
    reports = json.loads((tmp_path / "bao_cao.json").read_text(encoding="utf-8"))
    assert [list(report) for report in reports] == [REPORT_KEYS, REPORT_KEYS]
    first = reports[0]
    assert (first["kind"], first["status"], first["percent"], first["version"]) == (
        "report",
        "blocked",
        35,
        1,
    )
    assert first["created_at"] == "2026-11-25T09:00:00+07:00"
    assert first["evidence_files"] == ["hop_dong.pdf"] and first["results"] == "=1+1 đã lắp đặt"
    assert reports[1]["kind"] == "contribution" and reports[1]["version"] == 2

    assert run_cli("export", str(tmp_path / "bao_cao.csv"), "--reports", env=env).code == 0
    text = (tmp_path / "bao_cao.csv").read_text(encoding="utf-8-sig")
    table = list(csv.DictReader(io.StringIO(text)))
    assert list(table[0]) == REPORT_KEYS
    assert (
        table[0]["results"] == "'=1+1 đã lắp đặt" and table[0]["evidence_files"] == "hop_dong.pdf"
    )


def test_a_file_named_for_another_format_is_refused(tmp_path: Path, run_cli) -> None:
    result = run_cli("export", str(tmp_path / "tien_do.xlsx"), "--format", "json")

    assert result.code == 1
    assert "đuôi .xlsx nhưng --format là json" in result.err and "Traceback" not in result.err
    assert not (tmp_path / "tien_do.xlsx").exists()
    assert run_cli("export", str(tmp_path / "tien_do.csv"), "--format", "xlsx").code == 1
    assert run_cli("export", str(tmp_path / "tien_do.JSON"), "--format", "json").code == 0
