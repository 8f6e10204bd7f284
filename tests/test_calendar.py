"""The city's working calendar, read with chosen days and moments (never the clock).

Tết 2023 from the `holidays` package, a longer break and a make-up Saturday from the override
table, deadlines on holidays, and messages held until the office opens.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from scheduler.calendar import (
    CITY_TZ,
    DEFAULT_OFFICE_HOURS,
    WorkingCalendar,
    parse_office_hours,
    statutory_year,
)

D = date


def at(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A moment in Hai Phong."""
    return datetime(year, month, day, hour, minute, tzinfo=CITY_TZ)


def test_tet_2023_is_the_packages_week_off_with_its_vietnamese_names() -> None:
    calendar = WorkingCalendar()
    tet = [D(2023, 1, n) for n in range(20, 27)]  # Friday 20 to Thursday 26
    assert [calendar.is_working_day(day) for day in tet] == [False] * 7
    assert calendar.holiday_name(D(2023, 1, 22)) == "Tết Nguyên Đán"
    assert calendar.holiday_name(D(2023, 1, 23)) == "Mùng hai Tết Nguyên Đán"
    assert calendar.holiday_name(D(2023, 1, 27)) is None
    assert calendar.is_working_day(D(2023, 1, 19)) and calendar.is_working_day(D(2023, 1, 27))
    assert calendar.next_working_day(D(2023, 1, 20)) == D(2023, 1, 27)
    # Thursday 19 to Monday 30: only Friday 27 works in between.
    assert calendar.working_days_between(D(2023, 1, 19), D(2023, 1, 30)) == 2


def test_an_extra_day_off_from_the_letter_stretches_tet() -> None:
    calendar = WorkingCalendar({D(2023, 1, 27): False})
    assert not calendar.is_working_day(D(2023, 1, 27))
    assert calendar.next_working_day(D(2023, 1, 20)) == D(2023, 1, 30)
    assert calendar.working_days_between(D(2023, 1, 19), D(2023, 1, 30)) == 1
    assert calendar.add_working_days(D(2023, 1, 19), 1) == D(2023, 1, 30)
    # A reminder 3 working days ahead of Wednesday 01/02 falls before Tết.
    assert calendar.add_working_days(D(2023, 2, 1), -3) == D(2023, 1, 19)


def test_a_make_up_saturday_from_the_override_table_is_a_working_day() -> None:
    saturday = D(2023, 2, 4)
    calendar = WorkingCalendar({saturday: True})
    assert calendar.is_working_day(saturday)
    assert not WorkingCalendar().is_working_day(saturday)
    assert calendar.add_working_days(D(2023, 2, 3), 1) == saturday
    assert calendar.is_open(at(2023, 2, 4, 8, 0))
    assert calendar.next_opening(at(2023, 2, 3, 17, 0)) == at(2023, 2, 4, 7, 30)


def test_the_packages_own_swap_of_2024_is_followed() -> None:
    """Monday 29/04/2024 off, worked on Saturday 04/05/2024 instead."""
    calendar = WorkingCalendar()
    assert not calendar.is_working_day(D(2024, 4, 29))
    assert calendar.is_working_day(D(2024, 5, 4))
    assert D(2024, 5, 4) in statutory_year(2024).working_weekend_days
    # The table still has the last word: this office kept the Saturday off.
    assert not WorkingCalendar({D(2024, 5, 4): False}).is_working_day(D(2024, 5, 4))


def test_an_override_beats_the_statutory_calendar() -> None:
    calendar = WorkingCalendar({D(2023, 1, 2): True})  # the substitute day worked after all
    assert calendar.is_working_day(D(2023, 1, 2))
    assert calendar.holiday_name(D(2023, 1, 2)) == "Tết Dương lịch (nghỉ bù)"


@pytest.mark.parametrize(
    ("due", "effective"),
    [
        (D(2023, 4, 30), D(2023, 5, 4)),  # Sunday 30/4, then 1/5 and two substitute days
        (D(2023, 9, 2), D(2023, 9, 5)),  # Saturday 2/9, then the substitute Monday
        (D(2023, 1, 21), D(2023, 1, 27)),  # Tết's eve
        (D(2023, 3, 11), D(2023, 3, 13)),  # an ordinary Saturday
        (D(2023, 3, 14), D(2023, 3, 14)),  # a working day stays
    ],
)
def test_a_due_date_on_a_day_off_moves_to_the_next_working_day(due: date, effective: date) -> None:
    assert WorkingCalendar().effective_due(due) == effective


