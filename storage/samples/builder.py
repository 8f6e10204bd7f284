"""Writing plan appendices as offices lay them out: the shipped sample, tests and benchmarks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

HEADER = (
    "STT",
    "Nội dung nhiệm vụ",
    "Cơ quan chủ trì",
    "Cơ quan phối hợp",
    "Thời gian thực hiện",
    "Sản phẩm",
)


@dataclass
class AppendixTask:
    number: Any
    title: str
    lead: str
    coop: str = ""
    deadline: str | date | int | None = "Năm 2022"
    output: str = ""


@dataclass
class AppendixGroup:
    roman: str
    name: str
    tasks: list[AppendixTask] = field(default_factory=list)


@dataclass
class Layout:
    """How the sheet looks: title rows, a one- or two-row header, a column-number row, how
    group rows are written, a total row, footer, and sheets in front of the table's.

    `group_style`: "columns" ("I" in STT, the name in the next columns, merged), "title"
    ("I. Name" in the task column) or "number" ("I. Name" in STT, merged across the table).
    """

    titles: Sequence[str] = ("PHỤ LỤC", "KẾ HOẠCH HÀNH ĐỘNG THỰC HIỆN CHUYỂN ĐỔI SỐ")
    two_row_header: bool = True
    number_row: bool = True
    group_in_title_column: bool = False
    footer: Sequence[str] = ()
    sheet_name: str = "Phụ lục"
    group_style: str = "columns"
    total_row: str = ""
    sheets_before: Sequence[tuple[str, Sequence[str]]] = ()


def write_appendix(
    path: Path, groups: Iterable[AppendixGroup], layout: Layout | None = None
) -> Path:
    """Write `groups` as an .xlsx appendix at `path` and return the path."""
    layout = layout or Layout()
    workbook = Workbook()
    for name, lines in layout.sheets_before:
        front = workbook.create_sheet(name)
        for line in lines:
            front.append([line])
    sheet = workbook.worksheets[0]
    workbook.move_sheet(sheet, offset=len(layout.sheets_before))
    sheet.title = layout.sheet_name
    for title in layout.titles:
        sheet.append([title])
        sheet.merge_cells(
            start_row=sheet.max_row, start_column=1, end_row=sheet.max_row, end_column=6
        )
    _write_header(sheet, layout)
    for group in groups:
        _write_group(sheet, group, layout)
        for task in group.tasks:
            sheet.append(
                [task.number, task.title, task.lead, task.coop, task.deadline, task.output]
            )
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text as typed, even when it starts with "="
            if isinstance(task.deadline, date):
                sheet.cell(sheet.max_row, 5).number_format = "dd/mm/yyyy"
    if layout.total_row:
        sheet.append([layout.total_row])
        row = sheet.max_row
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
    for line in layout.footer:
        sheet.append([line])
    for letter, width in zip("ABCDEF", (6, 60, 28, 32, 20, 36), strict=True):
        sheet.column_dimensions[letter].width = width
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def _write_header(sheet: Any, layout: Layout) -> None:
    if not layout.two_row_header:
        sheet.append(list(HEADER))
    else:
        top = sheet.max_row + 1
        sheet.append(
            [
                "TT",
                "Nhiệm vụ",
                "Cơ quan thực hiện",
                None,
                "Thời gian hoàn thành",
                "Sản phẩm (kết quả đầu ra)",
            ]
        )
        sheet.append([None, None, "Chủ trì", "Phối hợp", None, None])
        for column in (1, 2, 5, 6):
            sheet.merge_cells(
                start_row=top, start_column=column, end_row=top + 1, end_column=column
            )
        sheet.merge_cells(start_row=top, start_column=3, end_row=top, end_column=4)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    if layout.number_row:
        sheet.append([f"({i})" for i in range(1, 7)])


def _write_group(sheet: Any, group: AppendixGroup, layout: Layout) -> None:
    style = "title" if layout.group_in_title_column else layout.group_style
    if style == "title":
        sheet.append([None, f"{group.roman}. {group.name}"])
    elif style == "number":
        sheet.append([f"{group.roman}. {group.name}"])
    else:
        sheet.append([group.roman, group.name])
    row = sheet.max_row
    first = 1 if style == "number" else 2
    sheet.merge_cells(start_row=row, start_column=first, end_row=row, end_column=6)
    for cell in sheet[row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True)
