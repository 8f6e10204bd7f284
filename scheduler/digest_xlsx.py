"""The digest's workbook: a summary sheet (counts and shares per plan, by group, in total) and a
task sheet (every active task of the followed plans with its status in the office's words).

Written in openpyxl's write-only mode, row by row, so 10,000 tasks cost a stream, not a
workbook held cell by cell in memory. Text that a spreadsheet would run as a formula is written
as a plain string cell; characters a workbook may not hold (control characters pasted into a
chat) are dropped.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, TYPE_STRING
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from handlers.i18n import day, t
from storage.figures import Counts, Figures, Period, Rated, Source, rate
from storage.models import TaskStatus
from storage.status import DONE


class Sheet(Protocol):
    """What this module uses of openpyxl's write-only worksheet (`Workbook.create_sheet` in
    write-only mode), named here rather than imported from openpyxl's private module."""

    freeze_panes: Any
    column_dimensions: Any

    def append(self, iterable: Iterable[Any]) -> None: ...


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT, MOMENT_FORMAT, SHARE_FORMAT = "DD/MM/YYYY", "DD/MM/YYYY HH:MM", "0.0%"
BOLD = Font(bold=True)
# The summary's columns after plan, group and tasks: a count and its share for each.
COLUMNS: tuple[tuple[str, tuple[TaskStatus, ...]], ...] = (
    ("digest_done", tuple(DONE)),
    ("status_in_progress", (TaskStatus.IN_PROGRESS,)),
    ("status_overdue", (TaskStatus.OVERDUE,)),
    ("status_not_reported", (TaskStatus.NOT_REPORTED,)),
    ("status_not_started", (TaskStatus.NOT_STARTED,)),
    ("status_blocked", (TaskStatus.BLOCKED,)),
    ("status_extension_requested", (TaskStatus.EXTENSION_REQUESTED,)),
    ("status_paused", (TaskStatus.PAUSED,)),
)
SUMMARY_WIDTHS = (12, 46, 11) + (12, 10) * len(COLUMNS)
TASK_KEYS = (
    "digest_xlsx_code",
    "digest_xlsx_plan",
    "digest_xlsx_group",
    "digest_xlsx_task",
    "digest_xlsx_lead",
    "digest_xlsx_deadline",
    "digest_xlsx_status",
    "digest_xlsx_percent",
    "digest_xlsx_days_overdue",
    "digest_xlsx_last_report",
)
TASK_WIDTHS = (11, 12, 30, 60, 30, 13, 28, 10, 12, 17)


def workbook_xlsx(figures: Figures, source: Source, period: Period, lang: str) -> bytes:
    """The workbook of `figures` (computed from `source`) for the week `period`, in `lang`."""
    book = Workbook(write_only=True)
    summary = book.create_sheet(t(lang, "digest_sheet_summary"))
    _summary_sheet(summary, figures, period, lang)
    tasks = book.create_sheet(t(lang, "digest_sheet_tasks"))
    _task_sheet(tasks, figures, source, period.tz, lang)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- the summary ----------------------------------------------------------------------------


def _summary_sheet(sheet: Sheet, figures: Figures, period: Period, lang: str) -> None:
    _widths(sheet, SUMMARY_WIDTHS)
    sheet.freeze_panes = "D3"
    title = t(
        lang,
        "digest_xlsx_title",
        start=day(period.start),
        end=day(period.end),
        date=day(figures.today),
    )
    sheet.append([_cell(sheet, title, bold=True)])
    header = ["digest_xlsx_plan", "digest_xlsx_group", "digest_xlsx_tasks"]
    labels = [t(lang, key) for key in header]
    for key, _statuses in COLUMNS:
        label = t(lang, key)
        labels += [label, t(lang, "digest_xlsx_share", label=label)]
    sheet.append(_header(sheet, labels))
    for plan in figures.plans:
        whole = t(lang, "digest_xlsx_whole_plan")
        sheet.append(_counts_row(sheet, plan.short_name, whole, plan.counts, bold=True))
        for group in plan.groups:
            name = f"{group.roman}. {group.name}"
            sheet.append(_counts_row(sheet, plan.short_name, name, group.counts))
    total = t(lang, "digest_total")
    sheet.append(_counts_row(sheet, total, "", figures.total, bold=True))


