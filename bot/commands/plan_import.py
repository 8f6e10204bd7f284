"""`tiendo import PATH [--plan NAME [--short SHORT]] [--dry-run] [--sheet NAME] [--add-units]
[--replace]`: load a plan's appendix into that plan."""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path
from typing import Any

from bot.app import open_app
from bot.config import Settings
from bot.errors import UserError
from handlers.i18n import t
from storage import migrate
from storage.appendix import BadWorkbook
from storage.import_units import NewUnit
from storage.importer import (
    ImportProblems,
    ImportResult,
    PlanWouldBeReplaced,
    import_plan,
)
from storage.plan_choice import OtherDecision, PlanNeeded, PlanOutcome
from storage.repositories.plans import PlanInfo, PlanNameTaken

SHOWN_CHANGES = 50
SHOWN_ROWS = 8


def register(subparsers: Any, lang: str) -> None:
    parser = subparsers.add_parser(
        "import", help=t(lang, "cli_import_help"), description=t(lang, "cli_import_description")
    )
    parser.add_argument("path", type=Path, help=t(lang, "cli_import_path_help"))
    parser.add_argument("--plan", metavar="NAME", help=t(lang, "cli_import_plan_help"))
    parser.add_argument("--short", metavar="SHORT", help=t(lang, "cli_import_short_help"))
    parser.add_argument("--dry-run", action="store_true", help=t(lang, "cli_import_dry_run_help"))
    parser.add_argument("--sheet", help=t(lang, "cli_import_sheet_help"))
    parser.add_argument(
        "--add-units", action="store_true", help=t(lang, "cli_import_add_units_help")
    )
    parser.add_argument("--replace", action="store_true", help=t(lang, "cli_import_replace_help"))
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    lang = settings.default_language
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        try:
            result = await import_plan(
                app.sessions,
                args.path,
                sheet=args.sheet,
                dry_run=args.dry_run,
                add_units=args.add_units,
                replace=args.replace,
                plan_name=args.plan,
                plan_short=args.short,
                progress=partial(_progress, lang),
                max_bytes=settings.import_max_bytes,
                max_rows=settings.import_max_rows,
            )
        except BadWorkbook as exc:
            raise UserError(t(lang, "cli_import_bad_workbook", problem=exc)) from None
        except ImportProblems as exc:
            raise UserError(_problems_text(args.path, exc, lang)) from None
        except PlanWouldBeReplaced as exc:
            raise UserError(_replace_text(args.path, exc, lang)) from None
        except PlanNeeded as exc:
            raise UserError(_plan_needed_text(args.path, exc.plans, lang)) from None
        except OtherDecision as exc:
            raise UserError(_other_decision_text(args.path, exc, lang)) from None
        except PlanNameTaken as exc:
            raise UserError(
                t(
                    lang,
                    "cli_import_name_taken",
                    file=args.path.name,
                    name=exc.name,
                    other=exc.other.name,
                    other_short=exc.other.short_name,
                )
            ) from None
    print(summary(result, lang))
    return 0


def _progress(lang: str, done: int, total: int) -> None:
    if total >= 1000:
        print(t(lang, "cli_import_progress", done=done, total=total), file=sys.stderr, flush=True)


def _plan_needed_text(path: Path, plans: list[PlanInfo], lang: str) -> str:
    lines = [t(lang, "cli_import_plan_needed", file=path.name, count=len(plans))]
    lines += [f"  - {plan.short_name}: {plan.name}" for plan in plans]
    return "\n".join(lines)


def _other_decision_text(path: Path, exc: OtherDecision, lang: str) -> str:
    plan = exc.plan
    return t(
        lang,
        "cli_import_other_decision",
        file=path.name,
        decision=exc.decision,
        short=plan.short_name,
        name=plan.name,
        plan_decision=plan.decision,
    )


