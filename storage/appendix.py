"""Reading a plan appendix (.xlsx) into groups and task rows, as offices lay it out.

Title rows sit above a header of one or two rows (merged cells allowed), found by its words;
group rows carry Roman numerals, task rows Arabic numbers restarting in each group (codes
"I.3", "II.3"); sub-items "a)", "b)" become "I.3.a". A row with text but no number, right
under a task, continues that task's title. Nothing here touches the database.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

from storage.textfold import words

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"
HEADER_SCAN_ROWS = 40
ROMAN = {
    "i": 1,
    "ii": 2,
    "iii": 3,
    "iv": 4,
    "v": 5,
    "vi": 6,
    "vii": 7,
    "viii": 8,
    "ix": 9,
    "x": 10,
    "xi": 11,
    "xii": 12,
    "xiii": 13,
    "xiv": 14,
    "xv": 15,
    "xvi": 16,
    "xvii": 17,
    "xviii": 18,
    "xix": 19,
    "xx": 20,
}
TO_ROMAN = {number: roman.upper() for roman, number in ROMAN.items()}

# Column roles, the words that name them, and how the errors name them; checked in this order.
ROLE_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("stt", ("stt", "tt", "so tt", "so thu tu")),
    ("notes", ("ghi chu",)),
    ("budget", ("kinh phi",)),
    ("coop", ("phoi hop",)),
    ("lead", ("chu tri", "co quan thuc hien", "don vi thuc hien")),
    ("deadline", ("thoi gian", "thoi han", "tien do", "moc thoi gian")),
    ("output", ("san pham", "ket qua")),
    ("title", ("nhiem vu", "noi dung", "ten", "giai phap")),
]
COLUMN_NAMES = {
    "stt": "STT",
    "title": "Nhiệm vụ",
    "lead": "Cơ quan chủ trì",
    "coop": "Cơ quan phối hợp",
    "deadline": "Thời gian thực hiện",
    "output": "Sản phẩm",
    "budget": "Kinh phí",
    "notes": "Ghi chú",
}
FOOTER_WORDS = ("ghi chu", "noi nhan", "tm ", "kt ", "chu tich")
_TASK_NUMBER = re.compile(r"^\d{1,3}(?:\.\d{1,3})*\.?$")
_SUB_ITEM = re.compile(r"^([a-zđ])[).]?$")
_GROUP_PREFIX = r"(?:(nhóm|phần|nhom|phan)(?:\s+nhiệm\s+vụ|\s+nhiem\s+vu)?\s+)?"
_GROUP_CELL = re.compile(rf"^{_GROUP_PREFIX}([IVX]+|\d{{1,2}})\s*[.:]?$", re.IGNORECASE)
_GROUP_TITLE = re.compile(
    rf"^{_GROUP_PREFIX}([IVX]+|\d{{1,2}})\s*[.:)\-–]\s*(\S.*)$", re.IGNORECASE
)


class BadWorkbook(Exception):
    """The file cannot be read as a plan appendix; the message says why, in Vietnamese."""


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        value = f" “{self.value}”" if self.value else ""
        return f"Dòng {self.row}, cột {self.column}{value}: {self.reason}"


@dataclass
class ParsedGroup:
    number: int
    name: str
    row: int

    @property
    def roman(self) -> str:
        return TO_ROMAN.get(self.number, str(self.number))


@dataclass
class ParsedTask:
    code: str
    group_number: int
    number: str
    position: int
    row: int
    title: str
    lead: str
    coop: str
    deadline: Any
    output: str = ""
    budget: str = ""
    notes: str = ""


@dataclass
class ParsedPlan:
    groups: list[ParsedGroup] = field(default_factory=list)
    tasks: list[ParsedTask] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0


def check_file(path: Path, max_bytes: int) -> None:
    """Refuse, with the reason, a file that is missing, too big or not an .xlsx workbook."""
    if not path.is_file():
        raise BadWorkbook(f"Không tìm thấy tệp “{path}”.")
    size = path.stat().st_size
    if size > max_bytes:
        raise BadWorkbook(
            f"Tệp “{path.name}” quá lớn ({size / 1048576:.1f} MB); giới hạn là "
            f"{max_bytes / 1048576:.1f} MB (IMPORT_MAX_BYTES).".replace(".", ",", 2)
        )
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(OLE_SIGNATURE[:4]):
        if b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k" in path.read_bytes():
            raise BadWorkbook(
                f"Tệp “{path.name}” được bảo vệ bằng mật khẩu. Hãy gỡ mật khẩu "
                "(File → Info → Protect Workbook) rồi nhập lại."
            )
        raise BadWorkbook(
            f"Tệp “{path.name}” là định dạng Excel cũ (.xls). Hãy mở bằng Excel và "
            "lưu lại dưới dạng .xlsx (Excel Workbook) rồi nhập lại."
        )
    if not head.startswith(ZIP_SIGNATURE):
        raise BadWorkbook(f"Tệp “{path.name}” không phải là tệp Excel .xlsx.")
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error):
        broken, names = "?", set()
    if broken is not None:
        raise BadWorkbook(f"Tệp “{path.name}” bị hỏng (không giải nén được). Hãy xuất lại tệp.")
    if "xl/workbook.xml" not in names:
        raise BadWorkbook(f"Tệp “{path.name}” không phải là tệp Excel .xlsx.")


def read_grid(path: Path, sheet: str | None, max_rows: int) -> list[list[Any]]:
    """The chosen sheet's values as rows, each merged range filled with its top-left value."""
    try:
        workbook = load_workbook(path, data_only=True)
    except (
        InvalidFileException,
        zipfile.BadZipFile,
        zlib.error,
        KeyError,
        OSError,
        ValueError,
        TypeError,
    ) as exc:
        raise BadWorkbook(
            f"Không đọc được tệp “{path.name}” như một bảng tính .xlsx ({exc})."
        ) from None
    if sheet is not None and sheet not in workbook.sheetnames:
        raise BadWorkbook(
            f"Không có trang tính “{sheet}”. Các trang tính có: {', '.join(workbook.sheetnames)}."
        )
    worksheet: Worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
    if worksheet.max_row > max_rows:
        raise BadWorkbook(
            f"Trang tính “{worksheet.title}” có {worksheet.max_row} dòng, vượt giới hạn "
            f"{max_rows} dòng (IMPORT_MAX_ROWS)."
        )
    grid = [list(row) for row in worksheet.iter_rows(values_only=True)]
    for merged in worksheet.merged_cells.ranges:
        value = (
            grid[merged.min_row - 1][merged.min_col - 1] if merged.min_row <= len(grid) else None
        )
        for r in range(merged.min_row - 1, min(merged.max_row, len(grid))):
            for c in range(merged.min_col - 1, min(merged.max_col, len(grid[r]))):
                grid[r][c] = value
    workbook.close()
    if not any(_text(value) for row in grid for value in row):
        raise BadWorkbook(f"Trang tính “{worksheet.title}” trống.")
    return grid


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _role(text: str) -> str | None:
    folded = " ".join(words(text))
    if not folded:
        return None
    for role, phrases in ROLE_WORDS:
        for phrase in phrases:
            if role == "stt":
                if folded == phrase or folded.startswith(phrase + " "):
                    return role
            elif f" {phrase} " in f" {folded} ":
                return role
    return None


