"""/lich: what the bot does on its own, and when it next does it, for an admin.

The reminder scan, the weekly digest and the monthly report call, each with its next run as it
will really happen: the next fire of the jobs' own triggers (scheduler.jobs) read against the
city's working calendar with the override table (a scan on a day off decides nothing, so the
next scan shown is the next one on a working day; a digest due on a day off is still decided
then and waits for the next opening). Then the reminder rules in words, the office hours, and
the days off to come. Admins only, in private: it names the committee groups' count only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from apscheduler.triggers.cron import CronTrigger

from handlers.context import Ctx
from handlers.events import Reply
from handlers.feature import Command, Feature, Where, Who, allow
from handlers.i18n import day
from scheduler.calendar import SEARCH_LIMIT_DAYS, WorkingCalendar
from scheduler.jobs import digest_trigger, scan_trigger, working_calendar
from scheduler.reminder_rules import ReminderRules
from storage.repositories import bound_chats, holidays

AHEAD_DAYS = 60  # how far the days off are looked for
SHOWN_DAYS = 10  # at most this many of them listed


@dataclass(frozen=True)
class ScanDay:
    """The next scan that decides something, and its day's first and last scans."""

    first: datetime
    day_first: datetime
    day_last: datetime
    every_minutes: int


def next_scan(trigger: CronTrigger, calendar: WorkingCalendar, now: datetime) -> ScanDay:
    """The trigger's next fire on a working day (the scan decides nothing on a day off)."""
    moment = now
    for _ in range(SEARCH_LIMIT_DAYS):
        fire = trigger.get_next_fire_time(None, moment)
        local = fire.astimezone(calendar.tz)
        if calendar.is_working_day(local.date()):
            return _scan_day(trigger, fire, calendar)
        moment = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=calendar.tz)
    # Only when the overrides mark every day off for more than a year (as the calendar does).
    raise LookupError(f"{now:%Y-%m-%d}")


def _scan_day(trigger: CronTrigger, fire: datetime, calendar: WorkingCalendar) -> ScanDay:
    local_day = fire.astimezone(calendar.tz).date()
    start = datetime.combine(local_day, time(0), tzinfo=calendar.tz)
    fires = []
    moment = trigger.get_next_fire_time(None, start)
    while moment is not None and moment.astimezone(calendar.tz).date() == local_day:
        fires.append(moment)
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    every = int((fires[1] - fires[0]).total_seconds() // 60) if len(fires) > 1 else 0
    return ScanDay(fire, fires[0], fires[-1], every)


def next_report_days(
    calendar: WorkingCalendar, rules: ReminderRules, today: date
) -> tuple[date, date, date]:
    """The next monthly call (from `today` on), its due day, and the day the units still silent
    are listed to the committee: as scheduler.reminders decides them (a day off moves to the
    next working day; the listing is the working day after the due day)."""
    month = today.replace(day=1)
    while True:
        call = calendar.effective_due(month.replace(day=rules.report_call_day))
        if call >= today:
            due = calendar.effective_due(month.replace(day=rules.report_due_day))
            return call, due, calendar.add_working_days(due, 1)
        month = (month + timedelta(days=32)).replace(day=1)


async def schedule(ctx: Ctx) -> list[Reply]:
    calendar = await working_calendar(ctx.session, ctx.config)
    groups = len(await bound_chats.committee_groups(ctx.session))
    lines = [ctx.t("schedule_title", now=_moment(ctx, ctx.now), tz=ctx.config.tz.key)]
    lines += ["", *_office(ctx, calendar)]
    lines += ["", *_scan(ctx, calendar), *_rules(ctx)]
    lines += ["", *_digest(ctx, calendar, groups)]
    lines += ["", *_reports(ctx, calendar)]
    lines += ["", *await _days_off(ctx, calendar)]
    return [Reply("\n".join(lines))]


def _office(ctx: Ctx, calendar: WorkingCalendar) -> list[str]:
    periods = ", ".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in calendar.office_hours)
    lines = [ctx.t("schedule_office", periods=periods)]
    if calendar.is_open(ctx.now):
        lines.append(ctx.t("schedule_office_open"))
    else:
        lines.append(
            ctx.t("schedule_office_next", when=_moment(ctx, calendar.next_opening(ctx.now)))
        )
    return lines


def _scan(ctx: Ctx, calendar: WorkingCalendar) -> list[str]:
    found = next_scan(scan_trigger(ctx.config.tz), calendar, ctx.now)
    lines = [
        ctx.t(
            "schedule_scan",
            every=found.every_minutes,
            first=_clock(ctx, found.day_first),
            last=_clock(ctx, found.day_last),
        ),
        ctx.t("schedule_scan_next", when=_moment(ctx, found.first)),
    ]
    opening = calendar.next_opening(found.first)
    if opening > found.first:
        lines.append(ctx.t("schedule_scan_sends_from", when=_clock(ctx, opening)))
    return lines


