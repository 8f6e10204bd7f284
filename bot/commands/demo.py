"""`tiendo demo`: the sample plan in a database of its own, a summary, then a console chat.

The demo never writes into the real plan's database: it uses DATA_DIR/demo.db whatever
DATABASE_URL says, unless `--database-url` names another database on purpose, and even then it
refuses a database that holds another plan. Running it again changes nothing.
"""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.app import open_app
from bot.config import Settings
from bot.errors import UserError
from handlers.i18n import catalog, one_decimal, t
from storage import migrate
from storage.db import describe_url
from storage.exporter import export_tasks
from storage.importer import AnotherPlanPresent, PlanWouldBeReplaced, import_plan
from storage.plan_choice import OtherDecision, PlanNeeded
from storage.samples.make_sample import GROUPS, SAMPLE_PATH

DEMO_FILE = "demo.db"
URL_SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")
# The demo officer speaks for the unit leading the sample's first task, so has tasks to report.
DEMO_UNIT = GROUPS[0].tasks[0].lead


def register(subparsers: Any, lang: str) -> None:
    parser = subparsers.add_parser(
        "demo", help=t(lang, "cli_demo_help"), description=t(lang, "cli_demo_description")
    )
    parser.add_argument("--no-chat", action="store_true", help=t(lang, "cli_demo_no_chat_help"))
    parser.add_argument("--database-url", help=t(lang, "cli_demo_database_url_help"))
    parser.set_defaults(func=run_demo)


def demo_url(settings: Settings, chosen: str | None) -> str:
    """The demo's database: the one named on the command line, or DATA_DIR/demo.db."""
    if chosen is None:
        return f"sqlite+aiosqlite:///{settings.data_dir / DEMO_FILE}"
    if not chosen.startswith(URL_SCHEMES):
        raise UserError(t(settings.default_language, "cli_demo_bad_url"))
    if chosen.startswith("sqlite+aiosqlite:///"):
        path = chosen.removeprefix("sqlite+aiosqlite:///").split("?")[0]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    return chosen


async def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    lang = settings.default_language
    url = demo_url(settings, getattr(args, "database_url", None))
    settings = settings.model_copy(update={"database_url": url})
    async with open_app(settings) as app:
        await migrate.upgrade(url)
        try:
            result = await import_plan(
                app.sessions, SAMPLE_PATH, actor="demo", keep_other_plan=True
            )
        except (AnotherPlanPresent, PlanWouldBeReplaced, PlanNeeded, OtherDecision):
            own = settings.data_dir / DEMO_FILE
            raise UserError(
                t(lang, "cli_demo_other_plan", url=describe_url(url), own=own)
            ) from None
        today = datetime.now(settings.tz).date()
        records = await export_tasks(app.sessions, settings.tz, today)
    print(t(lang, "cli_demo_database", url=describe_url(url)))
    print(t(lang, "cli_demo_sample", file=SAMPLE_PATH.name, count=len(result.created)))
    print(summary_text(records, today.strftime("%d/%m/%Y"), lang))
    if not getattr(args, "no_chat", False):
        from bot.commands.chat import chat_in_terminal  # the console chat is issue 3's

        print()
        await chat_in_terminal(settings, unit=DEMO_UNIT)
    return 0


DONE = ("done_on_time", "done_late", "done")


def summary_text(records: list[dict[str, Any]], today: str, lang: str = "vi") -> str:
    """Counts by group, by status and by lead unit, in the city office's words; tasks with
    no report yet are counted on their own line, with how many of them are past due.
    Records of several plans are counted in total and plan by plan (groups named with their
    plan). `today` is written dd/mm/yyyy."""
    total = len(records)
    today_iso = datetime.strptime(today, "%d/%m/%Y").date().isoformat()
    ongoing = sum(r["ongoing"] for r in records)
    lines = [t(lang, "cli_summary_head", today=today, total=total, ongoing=ongoing)]
    plans = list(dict.fromkeys((r.get("plan_short", ""), r.get("plan", "")) for r in records))
    several = len(plans) > 1
    if several:
        lines.append(t(lang, "cli_summary_by_plan", count=len(plans)))
        lines += [_plan_line(records, short, name, today_iso, lang) for short, name in plans]
    groups = Counter(
        (r.get("plan_short", "") if several else "", r["group"], r["group_name"]) for r in records
    )
    lines.append(t(lang, "cli_summary_by_group"))
    lines += [
        f"  {f'{short} · ' if short else ''}{number}. {name}: {count}"
        for (short, number, name), count in sorted(groups.items())
    ]
    lines.append(t(lang, "cli_summary_by_status"))
    lines += _status_lines(records, total, today_iso, lang)
    lines.append(t(lang, "cli_summary_by_unit"))
    for unit, count in Counter(r["lead_unit"] for r in records).most_common(5):
        lines.append(f"  {unit}: {count}")
    return "\n".join(lines)


def _status_lines(
    records: list[dict[str, Any]], total: int, today_iso: str, lang: str
) -> list[str]:
    """One line per status, most frequent first; the unreported say how many are past due."""
    texts = catalog(lang)
    lines = []
    for status, count in Counter(r["status"] for r in records).most_common():
        share = one_decimal(lang, 100 * count / total) if total else "0"
        line = f"  {texts.get(f'status_{status}', status)}: {count} ({share}%)"
        if status == "not_reported":
            late = sum(1 for r in records if r["status"] == status and _past(r, today_iso))
            line += t(lang, "cli_summary_of_which_late", count=late) if late else ""
        lines.append(line)
    return lines


def _plan_line(
    records: list[dict[str, Any]], short: str, name: str, today_iso: str, lang: str
) -> str:
    """One plan's figures: tasks, completed (with the share), overdue, not reported."""
    mine = [r for r in records if r.get("plan_short", "") == short]
    done = sum(1 for r in mine if r["status"] in DONE)
    share = one_decimal(lang, 100 * done / len(mine)) if mine else "0"
    late = sum(1 for r in mine if r["status"] == "overdue")
    unreported = [r for r in mine if r["status"] == "not_reported"]
    past = sum(1 for r in unreported if _past(r, today_iso))
    line = "  " + t(
        lang,
        "cli_summary_plan",
        short=short,
        name=name,
        tasks=len(mine),
        done=done,
        share=share,
        late=late,
        unreported=len(unreported),
    )
    return line + (t(lang, "cli_summary_of_which_late", count=past) if past else "")


def _past(record: dict[str, Any], today_iso: str) -> bool:
    due = record.get("due_date")
    return isinstance(due, str) and due < today_iso
