"""Turning the "Thời gian thực hiện" cell of a plan into a due date or the ongoing flag.

The wordings are those of real appendices (domain.md): quarters, years, months, explicit dates,
multi-year periods, and "thường xuyên"/"hằng năm" for tasks with no final deadline. When a cell
names several periods ("Quý I, Quý II/2022"), the latest one is the deadline.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from storage.textfold import strip_marks

MIN_YEAR, MAX_YEAR = 2000, 2100
# Excel counts days from 30/12/1899 (its calendar's day 0, after its 1900 leap-year slip).
EXCEL_EPOCH = date(1899, 12, 30)
_SERIAL_MIN = (date(MIN_YEAR, 1, 1) - EXCEL_EPOCH).days
_SERIAL_MAX = (date(MAX_YEAR, 12, 31) - EXCEL_EPOCH).days
ROMAN_QUARTERS = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
ONGOING_WORDS = ("thuong xuyen", "hang nam", "lien tuc", "dinh ky", "hang quy", "hang thang")


class DeadlineError(ValueError):
    """The cell cannot be read as a deadline; the message says why, in Vietnamese."""


@dataclass(frozen=True)
class Deadline:
    due_date: date | None
    ongoing: bool
    text: str


def parse_deadline(value: object) -> Deadline:
    """Read a deadline cell (text, date, datetime or a year number)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return Deadline(None, False, "")
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return Deadline(value, False, value.strftime("%d/%m/%Y"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_number(value)
    text = " ".join(str(value).split())
    return _parse_text(text)


def _from_number(value: float) -> Deadline:
    """A year ("2023"), or a date Excel keeps as its day count when the cell lost its date
    format (45107 is 30/06/2023)."""
    if float(value).is_integer() and MIN_YEAR <= int(value) <= MAX_YEAR:
        return Deadline(date(int(value), 12, 31), False, str(int(value)))
    if float(value).is_integer() and _SERIAL_MIN <= int(value) <= _SERIAL_MAX:
        day = EXCEL_EPOCH + timedelta(days=int(value))
        return Deadline(day, False, day.strftime("%d/%m/%Y"))
    raise DeadlineError(f"không đọc được thời hạn từ số {value}")


def _parse_text(text: str) -> Deadline:
    folded = strip_marks(text).replace("–", "-").replace("—", "-")
    if any(word in folded for word in ONGOING_WORDS):
        return Deadline(None, True, text)
    candidates = _all_dates(folded)
    if not candidates:
        raise DeadlineError(
            f"không đọc được thời hạn “{text}” (ví dụ hợp lệ: 30/6/2022, Tháng 6/2022, "
            "Quý IV/2022, Năm 2022, 2022-2025, Thường xuyên)"
        )
    return Deadline(max(candidates), False, text)


def _all_dates(folded: str) -> list[date]:
    """Every period end named in the folded text; consumed spans are blanked to avoid re-reading."""
    found: list[date] = []
    remaining = _LABEL.sub(" ", folded)
    for pattern, reader in _READERS:

        def take(match: re.Match[str], reader=reader) -> str:
            found.extend(reader(match))
            return " " * len(match.group(0))

        remaining = pattern.sub(take, remaining)
    found += _days_of_named_year(remaining, found)
    remaining = _DAY_MONTH.sub(" ", remaining)
    leftovers = re.findall(r"\d+", remaining)
    if leftovers:
        raise DeadlineError(f"không hiểu phần “{' '.join(leftovers)}” trong thời hạn")
    return found


def _days_of_named_year(text: str, found: list[date]) -> list[date]:
    """Days written without a year ("Năm 2023 (trước 30/9)") fall in the latest year the cell
    names; with no year named, the cell cannot say which."""
    days = list(_DAY_MONTH.finditer(text))
    if not days:
        return []
    if not found:
        shown = days[0].group(0).strip()
        raise DeadlineError(f"ngày “{shown}” không ghi năm (ví dụ: 30/6/2023)")
    year = max(found).year
    return [_day(year, int(match["m"]), int(match["d"])) for match in days]


def _year(text: str) -> int:
    year = int(text)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise DeadlineError(f"năm {year} nằm ngoài khoảng {MIN_YEAR}–{MAX_YEAR}")
    return year


def _day(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise DeadlineError(f"ngày {day:02d}/{month:02d}/{year} không tồn tại") from None


def _month_end(year: int, month: int) -> date:
    if not 1 <= month <= 12:
        raise DeadlineError(f"tháng {month} không tồn tại")
    return date(year, month, calendar.monthrange(year, month)[1])


def _full_date(match: re.Match[str]) -> list[date]:
    return [_day(_year(match["y"]), int(match["m"]), int(match["d"]))]


def _quarters(match: re.Match[str]) -> list[date]:
    year = _year(match["y"])
    ends = []
    for token in re.findall(r"\b(?:[ivx]+|\d+)\b", re.sub(r"\bq(?:uy)?", " ", match["qs"])):
        quarter = ROMAN_QUARTERS.get(token) or (int(token) if token.isdigit() else 0)
        if not 1 <= quarter <= 4:
            raise DeadlineError(f"quý “{token.upper()}” không tồn tại (chỉ có quý I–IV)")
        ends.append(_month_end(year, quarter * 3))
    return ends


def _half_year(match: re.Match[str]) -> list[date]:
    year = _year(match["y"])
    return [date(year, 6, 30) if match["half"] == "dau" else date(year, 12, 31)]


def _months(match: re.Match[str]) -> list[date]:
    year = _year(match["y"])
    return [_month_end(year, int(month)) for month in re.findall(r"\d+", match["ms"])]


def _month_year(match: re.Match[str]) -> list[date]:
    return [_month_end(_year(match["y"]), int(match["m"]))]


def _years(match: re.Match[str]) -> list[date]:
    return [date(_year(year), 12, 31) for year in re.findall(r"\d{4}", match.group(0))]


_YEAR_TAIL = r"\s*(?:[/\-,]|nam)?\s*(?P<y>\d{4})"
# A number after "đợt", "giai đoạn", "bước" … counts steps, it is no date ("Quý II/2023 (đợt 1)").
_LABEL = re.compile(r"\b(?:dot|giai doan|buoc|lan|ky|phan|muc)\s*\d{1,2}\b(?!\s*[/.\-]\s*\d)")
_DAY_MONTH = re.compile(r"(?<![\d/.\-])(?P<d>\d{1,2})\s*/\s*(?P<m>\d{1,2})(?![\d/.\-])")
_READERS = [
    # One separator throughout ("30/6/2022", "30-6-2022", "30.6.2022"): "Tháng 3-6/2023" is a
    # span of months, not the 3rd of June.
    (
        re.compile(
            r"(?<!\d)(?P<d>\d{1,2})\s*(?P<sep>[/.\-])\s*(?P<m>\d{1,2})\s*(?P=sep)\s*"
            r"(?P<y>\d{4})(?!\d)"
        ),
        _full_date,
    ),
    # "ngày 15 tháng 12 năm 2023", as a decision writes a date out.
    (
        re.compile(r"(?<!\d)(?P<d>\d{1,2})\s*thang\s*(?P<m>\d{1,2})\s*(?:nam|/)\s*(?P<y>\d{4})"),
        _full_date,
    ),
    (
        re.compile(
            rf"\b(?:quy|q)\s*(?P<qs>(?:[ivx]+|\d)(?:\s*(?:,|va|-|&|;)\s*(?:quy|q)?\s*(?:[ivx]+|\d))*)"
            rf"{_YEAR_TAIL}"
        ),
        _quarters,
    ),
    (re.compile(r"\b6\s*thang\s*(?P<half>dau|cuoi)\s*(?:nam)?\s*(?P<y>\d{4})"), _half_year),
    (
        re.compile(
            rf"\b(?:thang|t)\s*(?P<ms>\d{{1,2}}(?:\s*(?:,|va|-|;)\s*(?:thang)?\s*\d{{1,2}})*)"
            rf"{_YEAR_TAIL}"
        ),
        _months,
    ),
    (re.compile(r"(?<![\d/])(?P<m>\d{1,2})\s*/\s*(?P<y>\d{4})(?!\d)"), _month_year),
    (re.compile(r"(?<!\d)\d{4}(?:\s*-\s*\d{4})?(?!\d)"), _years),
]
