"""The city's working calendar: which days are working days, and when the office is open.

A day is read in this order, the first rule that speaks deciding:
1. the override table (the year's government letter, entered by an admin): an extra day off,
   or a make-up working Saturday;
2. Vietnam's statutory holidays from the `holidays` package (lunar Tết, Giỗ Tổ Hùng Vương, 30/4,
   1/5, 2/9 and their substitute days);
3. the make-up working weekend days the package knows (e.g. Saturday 04/05/2024);
4. Monday to Friday work, Saturday and Sunday are off.

Everything here is pure: "today" and "now" are passed in, never read from the clock. Moments
are aware datetimes; what this module returns is UTC, and office hours are read in the city's
time zone, only at the edge of each computation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

CITY_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
OfficeHours = tuple[tuple[time, time], ...]
# Winter hours of many Vietnamese offices (practice): the default of OFFICE_HOURS.
DEFAULT_OFFICE_HOURS_TEXT = "07:30-11:30,13:30-16:30"
# No real calendar goes this long without a working day; reaching it means the overrides are
# wrong (every day marked off), and a clear error beats an endless loop.
SEARCH_LIMIT_DAYS = 400

_PERIOD = re.compile(r"^\s*(\d{1,2})[:h](\d{2})\s*-\s*(\d{1,2})[:h](\d{2})\s*$")


def parse_office_hours(text: str) -> OfficeHours:
    """ "07:30-11:30,13:30-16:30" as ((07:30, 11:30), (13:30, 16:30)); ValueError (in
    Vietnamese, for the settings' message) unless the periods are well formed, each starting
    before it ends, in order and not overlapping."""
    periods: list[tuple[time, time]] = []
    for item in text.split(","):
        match = _PERIOD.match(item)
        if not match:
            raise ValueError(
                f"“{item.strip()}” không đúng dạng giờ làm việc; cần các khoảng GIỜ:PHÚT-GIỜ:PHÚT "
                f"cách nhau bởi dấu phẩy, ví dụ {DEFAULT_OFFICE_HOURS_TEXT}"
            )
        h1, m1, h2, m2 = (int(part) for part in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(f"“{item.strip()}”: giờ phải từ 00:00 đến 23:59")
        periods.append((time(h1, m1), time(h2, m2)))
    check_office_hours(periods)
    return tuple(periods)


def check_office_hours(periods: Sequence[tuple[time, time]]) -> None:
    """ValueError unless there is at least one period, each starts before it ends, and they
    come in order without overlapping."""
    if not periods:
        raise ValueError("cần ít nhất một khoảng giờ làm việc")
    previous_end: time | None = None
    for start, end in periods:
        if start >= end:
            raise ValueError(f"{start:%H:%M}-{end:%H:%M}: giờ bắt đầu phải trước giờ kết thúc")
        if previous_end is not None and start < previous_end:
            raise ValueError(
                f"{start:%H:%M}-{end:%H:%M}: các khoảng giờ phải theo thứ tự và không chồng nhau"
            )
        previous_end = end


DEFAULT_OFFICE_HOURS = parse_office_hours(DEFAULT_OFFICE_HOURS_TEXT)


@dataclass(frozen=True)
class StatutoryYear:
    """What the `holidays` package says of one year: the days off with their Vietnamese names,
    and the weekend days it makes working days (the Saturday swapped for a bridge day)."""

    days_off: Mapping[date, str]
    working_weekend_days: frozenset[date]


@cache
def statutory_year(year: int) -> StatutoryYear:
    """Vietnam's statutory holidays of `year`, from the `holidays` package, names in Vietnamese.

    The package lists the statutory days and some swaps; each year's letter for civil servants
    may add more (Tết is often longer), which is what the override table is for."""
    country = holidays.country_holidays("VN", years=year, language="vi")
    # `weekend_workdays` is public in recent versions of the package; older ones lack it.
    working: set[date] = getattr(country, "weekend_workdays", set())
    return StatutoryYear(
        days_off=dict(sorted(country.items())),
        working_weekend_days=frozenset(d for d in working if d.year == year),
    )


def is_weekend(day: date) -> bool:
    return day.weekday() >= 5


class WorkingCalendar:
    """Working days and office hours of the city: the statutory calendar, corrected by the
    override table (`overrides[day]` is True for a make-up working day, False for a day off)."""

    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        office_hours: Sequence[tuple[time, time]] = DEFAULT_OFFICE_HOURS,
        tz: ZoneInfo = CITY_TZ,
    ) -> None:
        check_office_hours(office_hours)
        self.overrides: Mapping[date, bool] = dict(overrides or {})
        self.office_hours: OfficeHours = tuple(office_hours)
        self.tz = tz
        self._known: dict[date, bool] = {}  # day → working: scans ask about the same days

    # --- days ---------------------------------------------------------------------------

    def holiday_name(self, day: date) -> str | None:
        """The statutory holiday's Vietnamese name ("Mùng hai Tết Nguyên Đán"), or None."""
        return statutory_year(day.year).days_off.get(day)

    def is_working_day(self, day: date) -> bool:
        """Whether `day` is a working day (the module's rules, overrides first)."""
        known = self._known.get(day)
        if known is None:
            known = self._known[day] = self._decide(day)
        return known

    def _decide(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        year = statutory_year(day.year)
        if day in year.days_off:
            return False
        if day in year.working_weekend_days:
            return True
        return not is_weekend(day)

    def next_working_day(self, day: date) -> date:
        """`day` itself when it is a working day, else the first working day after it."""
        return next(self._working_days(day, step=1))

    def previous_working_day(self, day: date) -> date:
        """`day` itself when it is a working day, else the last working day before it."""
        return next(self._working_days(day, step=-1))

    def effective_due(self, due_date: date) -> date:
        """The day a deadline really falls on: a due date on a day off counts as the next
        working day (practice: nobody can hand in a report on a holiday)."""
        return self.next_working_day(due_date)

    def add_working_days(self, day: date, n: int) -> date:
        """The `n`-th working day after `day` (before it when `n` is negative); `day` itself
        when `n` is 0. `day` need not be a working day: 1 working day after Saturday is Monday,
        and 1 working day before it is Friday."""
        if n == 0:
            return day
        step = 1 if n > 0 else -1
        days = self._working_days(day + timedelta(days=step), step=step)
        for _ in range(abs(n) - 1):
            next(days)
        return next(days)

    def working_days_between(self, start: date, end: date) -> int:
        """The working days after `start` up to and including `end` (negative when `end` comes
        first): from a Friday due date to the Tuesday after, 2 working days overdue."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(
            1
            for offset in range(1, (end - start).days + 1)
            if self.is_working_day(start + timedelta(days=offset))
        )

    def _working_days(self, first: date, step: int) -> Iterator[date]:
        """Working days from `first` (included) onwards, or backwards when `step` is -1."""
        day = first
        searched = 0
        while True:
            if self.is_working_day(day):
                searched = 0
                yield day
            searched += 1
            if searched > SEARCH_LIMIT_DAYS:
                raise ValueError(f"no working day within {SEARCH_LIMIT_DAYS} days of {day}")
            day += timedelta(days=step)

    # --- office hours --------------------------------------------------------------------

    def is_open(self, moment: datetime) -> bool:
        """Whether the office is open at `moment` (aware): a working day, within a period
        (its start included, its end excluded)."""
        local = _aware(moment).astimezone(self.tz)
        if not self.is_working_day(local.date()):
            return False
        return any(start <= local.time() < end for start, end in self.office_hours)

    def next_opening(self, moment: datetime) -> datetime:
        """When a message due at `moment` may go out, in UTC: `moment` itself while the office
        is open, else the start of the next period on a working day (22:00 → 07:30 the next
        working day; 12:00 in the lunch break → 13:30)."""
        moment = _aware(moment)
        if self.is_open(moment):
            return moment.astimezone(UTC)
        local = moment.astimezone(self.tz)
        for day in self._working_days(local.date(), step=1):
            for start, _end in self.office_hours:
                opening = datetime.combine(day, start, tzinfo=self.tz)
                if opening > local:
                    return opening.astimezone(UTC)
        raise AssertionError("unreachable: _working_days never ends")  # pragma: no cover


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a moment needs its time zone: {moment.isoformat()}")
    return moment
