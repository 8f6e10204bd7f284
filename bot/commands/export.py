"""`tiendo export PATH [--plan NAME] [--format xlsx|json|csv] [--reports]`: the plans with their
progress (one plan, or every followed plan), or the list of the reports filed on them."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.app import open_app
from bot.commands.plans import named
from bot.config import Settings
from bot.errors import UserError
from handlers.i18n import t
from storage import migrate
from storage.exporter import FORMATS, export_reports, export_rows, write_export, write_reports
from storage.models import Plan
from storage.repositories import plans as plan_store


def register(subparsers: Any, lang: str) -> None:
    parser = subparsers.add_parser("export", help=t(lang, "cli_export_help"))
    parser.add_argument("path", type=Path, help=t(lang, "cli_export_path_help"))
    parser.add_argument("--plan", metavar="NAME", help=t(lang, "cli_export_plan_help"))
    parser.add_argument("--format", choices=FORMATS, help=t(lang, "cli_export_format_help"))
    parser.add_argument("--reports", action="store_true", help=t(lang, "cli_export_reports_help"))
    parser.set_defaults(func=run)


def _format(args: argparse.Namespace, lang: str) -> str:
    """The format asked for; a file named for another format is refused, not mislabelled."""
    suffix = args.path.suffix.lower().lstrip(".")
    if not args.format:
        return suffix if suffix in FORMATS else "xlsx"
    if suffix in FORMATS and suffix != args.format:
        raise UserError(
            t(lang, "cli_export_wrong_suffix", path=args.path, suffix=suffix, fmt=args.format)
        )
    return str(args.format)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    lang = settings.default_language
    fmt = _format(args, lang)
    only_reports = args.reports and fmt != "xlsx"
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        async with app.sessions() as session:
            plans = await plan_store.every(session)
        chosen = _chosen(plans, args.plan, lang)
        ids = [plan.id for plan in chosen] if args.plan else None
        today = datetime.now(settings.tz).date()
        rows = [] if only_reports else await export_rows(app.sessions, settings.tz, today, ids)
        with_reports = fmt == "xlsx" or only_reports
        reports = await export_reports(app.sessions, settings.tz, ids) if with_reports else []
    try:
        if only_reports:
            write_reports(reports, args.path, fmt)
        else:
            write_export(rows, args.path, fmt, reports)
    except OSError as exc:
        reason = exc.strerror or exc
        raise UserError(t(lang, "cli_export_cannot_write", path=args.path, reason=reason)) from None
    what = [t(lang, "cli_tasks_count", count=len(rows))] if not only_reports else []
    what += [t(lang, "cli_reports_count", count=len(reports))] if with_reports else []
    written = t(lang, "cli_both", first=what[0], second=what[1]) if len(what) == 2 else what[0]
    names = ", ".join(plan.short_name for plan in chosen) or t(lang, "cli_none_yet")
    print(t(lang, "cli_export_done", what=written, path=args.path, fmt=fmt, plans=names))
    return 0


def _chosen(plans: list[Plan], wanted: str | None, lang: str) -> list[Plan]:
    """The plan named, or every followed plan; an unknown name is refused with the list."""
    if wanted is None:
        return [plan for plan in plans if plan.followed]
    return [named(plans, wanted, lang)]
