"""Exporting the plans with their progress: JSON and CSV records, and .xlsx in the appendix
layout, a sheet per plan.

The plans exported are those asked for, or else every followed plan; each record names its
plan (`plan`, `plan_short`). The .xlsx file also holds a sheet of every report and contribution
on their tasks (the committee reads the difficulties and proposals there); JSON and CSV give
that list on request. Text that a
spreadsheet would run as a formula (starting with =, +, -, @, tab or CR) is written inert: as an
explicit string cell in .xlsx, behind a leading apostrophe in CSV.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from storage.appendix import TO_ROMAN
from storage.atomic import write_atomically
from storage.models import Plan, Report, ReportKind, Task, TaskGroup, TaskStatus
from storage.repositories import reports as report_store
from storage.repositories.tasks import pending_extensions
from storage.status import is_late, task_status

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
    "plan",
    "plan_short",
)
REPORT_FIELDS = (
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
    "extension_requested": "Đề nghị gia hạn",
    "paused": "Tạm dừng",
    "not_reported": "Chưa báo cáo",
}
KIND_LABELS = {"report": "Báo cáo", "contribution": "Phối hợp"}


@dataclass(frozen=True)
class ExportRow:
    """One task as exported, plus what only the .xlsx layout needs."""

    record: dict[str, Any]
    number: str
    expected_output: str
    notes: str
    last_report_local: datetime | None
    days_overdue: int


def _plans(plan_ids: list[int] | None) -> ColumnElement[bool]:
    """The tasks of the plans asked for, or of every followed plan when None."""
    if plan_ids is None:
        return Task.plan_id.in_(select(Plan.id).where(Plan.followed.is_(True)))
    return Task.plan_id.in_(plan_ids)


async def export_rows(
    sessions: async_sessionmaker[AsyncSession],
    tz: ZoneInfo,
    today: date,
    plan_ids: list[int] | None = None,
) -> list[ExportRow]:
    """Every active task of the plans (`plan_ids`, or every followed plan), plan by plan in
    the order plans were created, each in appendix order, with its effective status on
    `today`."""
    async with sessions() as session:
        tasks = (
            await session.scalars(
                select(Task)
                .join(TaskGroup)
                .where(Task.active.is_(True), _plans(plan_ids))
                .order_by(Task.plan_id, TaskGroup.number, Task.position)
            )
        ).all()
        pending = await pending_extensions(session)
        return [_row(task, tz, today, task.id in pending) for task in tasks]


async def export_tasks(
    sessions: async_sessionmaker[AsyncSession],
    tz: ZoneInfo,
    today: date,
    plan_ids: list[int] | None = None,
) -> list[dict[str, Any]]:
    """The JSON records: a list of task objects with exactly the keys of FIELDS."""
    return [row.record for row in await export_rows(sessions, tz, today, plan_ids)]


def _row(task: Task, tz: ZoneInfo, today: date, extension_pending: bool) -> ExportRow:
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
        "status": task_status(task, today, extension_pending=extension_pending).value,
        "percent": int(task.percent),
        "last_report_at": local.isoformat(timespec="seconds") if local else None,
        "plan": task.plan.name,
        "plan_short": task.plan.short_name,
    }
    late = (today - task.due_date).days if task.due_date and is_late(task, today) else 0
    return ExportRow(record, task.number, task.expected_output, task.notes, local, late)


async def export_reports(
    sessions: async_sessionmaker[AsyncSession], tz: ZoneInfo, plan_ids: list[int] | None = None
) -> list[dict[str, Any]]:
    """Every report and contribution on the tasks of the plans (`plan_ids`, or every followed
    plan), oldest first, with exactly the keys of REPORT_FIELDS."""
    async with sessions() as session:
        found = await report_store.every_report(session, _plans(plan_ids))
        return [_report_record(report, tz) for report in found]


def _report_record(report: Report, tz: ZoneInfo) -> dict[str, Any]:
    contribution = report.kind == ReportKind.CONTRIBUTION
    return {
        "id": report.id,
        "task_code": report.task.code,
        "unit": report.unit.name,
        "person": report.person.full_name,
        "created_at": report.created_at.astimezone(tz).isoformat(timespec="seconds"),
        "kind": report.kind,
        "status": None if contribution else report.status,
        "percent": None if contribution else int(report.percent),
        "results": report.results,
        "difficulties": report.difficulties,
        "proposals": report.proposals,
        "evidence_files": [evidence.file_name for evidence in report.files],
        "version": report.version,
        "plan": report.task.plan.name,
        "plan_short": report.task.plan.short_name,
    }


def write_export(
    rows: list[ExportRow], path: Path, fmt: str, reports: list[dict[str, Any]] | None = None
) -> None:
    """Write `rows` to `path` in `fmt` (.xlsx with a sheet of `reports`), atomically."""
    if fmt == "xlsx":
        write_atomically(path, _xlsx_bytes(rows, reports or []))
    else:
        records = [row.record for row in rows]
        write_atomically(path, _records_bytes(records, FIELDS, fmt))


def write_reports(reports: list[dict[str, Any]], path: Path, fmt: str) -> None:
    """Write the report list to `path` as JSON or CSV, atomically."""
    write_atomically(path, _records_bytes(reports, REPORT_FIELDS, fmt))


def _records_bytes(records: list[dict[str, Any]], fields: tuple[str, ...], fmt: str) -> bytes:
    return _json_bytes(records) if fmt == "json" else _csv_bytes(records, fields)


def _json_bytes(records: list[dict[str, Any]]) -> bytes:
    return json.dumps(records, ensure_ascii=False, indent=2).encode("utf-8")


def inert(text: str) -> str:
    """CSV cell text that no spreadsheet runs as a formula."""
    return f"'{text}" if text.startswith(FORMULA_START) else text


def _csv_bytes(records: list[dict[str, Any]], fields: tuple[str, ...]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(fields)
    for record in records:
        writer.writerow([_csv_value(record[name]) for name in fields])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return inert("; ".join(str(item) for item in value))
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


REPORT_HEADER = (
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
)
REPORT_WIDTHS = (7, 11, 30, 24, 17, 11, 26, 11, 50, 40, 40, 30)


def _xlsx_bytes(rows: list[ExportRow], reports: list[dict[str, Any]]) -> bytes:
    workbook = Workbook()
    plans = list(dict.fromkeys((row.record["plan_short"], row.record["plan"]) for row in rows))
    if len(plans) <= 1:  # one plan: its sheet is "Tiến độ", as before plans side by side
        _plan_sheet(workbook.active, "Tiến độ", "", rows)
    else:
        for index, (short, name) in enumerate(plans):
            sheet = workbook.active if index == 0 else workbook.create_sheet()
            mine = [row for row in rows if row.record["plan_short"] == short]
            _plan_sheet(sheet, _sheet_title(short, workbook.sheetnames), name, mine)
    with_plan = len(plans) > 1
    _reports_sheet(workbook.create_sheet("Báo cáo"), reports, with_plan)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _plan_sheet(sheet: Any, title: str, plan_name: str, rows: list[ExportRow]) -> None:
    sheet.title = title
    heading = "PHỤ LỤC: TIẾN ĐỘ THỰC HIỆN KẾ HOẠCH"
    sheet.append([f"{heading}: {plan_name.upper()}" if plan_name else heading])
    _header(sheet, XLSX_HEADER, XLSX_WIDTHS)
    group = None
    for row in rows:
        if row.record["group"] != group:
            group = row.record["group"]
            _append(sheet, [TO_ROMAN.get(group, str(group)), row.record["group_name"]], bold=True)
        _append(sheet, _xlsx_values(row))


_SHEET_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


def _sheet_title(wanted: str, taken: list[str]) -> str:
    """A sheet title Excel accepts (31 characters, none of []:*?/\\), unique in the book."""
    base = " ".join(wanted.translate(_SHEET_FORBIDDEN).split())[:31] or "Kế hoạch"
    title, counter = base, 2
    while title.lower() in (name.lower() for name in taken) or title.lower() == "báo cáo":
        suffix = f" ({counter})"
        title, counter = base[: 31 - len(suffix)] + suffix, counter + 1
    return title


def _header(sheet: Any, header: tuple[str, ...], widths: tuple[int, ...]) -> None:
    sheet.append(list(header))
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    sheet.freeze_panes = f"A{sheet.max_row + 1}"  # sheet.cell() would create the row
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def _reports_sheet(sheet: Any, reports: list[dict[str, Any]], with_plan: bool) -> None:
    sheet.append(["CÁC BÁO CÁO ĐÃ GỬI (thời gian theo giờ của thành phố)"])
    _header(sheet, REPORT_HEADER, REPORT_WIDTHS)
    for report in reports:
        when = datetime.fromisoformat(report["created_at"]).strftime("%d/%m/%Y %H:%M")
        status = report["status"]
        code = report["task_code"]
        _append(
            sheet,
            [
                report["id"],
                f"{report['plan_short']} · {code}" if with_plan else code,
                report["unit"],
                report["person"],
                when,
                KIND_LABELS.get(report["kind"], report["kind"]),
                STATUS_LABELS.get(status, status) if status else "",
                report["percent"],
                report["results"],
                report["difficulties"],
                report["proposals"],
                "; ".join(report["evidence_files"]),
            ],
        )


def status_words(status: str, days_overdue: int) -> str:
    """The status as the office writes it; an unreported task past its due date says by how
    much ("Chưa báo cáo, quá hạn 12 ngày")."""
    label = STATUS_LABELS.get(status, status)
    if status == TaskStatus.NOT_REPORTED and days_overdue > 0:
        return f"{label}, quá hạn {days_overdue} ngày"
    return label


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
        status_words(record["status"], row.days_overdue),
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
