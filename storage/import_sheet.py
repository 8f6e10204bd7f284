"""Finding the plan table in a workbook: the file checks, the sheet, the header and its columns.

Without a chosen sheet, every sheet is looked at in order and the first whose header names the
task and unit columns is read, so an instruction sheet ("Hướng dẫn") in front is passed over;
when none has it, the message names the sheets looked at and points to `--sheet`.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
import zlib
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from storage.textfold import words

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"
HEADER_SCAN_ROWS = 40
HEADING_MAX = 80  # characters: a longer cell is a task's text, not a column heading

# Column roles, the words that name them, and how the errors name them; checked in this order.
ROLE_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("stt", ("stt", "tt", "so tt", "so thu tu")),
    ("notes", ("ghi chu",)),
    ("budget", ("kinh phi",)),
    ("coop", ("phoi hop",)),
    ("lead", ("chu tri", "co quan thuc hien", "don vi thuc hien")),
    (
        "deadline",
        (
            "thoi gian",
            "thoi han",
            "tien do",
            "moc thoi gian",
            "lo trinh",
            "thoi diem",
            "han hoan thanh",
            "han chot",
        ),
    ),
    ("output", ("san pham", "ket qua")),
    ("title", ("nhiem vu", "noi dung", "ten", "giai phap")),
]
# A column counting tasks ("Số nhiệm vụ", "Tổng số") on a summary sheet is not the task column.
COUNT_WORDS = ("so nhiem vu", "so luong", "tong so", "ty le")
# A time column may be split into when the work starts and when it must be done: the due date
# is the end ("Thời gian thực hiện" over "Bắt đầu | Hoàn thành").
START_WORDS = ("bat dau", "khoi cong", "tu ngay", "tu thang", "tu nam", "ngay bat dau")
END_WORDS = ("hoan thanh", "ket thuc", "den ngay", "den thang", "den nam")
HEADER_HINT = (
    "Bảng cần có các cột như: STT, Nhiệm vụ, Cơ quan chủ trì, Cơ quan phối hợp, "
    "Thời gian thực hiện, Sản phẩm."
)


class BadWorkbook(Exception):
    """The file cannot be read as a plan appendix; the message says why, in Vietnamese."""


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


# Characters that read as a space, or as nothing, in a cell: non-breaking and narrow spaces
# (pasted from Word or the web) and zero-width marks.
_INVISIBLE = str.maketrans(
    {"\xa0": " ", "\u2007": " ", "\u202f": " ", "\u200b": None, "\ufeff": None, "\u00ad": None}
)


def clean(value: Any) -> Any:
    """A cell's value as the rest of the importer reads it: text in one Unicode form (NFC, so
    a decomposed "Thủy" typed on a Mac matches the composed one) with odd spaces made plain;
    other values unchanged."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value.translate(_INVISIBLE))
    return value


def text(value: Any) -> str:
    """A cell as one line: spaces and line breaks collapsed (for numbers, roles, headings)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def lines(value: Any) -> str:
    """A cell's text as written: its line breaks kept, spaces within each line tidied."""
    if value is None or not isinstance(value, str):
        return text(value)
    kept = [" ".join(line.split()) for line in value.splitlines()]
    while kept and not kept[0]:
        kept.pop(0)
    while kept and not kept[-1]:
        kept.pop()
    return "\n".join(kept)


def _role(cell: str) -> str | None:
    folded = " ".join(words(cell))
    if not folded:
        return None
    for role, phrases in ROLE_WORDS:
        for phrase in phrases:
            if role == "stt":
                if folded == phrase or folded.startswith(phrase + " "):
                    return role
            elif _says(folded, phrase):
                return _checked(role, folded)
    return None


def _says(folded: str, phrase: str) -> bool:
    return f" {phrase} " in f" {folded} "


def _checked(role: str, folded: str) -> str | None:
    """`role`, unless the heading names a count (for the task column) or only when the work
    starts (for the deadline)."""
    if role == "title" and folded.startswith(COUNT_WORDS):
        return None
    if role == "deadline" and any(_says(folded, w) for w in START_WORDS):
        return role if any(_says(folded, w) for w in END_WORDS) else None
    return role


