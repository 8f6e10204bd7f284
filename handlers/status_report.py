"""The status of the followed plans in the city office's words, for /tinhhinh and the digest.

"103 nhiệm vụ; đã hoàn thành 21 (20,4%); đang thực hiện trong hạn 70; quá hạn 12 (11,7%)",
the tasks never reported on a line of their own; per plan when several are followed, then in
total; by group; the most overdue tasks with their lead units; what falls due soon; and, when
the figures cover a period, the units that did not report in it and the difficulties and
proposals raised. Pure: figures (storage.figures) and a language in, text out.
"""

from __future__ import annotations

from handlers.i18n import day, number, t
from handlers.wording import short
from storage.figures import (
    Counts,
    DueSoonTask,
    Figures,
    GroupFigures,
    OverdueTask,
    Period,
    PlanFigures,
    Raised,
    SilentUnit,
)
from storage.models import TaskStatus

# Counted on the "also" line, in this order, when there are any.
OTHERS = (
    TaskStatus.NOT_STARTED,
    TaskStatus.BLOCKED,
    TaskStatus.PAUSED,
    TaskStatus.EXTENSION_REQUESTED,
)
TITLE_LIMIT = 70
TEXT_LIMIT = 200
# The difficulties and proposals shown in one status message; the rest are counted.
RAISED_LIMIT = 15


def status_text(figures: Figures, lang: str) -> str:
    """The whole status: a section per plan (one only when one plan is followed), the total,
    the most overdue tasks, those due soon, and the period's units and difficulties."""
    lines = [t(lang, "fig_title", date=day(figures.today))]
    if not figures.plans:
        return "\n".join([*lines, t(lang, "fig_no_plans")])
    for plan in figures.plans:
        lines += ["", *plan_lines(plan, lang)]
    if figures.several:
        lines += ["", t(lang, "fig_total_head", plans=number(lang, len(figures.plans)))]
        lines += counts_lines(figures.total, lang)
    lines += ["", *overdue_lines(figures, lang)]
    lines += ["", *due_soon_lines(figures, lang)]
    if figures.period is not None:
        lines += ["", *silent_unit_lines(figures, figures.period, lang)]
        lines += ["", *raised_lines(figures, figures.period, lang)]
    return "\n".join(lines)


def plan_lines(plan: PlanFigures, lang: str) -> list[str]:
    """The plan's name, its counts, and its counts by group."""
    if plan.decision:
        head = t(
            lang,
            "fig_plan_head_decision",
            short=plan.short_name,
            name=plan.name,
            decision=plan.decision,
        )
    else:
        head = t(lang, "fig_plan_head", short=plan.short_name, name=plan.name)
    lines = [head, *counts_lines(plan.counts, lang)]
    if plan.groups:
        lines.append(t(lang, "fig_by_group"))
        lines += [group_line(group, lang) for group in plan.groups]
    return lines


def counts_lines(counts: Counts, lang: str) -> list[str]:
    """The office's headline, then the completed ones by kind, the never reported on a line of
    their own, and the other statuses when there are any."""
    lines = [
        t(
            lang,
            "fig_headline",
            tasks=number(lang, counts.tasks),
            done=number(lang, counts.done),
            done_share=_share(counts, counts.done, lang),
            in_progress=number(lang, counts.in_progress),
            overdue=number(lang, counts.overdue),
            overdue_share=_share(counts, counts.overdue, lang),
        )
    ]
    if counts.done:
        lines.append(
            t(
                lang,
                "fig_done_detail",
                on_time=number(lang, counts.of(TaskStatus.DONE_ON_TIME)),
                late=number(lang, counts.of(TaskStatus.DONE_LATE)),
                no_deadline=number(lang, counts.of(TaskStatus.DONE)),
            )
        )
    lines.append(_not_reported_line(counts, lang))
    others = [
        t(lang, f"fig_other_{status.value}", count=number(lang, counts.of(status)))
        for status in OTHERS
        if counts.of(status)
    ]
    if others:
        lines.append(t(lang, "fig_others", items="; ".join(others)))
    return lines


def _not_reported_line(counts: Counts, lang: str) -> str:
    values = {
        "count": number(lang, counts.not_reported),
        "share": _share(counts, counts.not_reported, lang),
    }
    if counts.not_reported_late:
        return t(
            lang, "fig_not_reported_late", late=number(lang, counts.not_reported_late), **values
        )
    return t(lang, "fig_not_reported", **values)


def group_line(group: GroupFigures, lang: str) -> str:
    return t(
        lang,
        "fig_group",
        roman=group.roman,
        name=short(group.name, TITLE_LIMIT),
        tasks=number(lang, group.counts.tasks),
        done=number(lang, group.counts.done),
        overdue=number(lang, group.counts.overdue),
        not_reported=number(lang, group.counts.not_reported),
    )


