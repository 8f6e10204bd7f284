"""Exporting the plan with its progress: JSON and CSV records, and .xlsx in the appendix layout.

Text that a spreadsheet would run as a formula (starting with =, +, -, @, tab or CR) is written
inert: as an explicit string cell in .xlsx, behind a leading apostrophe in CSV.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.styles import Alignment, Font
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.appendix import TO_ROMAN
from storage.models import Task, TaskGroup
from storage.status import effective_status

FIELDS = (
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
)
FORMATS = ("xlsx", "json", "csv")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# The city office's wording of each status; the bot's message catalogs hold the same words.
STATUS_LABELS = {
    "not_started": "Chưa triển khai",
    "in_progress": "Đang thực hiện, trong hạn",
    "overdue": "Đang thực hiện, đã quá hạn",
    "done_on_time": "Hoàn thành đúng hạn",
    "done_late": "Hoàn thành nhưng quá hạn",
    "done": "Hoàn thành (nhiệm vụ không có hạn)",
    "blocked": "Gặp vướng mắc",
    "extension_requested": "Đề nghị điều chỉnh, gia hạn",
    "paused": "Tạm dừng",
}


@dataclass(frozen=True)
class ExportRow:
    """One task as exported, plus what only the .xlsx layout needs."""

    record: dict[str, Any]
    number: str
    expected_output: str
    notes: str
    last_report_local: datetime | None


async def export_rows(
    sessions: async_sessionmaker[AsyncSession], tz: ZoneInfo, today: date
) -> list[ExportRow]:
    """Every active task in plan order, with its effective status on `today`."""
    async with sessions() as session:
        tasks = (
            await session.scalars(
                select(Task)
                .join(TaskGroup)
                .where(Task.active.is_(True))
                .order_by(TaskGroup.number, Task.position)
            )
        ).all()
        return [_row(task, tz, today) for task in tasks]


async def export_tasks(
    sessions: async_sessionmaker[AsyncSession], tz: ZoneInfo, today: date
) -> list[dict[str, Any]]:
    """The JSON records: a list of task objects with exactly the keys of FIELDS."""
    return [row.record for row in await export_rows(sessions, tz, today)]


def _row(task: Task, tz: ZoneInfo, today: date) -> ExportRow:
    leads = [tu.unit.name for tu in task.units if tu.role == "lead"] or [task.lead_unit.name]
    local = task.last_report_at.astimezone(tz) if task.last_report_at else None
    record = {
        "code": task.code,
        "group": task.group.number,
        "group_name": task.group.name,
        "title": task.title,
        "lead_unit": "; ".join(leads),
        "cooperating_units": [tu.unit.name for tu in task.units if tu.role == "cooperating"],
        "deadline_text": task.deadline_text,
        "due_date": task.due_date.isoformat() if task.due_date else None,
        "ongoing": task.ongoing,
        "status": effective_status(task.status, task.due_date, task.ongoing, today).value,
        "percent": int(task.percent),
        "last_report_at": local.isoformat(timespec="seconds") if local else None,
    }
    return ExportRow(record, task.number, task.expected_output, task.notes, local)


def write_export(rows: list[ExportRow], path: Path, fmt: str) -> None:
    """Write `rows` to `path` in `fmt`, atomically: a reader never sees half a file."""
    content = {"json": _json_bytes, "csv": _csv_bytes, "xlsx": _xlsx_bytes}[fmt](rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _json_bytes(rows: list[ExportRow]) -> bytes:
    return json.dumps([row.record for row in rows], ensure_ascii=False, indent=2).encode("utf-8")


def inert(text: str) -> str:
    """CSV cell text that no spreadsheet runs as a formula."""
    return f"'{text}" if text.startswith(FORMULA_START) else text


def _csv_bytes(rows: list[ExportRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(FIELDS)
    for row in rows:
        values = dict(row.record, cooperating_units="; ".join(row.record["cooperating_units"]))
        writer.writerow([_csv_value(values[name]) for name in FIELDS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return inert(str(value)) if isinstance(value, str) else str(value)


XLSX_HEADER = (
    "STT",
    "Nhiệm vụ",
    "Cơ quan chủ trì",
    "Cơ quan phối hợp",
    "Thời gian thực hiện",
    "Sản phẩm",
    "Ghi chú",
    "Trạng thái",
    "Tiến độ (%)",
    "Báo cáo gần nhất",
)
XLSX_WIDTHS = (7, 60, 30, 36, 20, 34, 20, 28, 11, 18)


def _xlsx_bytes(rows: list[ExportRow]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Tiến độ"
    sheet.append(["PHỤ LỤC: TIẾN ĐỘ THỰC HIỆN KẾ HOẠCH"])
    sheet.append(list(XLSX_HEADER))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    sheet.freeze_panes = "A3"
    group = None
    for row in rows:
        if row.record["group"] != group:
            group = row.record["group"]
            _append(sheet, [TO_ROMAN.get(group, str(group)), row.record["group_name"]], bold=True)
        _append(sheet, _xlsx_values(row))
    for index, width in enumerate(XLSX_WIDTHS, start=1):
        sheet.column_dimensions[chr(64 + index)].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_values(row: ExportRow) -> list[Any]:
    record = row.record
    when = row.last_report_local.strftime("%d/%m/%Y %H:%M") if row.last_report_local else ""
    return [
        row.number,
        record["title"],
        record["lead_unit"],
        "; ".join(record["cooperating_units"]),
        record["deadline_text"],
        row.expected_output,
        row.notes,
        STATUS_LABELS.get(record["status"], record["status"]),
        record["percent"],
        when,
    ]


def _append(sheet: Any, values: Iterable[Any], bold: bool = False) -> None:
    sheet.append([None])
    row = sheet.max_row
    for column, value in enumerate(values, start=1):
        cell = sheet.cell(row=row, column=column)
        if isinstance(value, str):
            # Assigning the value then forcing the type keeps "=…" as text, never a formula.
            cell.value = value
            cell.data_type = TYPE_STRING
        else:
            cell.value = value
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if bold:
            cell.font = Font(bold=True)
