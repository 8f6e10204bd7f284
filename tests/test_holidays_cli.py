"""The admin enters the year's government letter through `tiendo holidays`, on SQLite and
PostgreSQL: the list shows what the `holidays` package gives and what the overrides add, the
calendar the scheduler builds follows the table, nothing is overwritten silently, and bad dates
are refused in Vietnamese.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.commands.holidays import weekday
from scheduler.calendar import WorkingCalendar
from storage.db import create_engine, session_factory
from storage.models import AuditLog, HolidayOverride
from storage.repositories import holidays as store
from tests.test_import import db_rows

NOW = datetime(2023, 1, 10, 9, 0, tzinfo=UTC)


def calendar_in(url: str) -> WorkingCalendar:
    """The calendar as the scheduler builds it: the override table over the package."""

    async def load() -> WorkingCalendar:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                return WorkingCalendar(await store.working_overrides(session))
        finally:
            await engine.dispose()

    return asyncio.run(load())


def overrides_in(url: str) -> dict[date, tuple[bool, str]]:
    rows = db_rows(url, select(HolidayOverride))
    return {row.day: (row.is_working_day, row.note) for (row,) in rows}


def lines_with(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


def test_tet_2023_the_letter_and_a_make_up_saturday(run_cli, db_url: str) -> None:
    env = {"DATABASE_URL": db_url}

    before = run_cli("holidays", "list", "--year", "2023", env=env)
    assert before.code == 0, before.err
    assert "  20/01/2023  Thứ Sáu   nghỉ      29 Tết" in before.out
    assert "  23/01/2023  Thứ Hai   nghỉ      Mùng hai Tết Nguyên Đán" in before.out
    assert "  04/09/2023  Thứ Hai   nghỉ      Quốc khánh (nghỉ bù)" in before.out
    assert "17 ngày nghỉ theo lịch quốc gia, 0 điều chỉnh; cả năm có 249 ngày làm việc." in (
        before.out
    )
    assert "[điều chỉnh]" not in "".join(before.out.splitlines()[1:])

    off = run_cli("holidays", "add", "27/01/2023", "--off", "--note", "CV 123/UBND-VP", env=env)
    assert off.code == 0, off.err
    assert "Đã thêm điều chỉnh cho 27/01/2023 (Thứ Sáu): nghỉ — CV 123/UBND-VP." in off.out
    working = run_cli("holidays", "add", "4/2/2023", "--working", env=env)
    assert working.code == 0, working.err
    assert "04/02/2023 (Thứ Bảy): làm việc." in working.out

    after = run_cli("holidays", "list", "--year", "2023", env=env)
    assert after.code == 0, after.err
    assert lines_with(after.out, "27/01/2023") == [
        "  27/01/2023  Thứ Sáu   nghỉ      [điều chỉnh] — CV 123/UBND-VP"
    ]
    assert lines_with(after.out, "04/02/2023") == ["  04/02/2023  Thứ Bảy   làm việc  [điều chỉnh]"]
    assert "  26/01/2023  Thứ Năm   nghỉ      Mùng năm Tết Nguyên Đán" in after.out
    assert "17 ngày nghỉ theo lịch quốc gia, 2 điều chỉnh; cả năm có 249 ngày làm việc." in (
        after.out
    )

    assert overrides_in(db_url) == {
        date(2023, 1, 27): (False, "CV 123/UBND-VP"),
        date(2023, 2, 4): (True, ""),
    }
    calendar = calendar_in(db_url)
    assert calendar.next_working_day(date(2023, 1, 20)) == date(2023, 1, 30)
    assert calendar.is_working_day(date(2023, 2, 4))

    removed = run_cli("holidays", "remove", "04/02/2023", env=env)
    assert removed.code == 0, removed.err
    assert "Đã xoá điều chỉnh ngày 04/02/2023 (làm việc)" in removed.out
    assert "nghỉ (cuối tuần)" in removed.out
    assert date(2023, 2, 4) not in overrides_in(db_url)
    assert not calendar_in(db_url).is_working_day(date(2023, 2, 4))
    actions = [row.action for (row,) in db_rows(db_url, select(AuditLog).order_by(AuditLog.id))]
    assert actions == ["holiday.add", "holiday.add", "holiday.remove"]


def test_a_second_entry_for_a_day_is_never_written_over_silently(run_cli, db_url: str) -> None:
    env = {"DATABASE_URL": db_url}
    assert run_cli("holidays", "add", "27/01/2023", "--off", "--note", "CV 1", env=env).code == 0

    again = run_cli("holidays", "add", "27/01/2023", "--working", env=env)
    assert again.code == 1
    assert "Ngày 27/01/2023 đã có điều chỉnh: nghỉ — CV 1. Không ghi đè" in again.err
    assert "tiendo holidays remove 27/01/2023" in again.err and "--replace" in again.err
    assert "Traceback" not in again.err
    assert overrides_in(db_url) == {date(2023, 1, 27): (False, "CV 1")}

    same = run_cli("holidays", "add", "27/01/2023", "--off", "--note", "CV 1", "--replace", env=env)
    assert same.code == 0, same.err
    assert "không thay đổi gì" in same.out

    replaced = run_cli(
        "holidays", "add", "27/01/2023", "--working", "--note", "CV 2", "--replace", env=env
    )
    assert replaced.code == 0, replaced.err
    assert (
        "Đã thay điều chỉnh ngày 27/01/2023: trước là nghỉ — CV 1, nay là làm việc — CV 2."
        in replaced.out
    )
    assert overrides_in(db_url) == {date(2023, 1, 27): (True, "CV 2")}
    audit = [(row.action, row.details) for (row,) in db_rows(db_url, select(AuditLog))]
    assert audit[-1] == (
        "holiday.replace",
        {"working": True, "note": "CV 2", "before": {"working": False, "note": "CV 1"}},
    )
    assert len(audit) == 2  # the unchanged entry wrote nothing


def test_removing_is_refused_where_there_is_nothing_to_remove(run_cli, db_url: str) -> None:
    env = {"DATABASE_URL": db_url}
    holiday = run_cli("holidays", "remove", "22/01/2023", env=env)
    assert holiday.code == 1
    assert "Ngày 22/01/2023 không có điều chỉnh nào để xoá." in holiday.err
    assert "lịch quốc gia (Tết Nguyên Đán)" in holiday.err
    assert "tiendo holidays add 22/01/2023 --working" in holiday.err
    ordinary = run_cli("holidays", "remove", "14/03/2023", env=env)
    assert ordinary.code == 1
    assert ordinary.err.strip() == "Ngày 14/03/2023 không có điều chỉnh nào để xoá."


def test_an_entry_the_package_already_knows_is_kept_with_a_note(run_cli, sqlite_url: str) -> None:
    added = run_cli("holidays", "add", "24/01/2023", "--off", env={"DATABASE_URL": sqlite_url})
    assert added.code == 0, added.err
    assert "vốn đã như vậy (Mùng ba Tết Nguyên Đán)" in added.out
    listed = run_cli("holidays", "list", "--year", "2023", env={"DATABASE_URL": sqlite_url})
    assert lines_with(listed.out, "24/01/2023") == [
        "  24/01/2023  Thứ Ba    nghỉ      [điều chỉnh] (lịch quốc gia: Mùng ba Tết Nguyên Đán)"
    ]


def test_bad_dates_and_years_are_refused_in_vietnamese(run_cli, sqlite_url: str) -> None:
    env = {"DATABASE_URL": sqlite_url}
    for typed in ("31/02/2023", "2023-01-27", "27/13/2023", "27/01/23", "hôm nay", "27/01/3023"):
        refused = run_cli("holidays", "add", typed, "--off", env=env)
        assert refused.code == 1, typed
        assert refused.err.strip() == (
            f"“{typed}” không phải ngày hợp lệ. "
            "Nhập ngày theo dạng ngày/tháng/năm, ví dụ 27/01/2023."
        )
    assert run_cli("holidays", "remove", "30/02/2024", env=env).code == 1
    year = run_cli("holidays", "list", "--year", "hai nghìn", env=env)
    assert year.code == 1
    assert "“hai nghìn” không phải năm hợp lệ; cần một năm từ 1990 đến 2100" in year.err
    long_note = run_cli("holidays", "add", "27/01/2023", "--off", "--note", "x" * 201, env=env)
    assert long_note.code == 1 and "tối đa 200 ký tự" in long_note.err
    both = run_cli("holidays", "add", "27/01/2023", "--off", "--working", env=env)
    assert both.code == 2
    assert overrides_in(sqlite_url) == {}


def test_an_english_operator_reads_the_same_calendar(run_cli, sqlite_url: str) -> None:
    env = {"DATABASE_URL": sqlite_url, "DEFAULT_LANGUAGE": "en"}
    assert (
        run_cli("holidays", "add", "06/05/2024", "--off", "--note", "letter 9", env=env).code == 0
    )
    listed = run_cli("holidays", "list", "--year", "2024", env=env)
    assert listed.code == 0, listed.err
    assert "  04/05/2024  Saturday  working   make-up working day in the national calendar" in (
        listed.out
    )
    assert "  06/05/2024  Monday    off       [override] — letter 9" in listed.out
    assert "  10/02/2024  Saturday  off       Tết Nguyên Đán" in listed.out


async def add_as(session: Any, override: store.Override, actor: str) -> None:
    await store.add(session, override, replace=False, now=NOW, actor=actor)


async def test_two_admins_adding_one_day_at_once_keep_the_first_entry(db_url: str) -> None:
    """The second sees OverrideExists, never a silent overwrite, even when both looked first."""
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    written = asyncio.Event()
    day = date(2023, 1, 27)

    async def first() -> None:
        async with sessions() as session:
            await add_as(session, store.Override(day, False, "CV 1"), "a")
            written.set()
            await asyncio.sleep(0.3)  # the second looks and writes meanwhile
            await session.commit()

    async def second() -> store.OverrideExists | None:
        await written.wait()
        async with sessions() as session:
            try:
                await add_as(session, store.Override(day, True, "CV 2"), "b")
                await session.commit()
            except store.OverrideExists as exc:
                await session.rollback()
                return exc
        return None

    try:
        _, refused = await asyncio.gather(first(), second())
        async with sessions() as session:
            assert await store.working_overrides(session) == {day: False}
            assert [o.note for o in await store.in_year(session, 2023)] == ["CV 1"]
    finally:
        await engine.dispose()
    # Refused by the unique constraint: the second looked before the first committed.
    assert refused is not None and refused.day == day and refused.existing is None


def test_every_weekday_has_its_name_in_both_languages() -> None:
    monday = date(2023, 3, 13)
    week = [monday + timedelta(days=n) for n in range(7)]
    assert [weekday("vi", d) for d in week] == [
        "Thứ Hai",
        "Thứ Ba",
        "Thứ Tư",
        "Thứ Năm",
        "Thứ Sáu",
        "Thứ Bảy",
        "Chủ Nhật",
    ]
    assert weekday("en", week[6]) == "Sunday"