def test_days_overdue_count_working_days_only() -> None:
    calendar = WorkingCalendar()
    due = calendar.effective_due(D(2023, 4, 28))  # Friday before the long weekend
    assert calendar.working_days_between(due, D(2023, 5, 4)) == 1
    assert calendar.working_days_between(due, D(2023, 5, 8)) == 3
    assert calendar.working_days_between(D(2023, 5, 8), due) == -3
    assert calendar.working_days_between(due, due) == 0


def test_a_message_due_at_friday_night_goes_out_monday_at_7_30() -> None:
    calendar = WorkingCalendar()
    friday_night = at(2023, 3, 10, 22, 0)
    assert not calendar.is_open(friday_night)
    opening = calendar.next_opening(friday_night)
    assert opening == datetime(2023, 3, 13, 0, 30, tzinfo=UTC)  # 07:30 in Hai Phong
    assert opening.tzinfo == UTC
    assert calendar.next_opening(friday_night.astimezone(UTC)) == opening


def test_a_saturday_before_a_holiday_monday_waits_for_tuesday() -> None:
    """Monday 02/01/2023 is New Year's substitute day."""
    assert WorkingCalendar().next_opening(at(2022, 12, 31, 9, 0)) == at(2023, 1, 3, 7, 30)


def test_the_lunch_break_and_the_evening_wait_for_the_next_period() -> None:
    calendar = WorkingCalendar()
    assert calendar.next_opening(at(2023, 3, 14, 12, 0)) == at(2023, 3, 14, 13, 30)
    assert calendar.next_opening(at(2023, 3, 14, 11, 30)) == at(2023, 3, 14, 13, 30)
    assert calendar.next_opening(at(2023, 3, 14, 16, 30)) == at(2023, 3, 15, 7, 30)
    assert calendar.next_opening(at(2023, 3, 14, 6, 0)) == at(2023, 3, 14, 7, 30)
    open_moment = at(2023, 3, 14, 13, 30)
    assert calendar.is_open(open_moment) and calendar.next_opening(open_moment) == open_moment
    assert calendar.is_open(at(2023, 3, 14, 11, 29)) and not calendar.is_open(
        at(2023, 3, 14, 11, 30)
    )


def test_a_night_before_tet_waits_until_the_office_reopens_after_it() -> None:
    calendar = WorkingCalendar({D(2023, 1, 27): False})
    assert calendar.next_opening(at(2023, 1, 19, 20, 0)) == at(2023, 1, 30, 7, 30)


def test_office_hours_and_zone_are_parameters() -> None:
    summer = parse_office_hours("07:00-11:30, 13:30-17:00")
    calendar = WorkingCalendar(office_hours=summer, tz=ZoneInfo("Asia/Ho_Chi_Minh"))
    assert calendar.is_open(at(2023, 6, 14, 16, 45))
    assert calendar.next_opening(at(2023, 6, 14, 5, 0)) == at(2023, 6, 14, 7, 0)
    # In another zone the same UTC moment is another local hour.
    ten_utc = datetime(2023, 6, 14, 10, 0, tzinfo=UTC)  # 17:00 in Hai Phong
    assert WorkingCalendar(tz=ZoneInfo("UTC")).is_open(ten_utc)
    assert not calendar.is_open(ten_utc)
    assert ((time(7, 30), time(11, 30)), (time(13, 30), time(16, 30))) == DEFAULT_OFFICE_HOURS


def test_a_moment_without_its_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        WorkingCalendar().next_opening(datetime(2023, 3, 10, 22, 0))


@pytest.mark.parametrize(
    "text",
    ["", "07:30", "11:30-07:30", "07:30-11:30,11:00-16:30", "25:00-26:00", "7.30-11.30"],
)
def test_office_hours_that_make_no_sense_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_office_hours(text)


def test_office_hours_in_the_office_s_own_writing() -> None:
    assert parse_office_hours("7h30-11h30,13h30-16h30") == DEFAULT_OFFICE_HOURS
