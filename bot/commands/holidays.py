"""`tiendo holidays list|add|remove`: the year's days off and make-up working days.

The statutory holidays come from the `holidays` package; each year's government letter (a longer
Tết for civil servants, a Saturday swapped for a bridge day) is entered here, day by day, into
the override table. `list` shows both, each override marked as such. Dates are typed and printed
dd/mm/yyyy; a day that already has an override is never overwritten silently: `add` refuses it
unless `--replace` is given.

Checked against holidays 0.109: the package already has the civil-service Tết breaks of
domain.md for 2022–2026 (20–26/01/2023 and 08–14/02/2024 exactly; in 2022, 2025 and 2026 the
letter's longer span adds only weekend days) and the 2024 and 2025 swapped Saturdays (04/05/2024,
26/04/2025). What it lacks is whatever a year's letter or the city decides beyond that: those
days go into the table, and nothing is shipped as a default row.
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.app import open_app
from bot.config import Settings
from bot.errors import UserError
from handlers.i18n import day as day_text
from handlers.i18n import t
from scheduler.calendar import WorkingCalendar, is_weekend, statutory_year
from storage import migrate
from storage.db import session_scope
from storage.repositories import holidays as store
from storage.repositories.holidays import NOTE_MAX, Override, OverrideExists

ACTOR = "cli"
# Years an operator may mean; anything else is a typo ("27/01/203", "2203").
FIRST_YEAR, LAST_YEAR = 1990, 2100
_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")


def register(subparsers: Any, lang: str) -> None:
    parser = subparsers.add_parser("holidays", help=t(lang, "cli_holidays_help"))
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help=t(lang, "cli_holidays_list_help"))
    listing.add_argument("--year", help=t(lang, "cli_holidays_year_help"))
    listing.set_defaults(func=list_year)
    add = actions.add_parser("add", help=t(lang, "cli_holidays_add_help"))
    add.add_argument("date", help=t(lang, "cli_holidays_date_help"))
    kind = add.add_mutually_exclusive_group(required=True)
    kind.add_argument("--off", action="store_true", help=t(lang, "cli_holidays_off_help"))
    kind.add_argument("--working", action="store_true", help=t(lang, "cli_holidays_working_help"))
    add.add_argument("--note", default="", help=t(lang, "cli_holidays_note_help"))
    add.add_argument("--replace", action="store_true", help=t(lang, "cli_holidays_replace_help"))
    add.set_defaults(func=add_one)
    remove = actions.add_parser("remove", help=t(lang, "cli_holidays_remove_help"))
    remove.add_argument("date", help=t(lang, "cli_holidays_date_help"))
    remove.set_defaults(func=remove_one)


def parse_day(text: str, lang: str) -> date:
    """A date typed dd/mm/yyyy (or d/m/yyyy); anything else is refused with the expected form."""
    match = _DATE.match(text)
    try:
        if not match:
            raise ValueError(text)
        day_, month, year = (int(part) for part in match.groups())
        parsed = date(year, month, day_)
    except ValueError:
        raise UserError(t(lang, "cli_holidays_bad_date", text=text.strip())) from None
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise UserError(t(lang, "cli_holidays_bad_date", text=text.strip()))
    return parsed


def parse_year(text: str | None, settings: Settings) -> int:
    """The year asked for; this year in the city's time zone when none is."""
    if text is None:
        return datetime.now(settings.tz).year
    year = int(text) if text.strip().isdigit() else 0
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise UserError(
            t(
                settings.default_language,
                "cli_holidays_bad_year",
                text=text.strip(),
                first=FIRST_YEAR,
                last=LAST_YEAR,
            )
        )
    return year


def clean_note(text: str, lang: str) -> str:
    note = " ".join(text.split())
    if len(note) > NOTE_MAX:
        raise UserError(t(lang, "cli_holidays_note_too_long", length=len(note), limit=NOTE_MAX))
    return note


# --- list ---------------------------------------------------------------------------------


async def list_year(args: argparse.Namespace, settings: Settings) -> int:
    lang = settings.default_language
    year = parse_year(args.year, settings)
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        async with app.sessions() as session:
            overrides = await store.in_year(session, year)
    for line in year_lines(year, overrides, lang):
        print(line)
    return 0