def _roles(cells: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        role = _role(cell)
        if role and role not in found:
            found[role] = index
    return found


def find_header(grid: list[list[Any]]) -> tuple[int, dict[str, int]]:
    """The index of the last header row and the column of each role."""
    for index, row in enumerate(grid[:HEADER_SCAN_ROWS]):
        roles = _roles([_text(v) for v in row])
        if "title" not in roles or ("lead" not in roles and "coop" not in roles):
            continue
        if index + 1 < len(grid) and _is_header_continuation(grid[index + 1]):
            combined = [
                f"{_text(a)} {_text(b)}" for a, b in zip(row, grid[index + 1], strict=False)
            ]
            merged_roles = _roles(combined)
            if len(merged_roles) >= len(roles):
                return index + 1, merged_roles
        if "lead" in roles:
            return index, roles
    raise BadWorkbook(
        "Không tìm thấy dòng tiêu đề của bảng. Bảng cần có các cột như: STT, Nhiệm vụ, "
        "Cơ quan chủ trì, Cơ quan phối hợp, Thời gian thực hiện, Sản phẩm."
    )


def _is_header_continuation(row: list[Any]) -> bool:
    texts = [_text(v) for v in row if _text(v)]
    return (
        bool(texts)
        and any(_role(t) in ("lead", "coop") for t in texts)
        and not any(_TASK_NUMBER.match(t) for t in texts)
    )


def _is_number_row(cells: list[str]) -> bool:
    filled = [c for c in cells if c]
    return len(filled) >= 3 and all(re.fullmatch(r"\(?\d{1,2}\)?", c) for c in filled)


class _Reader:
    """Walks the rows under the header, keeping the current group and task."""

    def __init__(self, grid: list[list[Any]], header: int, columns: dict[str, int]) -> None:
        self.grid, self.header, self.columns = grid, header, columns
        self.plan = ParsedPlan(rows=len(grid))
        self.group: ParsedGroup | None = None
        self.task: ParsedTask | None = None
        self.parent_number = ""

    def cell(self, row: list[Any], role: str) -> Any:
        index = self.columns.get(role)
        return row[index] if index is not None and index < len(row) else None

    def text(self, row: list[Any], role: str) -> str:
        return _text(self.cell(row, role))

    def run(self) -> ParsedPlan:
        for index in range(self.header + 1, len(self.grid)):
            row = self.grid[index]
            cells = [_text(v) for v in row]
            if not any(cells) or _is_number_row(cells):
                continue
            if self._is_footer(row):
                break
            self._read_row(row, index + 1)
        return self.plan

    def _is_footer(self, row: list[Any]) -> bool:
        first = " ".join(words(self.text(row, "stt") or self.text(row, "title")))
        return first.startswith(FOOTER_WORDS[:2])

    def _read_row(self, row: list[Any], excel_row: int) -> None:
        stt, title = self.text(row, "stt"), self.text(row, "title")
        group = self._group_of(stt, title)
        if group is not None:
            self._start_group(group, excel_row)
        elif _TASK_NUMBER.match(stt):
            self.parent_number = stt.rstrip(".")
            self._add_task(row, excel_row, self.parent_number)
        elif _SUB_ITEM.match(stt.lower()) and self.parent_number:
            letter = _SUB_ITEM.match(stt.lower()).group(1)  # type: ignore[union-attr]
            self._add_task(row, excel_row, f"{self.parent_number}.{letter}")
        elif not stt and title:
            self._continue_task(row, excel_row, title)
        elif stt:
            self.plan.problems.append(
                Problem(
                    excel_row,
                    COLUMN_NAMES["stt"],
                    stt,
                    "số thứ tự không hợp lệ (nhóm dùng số La Mã I, II…; nhiệm vụ dùng 1, 2…)",
                )
            )

    def _group_of(self, stt: str, title: str) -> tuple[int, str] | None:
        if stt:
            number = _group_number(_GROUP_CELL.match(stt))
            return (number, _strip_roman(title)) if number else None
        match = _GROUP_TITLE.match(title)
        number = _group_number(match)
        return (number, match.group(3).strip()) if number and match else None

    def _start_group(self, group: tuple[int, str], excel_row: int) -> None:
        number, name = group
        self.group = ParsedGroup(number, name, excel_row)
        self.plan.groups.append(self.group)
        self.task, self.parent_number = None, ""

    def _add_task(self, row: list[Any], excel_row: int, number: str) -> None:
        if self.group is None:
            self.plan.problems.append(
                Problem(
                    excel_row,
                    COLUMN_NAMES["stt"],
                    number,
                    "nhiệm vụ nằm trước mọi dòng nhóm (I, II, …): không biết thuộc nhóm nào",
                )
            )
            return
        self.task = ParsedTask(
            code=f"{self.group.roman}.{number}",
            group_number=self.group.number,
            number=number,
            position=len(self.plan.tasks) + 1,
            row=excel_row,
            title=self.text(row, "title"),
            lead=self.text(row, "lead"),
            coop=self.text(row, "coop"),
            deadline=self.cell(row, "deadline"),
            output=self.text(row, "output"),
            budget=self.text(row, "budget"),
            notes=self.text(row, "notes"),
        )
        self.plan.tasks.append(self.task)

    def _continue_task(self, row: list[Any], excel_row: int, title: str) -> None:
        has_units = self.text(row, "lead") and self.text(row, "lead") != (
            self.task.lead if self.task else ""
        )
        if self.task is None or has_units:
            self.plan.problems.append(
                Problem(
                    excel_row,
                    COLUMN_NAMES["stt"],
                    "",
                    "dòng có nội dung nhiệm vụ nhưng thiếu số thứ tự",
                )
            )
            return
        self.task.title = f"{self.task.title}\n{title}" if self.task.title else title


def _group_number(match: re.Match[str] | None) -> int | None:
    """A group's number from "I", "IX.", "Nhóm 3"; Arabic numbers only after "Nhóm"/"Phần"."""
    if match is None:
        return None
    token = match.group(2).lower()
    if token in ROMAN:
        return ROMAN[token]
    return int(token) if token.isdigit() and match.group(1) else None


def _strip_roman(title: str) -> str:
    match = _GROUP_TITLE.match(title)
    return match.group(3).strip() if match and _group_number(match) else title


def parse_plan(path: Path, *, sheet: str | None, max_bytes: int, max_rows: int) -> ParsedPlan:
    """Read the appendix at `path`; BadWorkbook for an unreadable file, problems for bad rows."""
    check_file(path, max_bytes)
    grid = read_grid(path, sheet, max_rows)
    header, columns = find_header(grid)
    plan = _Reader(grid, header, columns).run()
    if not plan.groups and not plan.tasks and not plan.problems:
        raise BadWorkbook("Không tìm thấy nhóm nhiệm vụ hay nhiệm vụ nào dưới dòng tiêu đề.")
    return plan
