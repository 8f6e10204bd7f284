"""What /nhap says about an appendix: the dry run's summary, the reasons a file is refused, and
the import's result, in the reader's language.

A chat message must stay readable on a phone (and within a Zalo message's 2,000 characters
before it is split), so every list is cut after a few items, with "… và N nữa".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from handlers.i18n import number, t
from handlers.wording import short
from storage.appendix import Problem
from storage.import_job import ImportOutcome, Status
from storage.import_units import NewUnit
from storage.importer import AUDITED, ImportResult

SHOWN_CODES = 15
SHOWN_CHANGES = 8
SHOWN_UNITS = 8
SHOWN_ROWS = 6
SHOWN_PROBLEMS = 10


def cut(lang: str, items: Sequence[str], shown: int, separator: str = ", ") -> str:
    """The first `shown` items joined, then "… và N nữa" for the rest."""
    text = separator.join(items[:shown])
    if len(items) > shown:
        text += separator + t(lang, "import_more", count=number(lang, len(items) - shown))
    return text


def worth_importing(result: ImportResult) -> bool:
    """Whether importing the file would change anything at all."""
    plan = result.plan
    return bool(result.changed or result.new_units or plan.created or plan.decision_added)


def summary(lang: str, result: ImportResult, file_name: str) -> str:
    """The dry run: the plan, the counts, the tasks new, changed and gone, the new units, and
    the half-plan warning."""
    lines = [
        t(
            lang,
            "import_summary_head",
            file=file_name,
            sheet=result.sheet,
            groups=number(lang, result.groups),
            tasks=number(lang, result.tasks),
            ongoing=number(lang, result.ongoing),
        ),
        *_plan_lines(lang, result),
        t(
            lang,
            "import_summary_counts",
            created=number(lang, len(result.created)),
            updated=number(lang, len(result.updated)),
            unchanged=number(lang, result.unchanged),
            gone=number(lang, len(result.disappeared)),
        ),
    ]
    if result.created:
        lines.append(
            t(lang, "import_summary_created", codes=cut(lang, result.created, SHOWN_CODES))
        )
    if result.updated:
        changes = [_change(lang, code, fields) for code, fields in result.updated.items()]
        lines.append(t(lang, "import_summary_updated", changes=cut(lang, changes, SHOWN_CHANGES)))
    if result.disappeared:
        codes = cut(lang, result.disappeared, SHOWN_CODES)
        lines.append(t(lang, "import_summary_gone", codes=codes))
    if result.new_units:
        lines += new_units(lang, result.new_units)
    if result.needs_replace:
        lines.append(
            t(
                lang,
                "import_summary_replace",
                missing=number(lang, len(result.disappeared)),
                active=number(lang, result.active_before),
            )
        )
    return "\n".join(lines)


def _plan_lines(lang: str, result: ImportResult) -> list[str]:
    plan = result.plan
    key = "import_summary_plan_new" if plan.created else "import_summary_plan"
    lines = [t(lang, key, short=plan.short_name, name=plan.name)]
    if plan.decision and (plan.created or plan.decision_added):
        lines.append(t(lang, "import_summary_decision", decision=plan.decision))
    if plan.other_decision:
        lines.append(
            t(
                lang,
                "import_summary_decision_kept",
                other=plan.other_decision,
                decision=plan.decision,
            )
        )
    return lines


def _change(lang: str, code: str, fields: Mapping[str, object]) -> str:
    words = [t(lang, f"import_field_{name}") for name in AUDITED if name in fields]
    return f"{code} ({', '.join(words)})"


def new_units(lang: str, units: Sequence[NewUnit]) -> list[str]:
    """The units the file names that the catalog lacks, with their other spellings and rows."""
    lines = [t(lang, "import_summary_units", count=number(lang, len(units)))]
    for unit in units[:SHOWN_UNITS]:
        spellings = ""
        if unit.aliases:
            spellings = t(lang, "import_same_unit", spellings="; ".join(unit.aliases))
        rows = cut(lang, [str(row) for row in unit.rows], SHOWN_ROWS)
        lines.append(t(lang, "import_new_unit", name=unit.name, spellings=spellings, rows=rows))
    if len(units) > SHOWN_UNITS:
        lines.append(t(lang, "import_more", count=number(lang, len(units) - SHOWN_UNITS)))
    return lines


def refusal(lang: str, outcome: ImportOutcome, file_name: str) -> str:
    """Why the file was not imported (nothing was stored), in words the admin can act on."""
    status = outcome.status
    if status is Status.PROBLEMS:
        return _problems(lang, outcome, file_name)
    if status is Status.BAD_FILE:
        return t(lang, "import_bad_file", file=file_name, problem=outcome.detail)
    if status is Status.WOULD_REPLACE:
        return t(
            lang,
            "import_would_replace",
            file=file_name,
            missing=number(lang, outcome.missing),
            active=number(lang, outcome.active),
        )
    if status is Status.NAME_TAKEN and outcome.taken_by is not None:
        other = outcome.taken_by
        return t(
            lang,
            "import_name_taken",
            name=outcome.detail,
            other=other.name,
            other_short=other.short_name,
        )
    if status is Status.FILE_CHANGED:
        return t(lang, "import_file_changed")
    if status is Status.BUSY:
        return t(lang, "import_busy", file=file_name)
    return t(lang, "import_failed", file=file_name)


def _problems(lang: str, outcome: ImportOutcome, file_name: str) -> str:
    if not outcome.problems:  # only new units, and the import was not to add them
        lines = [t(lang, "import_units_missing", file=file_name)]
        return "\n".join(lines + new_units(lang, outcome.new_units))
    count = number(lang, len(outcome.problems))
    lines = [t(lang, "import_problems", file=file_name, count=count)]
    lines += [_problem(lang, problem) for problem in outcome.problems[:SHOWN_PROBLEMS]]
    if len(outcome.problems) > SHOWN_PROBLEMS:
        more = len(outcome.problems) - SHOWN_PROBLEMS
        lines.append(t(lang, "import_more", count=number(lang, more)))
    if outcome.new_units:
        lines += new_units(lang, outcome.new_units)
    return "\n".join(lines)


def _problem(lang: str, problem: Problem) -> str:
    value = t(lang, "import_problem_value", value=short(problem.value, 60)) if problem.value else ""
    return t(
        lang,
        "import_problem",
        row=problem.row,
        column=problem.column,
        value=value,
        reason=problem.reason,
    )


def done(lang: str, result: ImportResult, file_name: str) -> str:
    """The import's result, told when it has finished."""
    plan = result.plan
    text = t(
        lang,
        "import_done",
        file=file_name,
        short=plan.short_name,
        name=plan.name,
        created=number(lang, len(result.created)),
        updated=number(lang, len(result.updated)),
        unchanged=number(lang, result.unchanged),
        gone=number(lang, len(result.disappeared)),
    )
    if result.units_added:
        text += " " + t(lang, "import_done_units", count=number(lang, len(result.new_units)))
    return text


def outcome_text(lang: str, outcome: ImportOutcome, file_name: str) -> str:
    """What the admin is told when the import ends, whichever way it ended."""
    if outcome.status is Status.DONE and outcome.result is not None:
        return done(lang, outcome.result, file_name)
    return refusal(lang, outcome, file_name)
