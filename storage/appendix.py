"""Reading a plan appendix (.xlsx) into groups and task rows, as offices lay it out.

Title rows sit above a header of one or two rows (merged cells allowed), found by its words;
without a chosen sheet, the first sheet holding such a header is read (an instruction sheet
before it is passed over). Group rows carry a Roman numeral and the group's name in any
column, merged or not ("I" | "Công tác…", "I. Công tác…" across the table, "Nhóm 3");
task rows carry Arabic numbers restarting in each group (codes "I.3", "II.3"); sub-items
"a)", "b)" become "I.3.a". A row with text but no number, right under a task, continues
that task's title; total rows ("Tổng cộng: 103 nhiệm vụ") end the table, subtotals ("Cộng")
are passed over. Text keeps its line breaks. Nothing here touches the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storage.import_sheet import (
    BadWorkbook,
    check_file,
    continued,
    is_header_row,
    lines,
    read_table,
    text,
)
from storage.textfold import words

__all__ = ["BadWorkbook", "ParsedGroup", "ParsedPlan", "ParsedTask", "Problem", "parse_plan"]
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
_TASK_NUMBER = re.compile(r"^\d{1,3}(?:\.\d{1,3})*[.)]?$")
_SUB_ITEM = re.compile(r"^([a-zđ])[).]?$")
# "1. …", "1) …", "1.2 …", "a) …": a plain "5 nền tảng số" is a title that starts with a count.
_NUMBERED_TITLE = re.compile(r"^(\d{1,3}(?:\.\d{1,3})+\.?|\d{1,3}[.)]|[a-zđ]\))\s+(\S.*)$", re.S)
# A bullet in the number column: an unnumbered item under the task above it.
BULLETS = ("-", "–", "—", "+", "•", "*", "·")
# Roman numerals in capitals only: a lower-case "i)" or "v." is a sub-item, not a group.
_GROUP_PREFIX = r"(?:(?i:(nhóm|phần|nhom|phan)(?:\s+nhiệm\s+vụ|\s+nhiem\s+vu)?)\s+)?"
_GROUP_CELL = re.compile(rf"^{_GROUP_PREFIX}([IVX]+|\d{{1,2}})\s*[.:]?$")
# The name never starts with a digit: "I.1" is task 1 of group I, not a group named "1".
_GROUP_TITLE = re.compile(rf"^{_GROUP_PREFIX}([IVX]+|\d{{1,2}})\s*[.:)\-–]\s*([^\s\d].*)$", re.S)
# A task numbered with its group's numeral: "I.1", "II.3.", "II.3.a".
_ROMAN_TASK = re.compile(r"^([IVX]+)\.(\d{1,3}(?:\.\d{1,3})*)(?:\.([a-zđ]))?[.)]?$")
_ARABIC_HEADING = re.compile(r"^(\d{1,2})\s*(?:[.:)\-–]\s*(\S.*))?\.?$", re.S)
# A lettered part above the groups: "A", "Phần B", "PHẦN A. NHIỆM VỤ CHUNG", "B. Nhiệm vụ cụ thể".
_SECTION = re.compile(r"^(?i:phần\s+)?[A-ZĐ](?:[.):\-–]?|[.):\-–]\s*\S.*)$", re.S)


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
    # Written "1", "2" with tasks "1.1", "1.2" under it: the tasks' own numbers drop the "1.".
    arabic: bool = False

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
    sheet: str = ""
    # The texts above the table's header (the plan's title, "Kèm theo Quyết định số …").
    title_rows: list[str] = field(default_factory=list)


class _Reader:
    """Walks the rows under the header, keeping the current group and task."""

    def __init__(self, grid: list[list[Any]], header: int, columns: dict[str, int]) -> None:
        self.grid, self.header = grid, header
        # A table without a number column writes the numbers at the start of the task's text
        # ("1. Tuyên truyền…"); they are read into a column of their own past the sheet's edge.
        self.numbered_titles = "stt" not in columns
        self.columns = {"stt": max(map(len, grid), default=0), **columns}
        self.plan = ParsedPlan(rows=len(grid))
        self.group: ParsedGroup | None = None
        self.task: ParsedTask | None = None
        self.parent_number = ""

    def cell(self, row: list[Any], role: str) -> Any:
        index = self.columns.get(role)
        return row[index] if index is not None and index < len(row) else None

    def text(self, row: list[Any], role: str) -> str:
        return text(self.cell(row, role))

    def lines(self, row: list[Any], role: str) -> str:
        return lines(self.cell(row, role))

    def run(self) -> ParsedPlan:
        for index in range(self.header + 1, len(self.grid)):
            row = self.grid[index]
            cells = [text(v) for v in row]
            if not any(cells) or _is_number_row(cells) or is_header_row(cells):
                continue  # blank, "(1) (2) …", or the header repeated after a page break
            if self._merged_down(row):
                self._extend_task(row)
                continue
            stt = self.text(row, "stt")
            first = _distinct(cells)[0]
            if _TASK_NUMBER.match(stt) is None:
                if self._is_footer(first):
                    break
                total = _total_kind(first)
                if total == "total" and self.plan.tasks:
                    break
                if total:
                    continue
            self._read_row(row, index + 1, cells)
        return self.plan

    def _merged_down(self, row: list[Any]) -> bool:
        """A row whose number (or, lacking one, whose title) continues the merged cell above:
        more of the same row, or of the same task, written over several sheet rows."""
        if continued(row, self.columns["stt"]):
            return True
        return not self.text(row, "stt") and continued(row, self.columns.get("title"))

    def _extend_task(self, row: list[Any]) -> None:
        """Add the row's own cells (those not merged down from above) to the current task:
        its units, product, budget and notes line by line; a deadline it lacked."""
        task = self.task
        if task is None:
            return  # a group or heading row over several sheet rows
        for role in ("lead", "coop", "output", "budget", "notes"):
            own = "" if continued(row, self.columns.get(role)) else self.lines(row, role)
            if own:
                current = getattr(task, role)
                setattr(task, role, f"{current}\n{own}" if current else own)
        deadline = self.cell(row, "deadline")
        if task.deadline in (None, "") and not continued(row, self.columns.get("deadline")):
            task.deadline = deadline

    def _next_number(self, index: int) -> str:
        """The STT of the next row that has one (for a heading numbered 1 over 1.1, 1.2)."""
        for row in self.grid[index + 1 :]:
            stt = self.text(row, "stt")
            if stt:
                return stt
        return ""

    @staticmethod
    def _is_footer(first: str) -> bool:
        return " ".join(words(first)).startswith(FOOTER_WORDS[:2])

    def _read_row(self, row: list[Any], excel_row: int, cells: list[str]) -> None:
        row = self._number_from_title(row)
        stt, title = self.text(row, "stt"), self.lines(row, "title")
        texts = _distinct(cells)
        if _ROMAN_TASK.match(stt):
            stt = self._within_group(stt, excel_row)
            if not stt:
                return
        group = None if _TASK_NUMBER.match(stt) else _group_of(texts)
        arabic = self._arabic_group(row, excel_row, texts)
        number = _plain_number(stt)
        if group is not None:
            self._start_group(group, excel_row)
        elif arabic is not None:
            self._start_group(arabic, excel_row, arabic=True)
        elif number and self._heads_numbers(row, excel_row, number, ""):
            self.task = None  # "3" over "3.1", "3.2": a heading; the numbered items are the tasks
        elif number:
            self.parent_number = self._own_number(number)
            self._add_task(row, excel_row, self.parent_number)
        elif _SUB_ITEM.match(stt.lower()) and self.parent_number and not stt.isupper():
            letter = _SUB_ITEM.match(stt.lower()).group(1)  # type: ignore[union-attr]
            self._add_sub_item(row, excel_row, letter)
        elif stt in BULLETS:
            self._bullet(row, excel_row, stt, title)
        elif _SECTION.match(stt) and not self._names_units(row, stt):
            return  # a lettered part ("A", "Phần B") above the groups: a heading only
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

    def _within_group(self, stt: str, excel_row: int) -> str:
        """The number "II.3" gives within its group ("3"; "a" for "II.3.a" under task 3),
        or "" with a problem when the row stands under another group."""
        match = _ROMAN_TASK.match(stt)
        assert match is not None
        group = ROMAN.get(match.group(1).lower())
        number, letter = _plain_number(match.group(2)), match.group(3)
        if self.group is None or self.group.number != group:
            under = f"dưới nhóm {self.group.roman}" if self.group else "trước mọi dòng nhóm"
            reason = f"số thứ tự thuộc nhóm {match.group(1)} nhưng dòng nằm {under}"
            self.plan.problems.append(Problem(excel_row, COLUMN_NAMES["stt"], stt, reason))
            return ""
        if letter and number != self.parent_number:
            reason = f"mục {letter}) không nằm dưới nhiệm vụ {match.group(1)}.{number}"
            self.plan.problems.append(Problem(excel_row, COLUMN_NAMES["stt"], stt, reason))
            return ""
        return letter or number

    def _number_from_title(self, row: list[Any]) -> list[Any]:
        """The row with a number written at the start of its task text ("1. Tuyên truyền…",
        "a) Mạng 5G") moved to the number column, when that column is blank and the row is a
        task (it names units, or the table has no number column at all)."""
        title = self.lines(row, "title")
        match = _NUMBERED_TITLE.match(title)
        if self.text(row, "stt") or match is None or _group_of([title]) is not None:
            return row
        if not (self.numbered_titles or self._names_units(row, "")):
            return row
        changed = [*row, *([None] * (self.columns["stt"] + 1 - len(row)))]
        changed[self.columns["stt"]] = match.group(1)
        changed[self.columns["title"]] = match.group(2)
        return changed

    def _arabic_group(
        self, row: list[Any], excel_row: int, texts: list[str]
    ) -> tuple[int, str] | None:
        """A group numbered in Arabic ("1" | "Công tác…", or "1. Công tác…"): a row naming no
        unit whose number the next numbered row carries on ("1.1")."""
        if self.group is not None and not self.group.arabic:
            return None  # under a Roman group, "1" over "1.1" is a task heading (see below)
        match = _ARABIC_HEADING.match(texts[0])
        if match is None or not self._heads_numbers(row, excel_row, match.group(1), texts[0]):
            return None
        name = (match.group(2) or "").strip() or next((t for t in texts[1:] if t), "")
        return int(match.group(1)), name

    def _heads_numbers(self, row: list[Any], excel_row: int, number: str, heading: str) -> bool:
        """True for a row naming no unit whose number the next numbered row carries on."""
        if self._names_units(row, heading):
            return False
        return self._next_number(excel_row - 1).startswith(f"{number}.")

    def _names_units(self, row: list[Any], heading: str) -> bool:
        return any(
            self.text(row, role) not in ("", heading) for role in ("lead", "coop", "deadline")
        )

    def _start_group(self, group: tuple[int, str], excel_row: int, arabic: bool = False) -> None:
        number, name = group
        self.group = ParsedGroup(number, name, excel_row, arabic)
        self.plan.groups.append(self.group)
        self.task, self.parent_number = None, ""

    def _own_number(self, number: str) -> str:
        """ "1.3" under the Arabic group 1 is its task 3; other numbers stay as written."""
        prefix = f"{self.group.number}." if self.group is not None and self.group.arabic else ""
        return number.removeprefix(prefix) if prefix and number.startswith(prefix) else number

    def _bullet(self, row: list[Any], excel_row: int, bullet: str, title: str) -> None:
        """A "-" item: with units or a deadline of its own it is a task under the numbered row
        above (lettered a, b… in order); otherwise a line of that task's title."""
        if not self._names_units(row, ""):
            self._continue_task(row, excel_row, f"{bullet} {title}" if title else bullet)
        elif not self.parent_number:
            self.plan.problems.append(
                Problem(
                    excel_row,
                    COLUMN_NAMES["stt"],
                    bullet,
                    "dòng gạch đầu dòng có đơn vị nhưng không nằm dưới nhiệm vụ đánh số nào; "
                    "hãy ghi số thứ tự cho nhiệm vụ",
                )
            )
        else:
            prefix = f"{self.parent_number}."
            taken = sum(1 for task in self.plan.tasks if task.number.startswith(prefix))
            self._add_sub_item(row, excel_row, _letter(taken))

    def _add_sub_item(self, row: list[Any], excel_row: int, letter: str) -> None:
        parent = self.task
        if (
            parent is not None
            and parent.number == self.parent_number
            and not parent.lead
            and not parent.coop
        ):
            # A numbered row naming no unit, with lettered items under it, is their heading:
            # the items are the tasks.
            self.plan.tasks.remove(parent)
        self._add_task(row, excel_row, f"{self.parent_number}.{letter}")

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
            title=self.lines(row, "title"),
            lead=self.lines(row, "lead"),
            coop=self.lines(row, "coop"),
            deadline=self.cell(row, "deadline"),
            output=self.lines(row, "output"),
            budget=self.lines(row, "budget"),
            notes=self.lines(row, "notes"),
        )
        self.plan.tasks.append(self.task)

    def _continue_task(self, row: list[Any], excel_row: int, title: str) -> None:
        lead = self.lines(row, "lead")
        has_units = lead and lead != (self.task.lead if self.task else "")
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


