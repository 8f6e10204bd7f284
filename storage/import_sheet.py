"""Finding the plan table in a workbook: the file checks, the sheet, the header and its columns.

Without a chosen sheet, every sheet is looked at in order and the first whose header names the
task and unit columns is read, so an instruction sheet ("Hướng dẫn") in front is passed over;
when none has it, the message names the sheets looked at and points to `--sheet`.
"""

from __future__ import annotations

import re
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
    texts = [text(v) for v in row if text(v)]
    return (
        bool(texts)
        and any(_role(t) in ("lead", "coop") for t in texts)
        and not any(_TASK_NUMBER.match(t) for t in texts)
    )


def read_table(
    path: Path, sheet: str | None, max_rows: int
) -> tuple[str, list[list[Any]], int, dict[str, int]]:
    """The sheet holding the plan table: its name, its grid, its header row and columns."""
    workbook = _open(path)
    try:
        if sheet is not None:
            if sheet not in workbook.sheetnames:
                raise BadWorkbook(
                    f"Không có trang tính “{sheet}”. Các trang tính có: "
                    f"{', '.join(workbook.sheetnames)}."
                )
            grid = _grid(workbook[sheet], max_rows)
            if not _filled(grid):
                raise BadWorkbook(f"Trang tính “{sheet}” trống.")
            found = find_header(grid)
            if found is None:
                raise BadWorkbook(
                    f"Không tìm thấy dòng tiêu đề của bảng trong trang tính “{sheet}”. "
                    + HEADER_HINT
                )
            return sheet, grid, *found
        return _first_table(workbook, max_rows)
    finally:
        workbook.close()


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
        looked.append(worksheet.title)
        found = find_header(grid)
        if found is not None:
            return worksheet.title, grid, *found
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


def _grid(worksheet: Worksheet, max_rows: int) -> list[list[Any]]:
    """The sheet's values as rows, each merged range filled with its top-left value."""
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
    return grid


def _filled(grid: list[list[Any]]) -> bool:
    return any(text(value) for row in grid for value in row)