def overdue_lines(figures: Figures, lang: str) -> list[str]:
    """The tasks longest overdue, across plans, with their lead units and days overdue."""
    listed = figures.most_overdue
    if not listed:
        return [t(lang, "fig_no_overdue")]
    head = t(
        lang,
        "fig_most_overdue",
        shown=number(lang, len(listed)),
        late=number(lang, figures.total.late),
    )
    return [head, *(_overdue_line(i, task, figures, lang) for i, task in enumerate(listed, 1))]


def _overdue_line(position: int, task: OverdueTask, figures: Figures, lang: str) -> str:
    line = t(
        lang,
        "fig_overdue_task",
        position=position,
        task=_task_name(task, figures),
        units="; ".join(task.lead_units),
        days=number(lang, task.days_overdue),
    )
    # Reported as overdue goes without saying; anything else (never reported, blocked, …) is
    # what the committee needs to see.
    if task.status != TaskStatus.OVERDUE:
        status = t(lang, f"status_{task.status.value}")
        line += f" ({status[:1].lower()}{status[1:]})"  # within the line, not a heading
    return line


def due_soon_lines(figures: Figures, lang: str) -> list[str]:
    """The unfinished tasks due within `soon_days` days, soonest first."""
    days = number(lang, figures.soon_days)
    if not figures.due_soon:
        return [t(lang, "fig_no_due_soon", days=days)]
    head = t(lang, "fig_due_soon", days=days, count=number(lang, figures.due_soon_total))
    lines = [head, *(_due_line(task, figures, lang) for task in figures.due_soon)]
    hidden = figures.due_soon_total - len(figures.due_soon)
    if hidden:
        lines.append(t(lang, "fig_more", count=number(lang, hidden)))
    return lines


def _due_line(task: DueSoonTask, figures: Figures, lang: str) -> str:
    if task.days_left:
        when = t(lang, "fig_days_left", days=number(lang, task.days_left))
    else:
        when = t(lang, "fig_due_today")
    return t(
        lang,
        "fig_due_soon_task",
        task=_task_name(task, figures),
        units="; ".join(task.lead_units),
        date=day(task.due_date),
        when=when,
    )


def silent_unit_lines(figures: Figures, period: Period, lang: str) -> list[str]:
    """The units leading unfinished tasks with no report in the period."""
    span = {"start": day(period.start), "end": day(period.end)}
    if not figures.silent_units:
        return [t(lang, "fig_no_silent_units", **span)]
    head = t(lang, "fig_silent_units", count=number(lang, len(figures.silent_units)), **span)
    return [head, *(_silent_line(unit, lang) for unit in figures.silent_units)]


def _silent_line(unit: SilentUnit, lang: str) -> str:
    values = {
        "unit": unit.short_name,
        "missing": number(lang, unit.missing),
        "owed": number(lang, unit.owed),
    }
    if unit.last_report is None:
        return t(lang, "fig_silent_unit_never", **values)
    return t(lang, "fig_silent_unit", last=day(unit.last_report), **values)


def raised_lines(figures: Figures, period: Period, lang: str) -> list[str]:
    """The difficulties and proposals written in the period, task by task."""
    span = {"start": day(period.start), "end": day(period.end)}
    if not figures.raised:
        return [t(lang, "fig_no_raised", **span)]
    lines = [t(lang, "fig_raised", **span)]
    for raised in figures.raised[:RAISED_LIMIT]:
        lines += _raised_lines(raised, figures, lang)
    left = len(figures.raised) - RAISED_LIMIT
    if left > 0:  # a chat message is read on a phone: the full list is in the export
        lines.append(t(lang, "fig_raised_more", count=number(lang, left)))
    return lines


def _raised_lines(raised: Raised, figures: Figures, lang: str) -> list[str]:
    lines = [
        t(
            lang,
            "fig_raised_task",
            task=_task_name(raised, figures),
            unit=raised.unit,
            date=day(raised.day),
        )
    ]
    if raised.difficulties:
        lines.append(t(lang, "fig_difficulties", text=short(raised.difficulties, TEXT_LIMIT)))
    if raised.proposals:
        lines.append(t(lang, "fig_proposals", text=short(raised.proposals, TEXT_LIMIT)))
    return lines


def _task_name(task: OverdueTask | DueSoonTask | Raised, figures: Figures) -> str:
    """ "I.3 Title", or "KH 2023 · I.3 Title" when several plans are followed."""
    code = f"{task.plan_short} · {task.code}" if figures.several else task.code
    return f"{code} {short(task.title, TITLE_LIMIT)}"


def _share(counts: Counts, count: int, lang: str) -> str:
    return number(lang, counts.share(count), 1)