def plan_lines(outcome: PlanOutcome, dry_run: bool, lang: str = "vi") -> list[str]:
    """The plan the import went to, the decision read from the title rows, and what was kept."""
    key = "cli_import_plan"
    if outcome.created:
        key = "cli_import_plan_will_create" if dry_run else "cli_import_plan_created"
    lines = ["  " + t(lang, key, short=outcome.short_name, name=outcome.name)]
    if outcome.decision and (outcome.created or outcome.decision_added):
        lines.append("  " + t(lang, "cli_import_decision_read", decision=outcome.decision))
    if outcome.other_decision:
        other = t(
            lang,
            "cli_import_decision_kept",
            other=outcome.other_decision,
            decision=outcome.decision,
        )
        lines.append(f"  ! {other}")
    if outcome.short_ignored:
        kept = t(
            lang,
            "cli_import_short_kept",
            short=outcome.short_name,
            ignored=outcome.short_ignored,
        )
        lines.append(f"  ! {kept}")
    return lines


def _problems_text(path: Path, exc: ImportProblems, lang: str) -> str:
    if exc.problems:
        lines = [t(lang, "cli_import_problems", file=path.name, count=len(exc.problems))]
        lines += [f"  - {problem}" for problem in exc.problems]
    else:
        lines = [t(lang, "cli_import_units_missing", file=path.name, count=len(exc.new_units))]
    if exc.new_units:
        lines += new_units_text(exc.new_units, "missing", lang)
    return "\n".join(lines)


def _replace_text(path: Path, exc: PlanWouldBeReplaced, lang: str) -> str:
    shown = ", ".join(exc.missing[:SHOWN_CHANGES])
    more = "…" if len(exc.missing) > SHOWN_CHANGES else ""
    return t(
        lang,
        "cli_import_would_replace",
        file=path.name,
        missing=len(exc.missing),
        active=exc.active,
        shown=shown + more,
    )


def new_units_text(units: list[NewUnit], mode: str, lang: str = "vi") -> list[str]:
    """The units a file names that the catalog lacks, each with its spellings and rows;
    `mode` is "missing" (not added), "will_add" (a dry run with --add-units) or "added"."""
    lines = [t(lang, f"cli_import_new_units_{mode}", count=len(units))]
    for unit in units:
        spellings = ""
        if unit.aliases:
            spellings = t(lang, "cli_import_same_unit", spellings="; ".join(unit.aliases))
        rows = ", ".join(str(row) for row in unit.rows[:SHOWN_ROWS])
        rows += "…" if len(unit.rows) > SHOWN_ROWS else ""
        line = t(lang, "cli_import_new_unit", name=unit.name, spellings=spellings, rows=rows)
        lines.append(f"  + {line}")
    return lines


def summary(result: ImportResult, lang: str = "vi") -> str:
    """The import's outcome in the operator's language, listing the changes for a dry run."""
    key = "cli_import_tried" if result.dry_run else "cli_import_imported"
    lines = [
        t(
            lang,
            key,
            sheet=result.sheet,
            groups=result.groups,
            tasks=result.tasks,
            ongoing=result.ongoing,
        ),
        "  "
        + t(
            lang,
            "cli_import_counts",
            created=len(result.created),
            updated=len(result.updated),
            unchanged=result.unchanged,
            gone=len(result.disappeared),
        ),
        *plan_lines(result.plan, result.dry_run, lang),
    ]
    if not result.changed:
        lines.append("  " + t(lang, "cli_import_no_change"))
    if result.dry_run:
        lines += [f"  + {code}" for code in result.created[:SHOWN_CHANGES]]
        for code, changes in list(result.updated.items())[:SHOWN_CHANGES]:
            lines.append(f"  ~ {code}: {', '.join(changes)}")
    for code in result.disappeared:
        lines.append("  ! " + t(lang, "cli_import_gone", code=code))
    if result.new_units:
        mode = "missing"
        if result.units_added:
            mode = "will_add" if result.dry_run else "added"
        lines += new_units_text(result.new_units, mode, lang)
    if result.needs_replace and result.dry_run:
        missing, active = len(result.disappeared), result.active_before
        lines.append("  ! " + t(lang, "cli_import_would_refuse", missing=missing, active=active))
    return "\n".join(lines)