def _rules(ctx: Ctx) -> list[str]:
    rules = ReminderRules.from_settings(ctx.config)
    before = sorted(rules.before_days, reverse=True)
    days = ", ".join(str(d) for d in before[:-1])
    days = ctx.t("schedule_and", first=days, last=before[-1]) if days else str(before[0])
    return [
        ctx.t("schedule_rules_title"),
        ctx.t("schedule_rule_before", days=days),
        ctx.t("schedule_rule_due"),
        ctx.t("schedule_rule_overdue", every=rules.overdue_every),
        ctx.t("schedule_rule_escalate", days=rules.escalate_after),
        ctx.t("schedule_rule_day_off"),
    ]


def _digest(ctx: Ctx, calendar: WorkingCalendar, groups: int) -> list[str]:
    fire = digest_trigger(ctx.config).get_next_fire_time(None, ctx.now)
    local = fire.astimezone(ctx.config.tz)
    lines = [
        ctx.t(
            "schedule_digest",
            weekday=_weekday(ctx, local.date()),
            time=_clock(ctx, fire),
            count=groups,
        )
    ]
    if not groups:
        lines.append(ctx.t("schedule_digest_no_groups"))
    lines.append(ctx.t("schedule_digest_next", when=_moment(ctx, fire)))
    goes = calendar.next_opening(fire)
    if not calendar.is_working_day(local.date()):
        reason = calendar.holiday_name(local.date()) or ctx.t("schedule_day_off")
        lines.append(ctx.t("schedule_digest_day_off", reason=reason, when=_moment(ctx, goes)))
    elif goes > fire:
        lines.append(ctx.t("schedule_digest_held", when=_moment(ctx, goes)))
    return lines


def _reports(ctx: Ctx, calendar: WorkingCalendar) -> list[str]:
    rules = ReminderRules.from_settings(ctx.config)
    call, due, listed = next_report_days(calendar, rules, ctx.today)
    return [
        ctx.t("schedule_reports", call=rules.report_call_day, due=rules.report_due_day),
        ctx.t(
            "schedule_reports_next",
            call=_day(ctx, call),
            due=_day(ctx, due),
            listed=_day(ctx, listed),
        ),
    ]


async def _days_off(ctx: Ctx, calendar: WorkingCalendar) -> list[str]:
    """The days to come that are not an ordinary week's: holidays, extra days off, make-up
    working days."""
    today = ctx.today
    last = today + timedelta(days=AHEAD_DAYS)
    notes = {
        o.day: o.note
        for year in range(today.year, last.year + 1)
        for o in await holidays.in_year(ctx.session, year)
    }
    lines = []
    for offset in range(AHEAD_DAYS + 1):
        current = today + timedelta(days=offset)
        label = _special(ctx, calendar, current, notes)
        if label is not None:
            lines.append(ctx.t("schedule_day_line", day=_day(ctx, current), label=label))
        if len(lines) == SHOWN_DAYS:
            break
    if not lines:
        return [ctx.t("schedule_days_off_none", days=AHEAD_DAYS)]
    return [ctx.t("schedule_days_off_title", days=AHEAD_DAYS), *lines]


def _special(
    ctx: Ctx, calendar: WorkingCalendar, current: date, notes: dict[date, str]
) -> str | None:
    """How `current` differs from an ordinary week, or None when it does not."""
    working = calendar.is_working_day(current)
    weekend = current.weekday() >= 5
    name = notes.get(current) or calendar.holiday_name(current)
    if working and weekend:
        return ctx.t("schedule_make_up", note=name) if name else ctx.t("schedule_make_up_plain")
    if working or (weekend and not name):
        return None
    return name or ctx.t("schedule_day_off")


def _weekday(ctx: Ctx, value: date) -> str:
    return ctx.t(f"schedule_weekday_{value.weekday()}")


def _day(ctx: Ctx, value: date) -> str:
    return f"{_weekday(ctx, value)} {day(value)}"


def _moment(ctx: Ctx, value: datetime) -> str:
    local = value.astimezone(ctx.config.tz)
    return f"{_weekday(ctx, local.date())} {local:%d/%m/%Y %H:%M}"


def _clock(ctx: Ctx, value: datetime) -> str:
    return f"{value.astimezone(ctx.config.tz):%H:%M}"


FEATURE = Feature(
    "schedule_view",
    commands=(
        Command("lich", schedule, allow((Who.ADMIN,), (Where.PRIVATE,)), aliases=("schedule",)),
    ),
)