def _roles(cells: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        role = _role(cell)
        if role and role not in found:
            found[role] = index
    return found


_TASK_NUMBER = re.compile(r"^\d{1,3}(?:\.\d{1,3})*\.?$")


def find_header(grid: list[list[Any]]) -> tuple[int, dict[str, int]] | None:
    """The index of the last header row and the column of each role, or None."""
    for index, row in enumerate(grid[:HEADER_SCAN_ROWS]):
        roles = _roles([text(v) for v in row])
        if "title" not in roles or ("lead" not in roles and "coop" not in roles):
            continue
        if index + 1 < len(grid) and _is_header_continuation(grid[index + 1]):
            combined = [f"{text(a)} {text(b)}" for a, b in zip(row, grid[index + 1], strict=False)]
            merged_roles = _roles(combined)
            if len(merged_roles) >= len(roles):
                return index + 1, merged_roles
        if "lead" in roles:
            return index, roles
    return None


def _is_header_continuation(row: list[Any]) -> bool:
    """A second header row: "Chủ trì | Phối hợp" under "Cơ quan thực hiện", or "Bắt đầu |
    Hoàn thành" under "Thời gian thực hiện"."""
    texts = [text(v) for v in row if text(v)]
    return (
        bool(texts)
        and any(_role(t) in ("lead", "coop") or _is_time_part(t) for t in texts)
        and not any(_TASK_NUMBER.match(t) for t in texts)
    )


def _is_time_part(cell: str) -> bool:
    folded = " ".join(words(cell))
    return folded in START_WORDS or folded in END_WORDS


def is_header_row(cells: list[str]) -> bool:
    """True for a row that repeats the table's header (as a page break copied into the sheet
    leaves it): at least two of its texts name columns, and every text names one."""
    named: set[str] = set()
    for cell in dict.fromkeys(cells):
        if not cell:
            continue
        # A heading is short; stopping at the first cell that names no column keeps this
        # cheap on the thousands of task rows.
        role = _role(cell) if len(cell) <= HEADING_MAX else None
        if role is None and not _is_time_part(cell):
            return False
        named.add(role or "part")
    return len(named) >= 2


def read_table(
    path: Path, sheet: str | None, max_rows: int
) -> tuple[str, list[list[Any]], int, dict[str, int]]:
    """The sheet holding the plan table: its name, its grid, its header row and columns."""
    workbook = _open(path)
    try:
        if sheet is not None:
            sheet = _sheet_named(workbook, sheet)
            grid = _grid(workbook[sheet], max_rows)
            if not _filled(grid):
                raise BadWorkbook(f"Trang tính “{sheet}” trống.")
            found = find_header(grid)
            if found is None:
                raise BadWorkbook(
                    f"Không tìm thấy dòng tiêu đề của bảng trong trang tính “{sheet}”. "
                    + HEADER_HINT
                )
            return clean(sheet), grid, *found
        return _first_table(workbook, max_rows)
    finally:
        workbook.close()


def _sheet_named(workbook: Workbook, wanted: str) -> str:
    """The workbook's own name of the sheet `wanted` names, spaces around it and the Unicode
    form aside (a name typed in a terminal is composed, a Mac may save it decomposed)."""
    key = " ".join(clean(wanted).split())
    for name in workbook.sheetnames:
        if " ".join(clean(name).split()) == key:
            return name
    names = ", ".join(f"“{clean(name)}”" for name in workbook.sheetnames)
    raise BadWorkbook(f"Không có trang tính “{wanted}”. Các trang tính có: {names}.")


def _first_table(
    workbook: Workbook, max_rows: int
) -> tuple[str, list[list[Any]], int, dict[str, int]]:
    looked: list[str] = []
    for worksheet in workbook.worksheets:
        if not isinstance(worksheet, Worksheet):
            continue  # a chart sheet
        grid = _grid(worksheet, max_rows)
        if not _filled(grid):
            continue
        looked.append(clean(worksheet.title))
        found = find_header(grid)
        if found is not None:
            return looked[-1], grid, *found
    if not looked:
        names = ", ".join(f"“{name}”" for name in workbook.sheetnames)
        raise BadWorkbook(
            f"Trang tính {names} trống."
            if len(workbook.sheetnames) == 1
            else (f"Các trang tính {names} đều trống.")
        )
    sheets = ", ".join(f"“{name}”" for name in looked)
    raise BadWorkbook(
        f"Không tìm thấy dòng tiêu đề của bảng trong trang tính nào (đã xem: {sheets}). "
        f"{HEADER_HINT} Nếu bảng nằm ở một trang tính khác, hãy chỉ rõ bằng --sheet TÊN."
    )


def _open(path: Path) -> Workbook:
    try:
        return load_workbook(path, data_only=True)
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


class SheetRow(list[Any]):
    """A row's values, knowing which of its cells only continue a merged cell of the row above
    (a task written over two rows, its number and title merged down)."""

    def __init__(self, values: Any) -> None:
        super().__init__(values)
        self.continued: set[int] = set()


def _grid(worksheet: Worksheet, max_rows: int) -> list[list[Any]]:
    """The sheet's values as rows, each merged range filled with its top-left value."""
    if worksheet.max_row > max_rows:
        raise BadWorkbook(
            f"Trang tính “{worksheet.title}” có {worksheet.max_row} dòng, vượt giới hạn "
            f"{max_rows} dòng (IMPORT_MAX_ROWS)."
        )
    grid = [SheetRow(clean(v) for v in row) for row in worksheet.iter_rows(values_only=True)]
    for merged in worksheet.merged_cells.ranges:
        value = (
            grid[merged.min_row - 1][merged.min_col - 1] if merged.min_row <= len(grid) else None
        )
        for r in range(merged.min_row - 1, min(merged.max_row, len(grid))):
            for c in range(merged.min_col - 1, min(merged.max_col, len(grid[r]))):
                grid[r][c] = value
                if r > merged.min_row - 1:
                    grid[r].continued.add(c)
    return list(grid)


def continued(row: list[Any], column: int | None) -> bool:
    """True when the row's cell in `column` continues a merged cell of the row above."""
    return isinstance(row, SheetRow) and column in row.continued


def _filled(grid: list[list[Any]]) -> bool:
    return any(text(value) for row in grid for value in row)