def year_lines(year: int, overrides: list[Override], lang: str) -> list[str]:
    """The heading, one line per special day (statutory or overridden) in date order, the
    year's count of working days, and how to add what the package does not know."""
    statutory = statutory_year(year)
    by_day = {o.day: o for o in overrides}
    calendar = WorkingCalendar({o.day: o.is_working_day for o in overrides})
    days = sorted({*statutory.days_off, *statutory.working_weekend_days, *by_day})
    lines = [t(lang, "cli_holidays_heading", year=year)]
    for day in days:
        lines.append(
            t(
                lang,
                "cli_holidays_line",
                day=day_text(day),
                weekday=weekday(lang, day),
                state=state_word(lang, calendar.is_working_day(day)),
                label=day_label(lang, day, by_day.get(day)),
            )
        )
    working = sum(
        calendar.is_working_day(date(year, 1, 1) + timedelta(days=n))
        for n in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)
    )
    lines.append(
        t(
            lang,
            "cli_holidays_summary",
            statutory=len(statutory.days_off),
            overrides=len(overrides),
            working=working,
        )
    )
    lines.append(t(lang, "cli_holidays_hint"))
    return lines


def day_label(lang: str, day: date, override: Override | None) -> str:
    """What the package calls the day; for an override, its mark and note, then the package's
    word for the day when it has one (so a change to a statutory day shows what it replaces)."""
    statutory = statutory_label(lang, day)
    if override is None:
        return statutory or ""
    label = t(lang, "cli_holidays_override_mark")
    if override.note:
        label = t(lang, "cli_holidays_with_note", text=label, note=override.note)
    if statutory:
        label = t(lang, "cli_holidays_over_statutory", text=label, statutory=statutory)
    return label


def statutory_label(lang: str, day: date) -> str | None:
    year = statutory_year(day.year)
    if day in year.days_off:
        return year.days_off[day]
    if day in year.working_weekend_days:
        return t(lang, "cli_holidays_package_working")
    return None


def weekday(lang: str, day: date) -> str:
    return t(lang, f"cli_holidays_weekday_{day.weekday()}")


def state_word(lang: str, working: bool) -> str:
    return t(lang, "cli_holidays_working" if working else "cli_holidays_off")


# --- add and remove -----------------------------------------------------------------------


async def add_one(args: argparse.Namespace, settings: Settings) -> int:
    lang = settings.default_language
    wanted = Override(parse_day(args.date, lang), bool(args.working), clean_note(args.note, lang))
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        try:
            async with session_scope(app.sessions) as session:
                before = await store.add(
                    session, wanted, replace=args.replace, now=datetime.now(UTC), actor=ACTOR
                )
        except OverrideExists as exc:
            raise UserError(exists_text(lang, exc)) from None
    print(added_text(lang, wanted, before))
    if before is None and WorkingCalendar().is_working_day(wanted.day) == wanted.is_working_day:
        print(t(lang, "cli_holidays_already_so", reason=usual_reason(lang, wanted.day)))
    return 0


def exists_text(lang: str, exc: OverrideExists) -> str:
    day = day_text(exc.day)
    if exc.existing is None:
        return t(lang, "cli_holidays_exists_race", day=day, year=exc.day.year)
    return t(lang, "cli_holidays_exists", day=day, entry=entry_text(lang, exc.existing))


def added_text(lang: str, wanted: Override, before: Override | None) -> str:
    day = day_text(wanted.day)
    if before is None:
        return t(
            lang,
            "cli_holidays_added",
            day=day,
            weekday=weekday(lang, wanted.day),
            entry=entry_text(lang, wanted),
        )
    if before == wanted:
        return t(lang, "cli_holidays_unchanged", day=day, entry=entry_text(lang, wanted))
    return t(
        lang,
        "cli_holidays_replaced",
        day=day,
        before=entry_text(lang, before),
        after=entry_text(lang, wanted),
    )


def entry_text(lang: str, override: Override) -> str:
    """ "nghỉ — Công văn 123/…" or "làm việc"."""
    state = state_word(lang, override.is_working_day)
    if not override.note:
        return state
    return t(lang, "cli_holidays_with_note", text=state, note=override.note)


def usual_reason(lang: str, day: date) -> str:
    """Why the statutory calendar alone already makes `day` what it is."""
    return statutory_label(lang, day) or t(
        lang, "cli_holidays_weekend" if is_weekend(day) else "cli_holidays_weekday"
    )


async def remove_one(args: argparse.Namespace, settings: Settings) -> int:
    lang = settings.default_language
    day = parse_day(args.date, lang)
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        async with session_scope(app.sessions) as session:
            removed = await store.remove(session, day, now=datetime.now(UTC), actor=ACTOR)
    usual = WorkingCalendar().is_working_day(day)
    if removed is None:
        message = t(lang, "cli_holidays_nothing_to_remove", day=day_text(day))
        name = statutory_year(day.year).days_off.get(day)
        if name:
            message += " " + t(lang, "cli_holidays_statutory_stays", day=day_text(day), name=name)
        raise UserError(message)
    print(
        t(
            lang,
            "cli_holidays_removed",
            day=day_text(day),
            entry=entry_text(lang, removed),
            state=state_word(lang, usual),
            reason=usual_reason(lang, day),
        )
    )
    return 0