def _plain_number(stt: str) -> str:
    """A task number as written without its trailing mark or leading zeros ("01." → "1",
    "1.2)" → "1.2"), or "" when the cell holds none."""
    if not _TASK_NUMBER.match(stt):
        return ""
    return ".".join(str(int(part)) for part in stt.rstrip(".)").split("."))


def _letter(taken: int) -> str:
    """The letter of the next unlettered item under a task: a, b, … z, then 27, 28 …"""
    return chr(ord("a") + taken) if taken < 26 else str(taken + 1)


def _is_number_row(cells: list[str]) -> bool:
    """The row numbering the columns under the header: "(1) (2) (3)…", or "A B 1 2 3"."""
    filled = [c for c in cells if c]
    return len(filled) >= 3 and all(re.fullmatch(r"\(?(?:\d{1,2}|[A-Z])\)?", c) for c in filled)


def _distinct(cells: list[str]) -> list[str]:
    """The row's texts in column order, a merged range's repeats counted once."""
    found: list[str] = []
    for cell in cells:
        if cell and cell not in found:
            found.append(cell)
    return found or [""]


def _group_of(texts: list[str]) -> tuple[int, str] | None:
    """A group row's number and name, wherever the row writes them: "I" then the name in the
    next column, or "I. Công tác…" in one cell (merged across the table or not)."""
    first = texts[0]
    number = _group_number(_GROUP_CELL.match(first))
    if number is not None:
        name = next((_strip_roman(t) for t in texts[1:] if t), "")
        return number, name
    match = _GROUP_TITLE.match(first)
    number = _group_number(match)
    return (number, match.group(3).strip()) if number and match else None


