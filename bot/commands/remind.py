"""`tiendo remind [--at "YYYY-MM-DD HH:MM"] [--dry-run]`: the reminder scan of `tiendo run`,
once, as if it were that moment (the city's time, TIMEZONE; default now).

Prints every message it puts in the outbox (or, with --dry-run, would put there: nothing is
written then), those already there from an earlier scan, when they go out (the next opening of
the office when it is closed at that moment), and the units that should have been told but
cannot be, because nobody of theirs is registered (or reachable). The rules are in
scheduler.reminder_rules, the keys and messages in scheduler.reminders.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.app import open_app
from bot.commands.digest import parse_at
from bot.config import Settings
from handlers.i18n import day, moment, t
from storage import migrate

if TYPE_CHECKING:
    from scheduler.jobs import ReminderPass
    from scheduler.reminders import Decision


def register(subparsers: Any, lang: str) -> None:
    parser = subparsers.add_parser("remind", help=t(lang, "cli_remind_help"))
    parser.add_argument("--at", metavar='"YYYY-MM-DD HH:MM"', help=t(lang, "cli_remind_at_help"))
    parser.add_argument("--dry-run", action="store_true", help=t(lang, "cli_remind_dry_run_help"))
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    from scheduler.jobs import reminder_pass

    now = parse_at(args.at, settings) if args.at else datetime.now(UTC)
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        done = await reminder_pass(app.sessions, settings, now, dry_run=args.dry_run)
    for line in report(done, settings, args.dry_run):
        print(line)
    return 0


def report(done: ReminderPass, settings: Settings, dry_run: bool) -> list[str]:
    """What the scan decided, message by message, then who could not be told."""
    lang, tz = settings.default_language, settings.tz
    today = done.now.astimezone(tz).date()
    lines = [t(lang, "cli_remind_head", when=moment(done.now, tz))]
    if dry_run:
        lines.append(t(lang, "cli_remind_dry_run"))
    if not done.calendar.is_working_day(today):
        name = done.calendar.holiday_name(today) or t(lang, "cli_remind_day_off_plain")
        lines.append(t(lang, "cli_remind_day_off", day=day(today), name=name))
        return lines
    for decision, new in done.written:
        lines.append(_line(decision, new, dry_run, lang))
    if not done.written:
        lines.append(t(lang, "cli_remind_nothing"))
    elif done.not_before is not None and done.not_before > done.now:
        lines.append(t(lang, "cli_remind_not_before", when=moment(done.not_before, tz)))
    if not dry_run and done.written:
        fresh = sum(1 for _decision, written in done.written if written)
        lines.append(t(lang, "cli_remind_summary", new=fresh, old=len(done.written) - fresh))
    if done.scan.unreached:
        units = "; ".join(done.scan.unreached)
        lines.append(t(lang, "cli_remind_unreached", count=len(done.scan.unreached), units=units))
    return lines


def _line(decision: Decision, new: bool, dry_run: bool, lang: str) -> str:
    state = "cli_remind_would" if dry_run else "cli_remind_new" if new else "cli_remind_already"
    return t(
        lang,
        "cli_remind_line",
        rule=t(lang, f"cli_remind_rule_{decision.rule}"),
        unit=decision.unit or "—",
        to=decision.to,
        channel=decision.channel,
        chat=decision.chat_id,
        subject=decision.subject,
        state=t(lang, state),
    )