def _counts_row(
    sheet: Sheet, plan: str, group: str, counts: Counts, bold: bool = False
) -> list[Any]:
    row: list[Any] = [_cell(sheet, plan, bold), _cell(sheet, group, bold), counts.tasks]
    for _key, statuses in COLUMNS:
        count = counts.of(*statuses)
        share = WriteOnlyCell(sheet, count / counts.tasks if counts.tasks else 0.0)
        share.number_format = SHARE_FORMAT
        row += [count, share]
    return row


# --- the tasks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Words:
    """What every task row says alike, looked up once for 10,000 rows."""

    statuses: dict[TaskStatus, str]
    in_progress_no_deadline: str
    ongoing: str
    plans: dict[int, str]  # plan id → short name

    @classmethod
    def of(cls, source: Source, lang: str) -> _Words:
        return cls(
            {status: t(lang, f"status_{status.value}") for status in TaskStatus},
            t(lang, "status_in_progress_no_deadline"),
            t(lang, "digest_xlsx_ongoing"),
            {plan.id: plan.short_name for plan in source.plans},
        )


def _task_sheet(sheet: Sheet, figures: Figures, source: Source, tz: ZoneInfo, lang: str) -> None:
    _widths(sheet, TASK_WIDTHS)
    sheet.freeze_panes = "B2"
    sheet.append(_header(sheet, [t(lang, key) for key in TASK_KEYS]))
    words = _Words.of(source, lang)
    for item in _in_order(source, figures.today):
        sheet.append(_task_values(sheet, item, source, words, figures.today, tz))


def _in_order(source: Source, today: date) -> Iterator[Rated]:
    """The tasks plan by plan (the figures' order), each in its appendix's order."""
    rank = {plan.id: index for index, plan in enumerate(source.plans)}
    groups = source.groups
    ordered = sorted(
        source.tasks, key=lambda r: (rank[r.plan_id], groups[r.group_id].number, r.position)
    )
    return (rate(row, today) for row in ordered)


def _task_values(
    sheet: Sheet, item: Rated, source: Source, words: _Words, today: date, tz: ZoneInfo
) -> list[Any]:
    """Code, plan, group, title, lead units, deadline, status, percent, days overdue (blank
    unless late), last report (blank: never)."""
    row = item.row
    group = source.groups[row.group_id]
    leads = "; ".join(source.units[u].name for u in row.lead_unit_ids if u in source.units)
    if row.ongoing:
        deadline: Any = words.ongoing
    else:
        deadline = _dated(sheet, row.due_date, DATE_FORMAT)
    status = words.statuses[item.status]
    if item.status == TaskStatus.IN_PROGRESS and (row.ongoing or row.due_date is None):
        status = words.in_progress_no_deadline  # handlers.wording's rule
    return [
        _cell(sheet, row.code),
        _cell(sheet, words.plans[row.plan_id]),
        _cell(sheet, f"{group.roman}. {group.name}"),
        _cell(sheet, row.title),
        _cell(sheet, leads),
        deadline,
        status,
        row.percent,
        item.days_overdue(today) or None,
        _dated(sheet, _local(row.last_report_at, tz), MOMENT_FORMAT),
    ]


# --- cells ----------------------------------------------------------------------------------


def _header(sheet: Sheet, labels: Iterable[str]) -> list[WriteOnlyCell]:
    cells = []
    for label in labels:
        cell = WriteOnlyCell(sheet, label)
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        cells.append(cell)
    return cells


def _cell(sheet: Sheet, text: str, bold: bool = False) -> Any:
    """Text as a cell: plain when nothing needs saying, else a cell that is surely a string
    (openpyxl would take "=…" for a formula) and bold when asked."""
    clean = ILLEGAL_CHARACTERS_RE.sub("", text)
    if not bold and not clean.startswith("="):
        return clean
    cell = WriteOnlyCell(sheet, clean)
    cell.data_type = TYPE_STRING
    if bold:
        cell.font = BOLD
    return cell


def _dated(sheet: Sheet, value: object, number_format: str) -> Any:
    if value is None:
        return None
    cell = WriteOnlyCell(sheet)
    cell.number_format = number_format  # first: a date given first would get a default format
    cell.value = value
    return cell


def _local(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    """A stored time in the city's time zone, without its zone (a workbook has none)."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(tz).replace(tzinfo=None)


def _widths(sheet: Sheet, widths: Sequence[int]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