def _total_kind(first: str) -> str:
    """ "total" for a row counting the whole table ("Tổng cộng: 103 nhiệm vụ", "Tổng số"),
    "subtotal" for a group's ("Cộng", "Cộng nhóm I"), "" for any other row."""
    parts = words(first)
    if not parts or parts[0] not in ("tong", "cong"):
        return ""
    said = first.split(maxsplit=1)
    after = said[1] if len(said) > 1 else ""
    counted = (
        len(parts) == 1
        or after[:1] in (":", "(", "-", "–")
        or first.split()[0].rstrip(":") != first.split()[0]
        or parts[1].isdigit()
        or parts[1] in ("cong", "so", "nhom", "phan", "muc", "toan")
    )
    if not counted:
        return ""
    return "total" if parts[0] == "tong" else "subtotal"


def _group_number(match: re.Match[str] | None) -> int | None:
    """A group's number from "I", "IX.", "Nhóm 3"; Arabic numbers only after "Nhóm"/"Phần"."""
    if match is None:
        return None
    token = match.group(2)
    if token.lower() in ROMAN and token.isupper():
        return ROMAN[token.lower()]
    return int(token) if token.isdigit() and match.group(1) else None


def _strip_roman(title: str) -> str:
    match = _GROUP_TITLE.match(title)
    return match.group(3).strip() if match and _group_number(match) else title


def parse_plan(path: Path, *, sheet: str | None, max_bytes: int, max_rows: int) -> ParsedPlan:
    """Read the appendix at `path`; BadWorkbook for an unreadable file, problems for bad rows."""
    check_file(path, max_bytes)
    name, grid, header, columns = read_table(path, sheet, max_rows)
    plan = _Reader(grid, header, columns).run()
    plan.sheet = name
    plan.title_rows = [t for row in grid[:header] for t in _distinct([text(v) for v in row]) if t]
    if not plan.tasks and not plan.problems:
        found = f"chỉ thấy {len(plan.groups)} dòng nhóm, " if plan.groups else ""
        raise BadWorkbook(
            f"Không tìm thấy nhiệm vụ nào dưới dòng tiêu đề (trang tính “{name}”; {found}"
            "nhiệm vụ cần có số thứ tự 1, 2… trong cột STT)."
        )
    return plan
