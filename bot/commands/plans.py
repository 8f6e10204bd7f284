"""`tiendo plans list|rename|close|open`: the plans followed side by side.

A plan is named by its name or its short name, folded ("KH2023" = "KH 2023"). Closing a plan
hides its tasks from the chat's choices and from /nhiemvu and keeps everything (tasks, reports,
evidence); `open` follows it again. Each change is written to the audit log.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from bot.app import open_app
from bot.config import Settings
from bot.errors import UserError
from handlers.i18n import one_decimal, t
from storage import migrate
from storage.models import Plan
from storage.repositories import plans as plan_store
from storage.repositories.plans import PlanNameTaken, Progress

ACTOR = "cli"


def register(subparsers: Any, lang: str) -> None:
    parser = subparsers.add_parser("plans", help=t(lang, "cli_plans_help"))
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help=t(lang, "cli_plans_list_help"))
    listing.set_defaults(func=list_plans)
    rename = actions.add_parser("rename", help=t(lang, "cli_plans_rename_help"))
    rename.add_argument("plan", help=t(lang, "cli_plans_current_name_help"))
    rename.add_argument("--name", required=True, help=t(lang, "cli_plans_new_name_help"))
    rename.add_argument("--short", help=t(lang, "cli_plans_new_short_help"))
    rename.set_defaults(func=rename_plan)
    close = actions.add_parser("close", help=t(lang, "cli_plans_close_help"))
    close.add_argument("plan", help=t(lang, "cli_plans_plan_help"))
    close.set_defaults(func=close_plan)
    reopen = actions.add_parser("open", help=t(lang, "cli_plans_open_help"))
    reopen.add_argument("plan", help=t(lang, "cli_plans_plan_help"))
    reopen.set_defaults(func=open_plan)


async def list_plans(args: argparse.Namespace, settings: Settings) -> int:
    lang = settings.default_language
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        async with app.sessions() as session:
            plans = await plan_store.every(session)
            progress = await plan_store.progress(session)
    if not plans:
        print(t(lang, "cli_plans_none"))
        return 0
    print(t(lang, "cli_plans_heading", count=len(plans)))
    for plan in plans:
        print(plan_line(plan, progress.get(plan.id, Progress(0, 0)), settings))
    return 0


def plan_line(plan: Plan, progress: Progress, settings: Settings) -> str:
    """ "CT 284 — Chương trình … · số 284/QĐ-UBND ngày 24/01/2022 · 103 nhiệm vụ · hoàn
    thành 21/103 (20,4%)", and "đã đóng ngày …" for a closed plan."""
    lang = settings.default_language
    parts = [f"  {plan.short_name} — {plan.name}"]
    if plan.decision:
        parts.append(t(lang, "cli_plans_decision", decision=plan.decision))
    else:
        parts.append(t(lang, "cli_plans_no_decision"))
    parts.append(t(lang, "cli_tasks_count", count=progress.tasks))
    share = one_decimal(lang, progress.share)
    parts.append(t(lang, "cli_plans_done", done=progress.done, tasks=progress.tasks, share=share))
    if not plan.followed:
        closed = plan.closed_at.astimezone(settings.tz) if plan.closed_at else None
        if closed:
            parts.append(t(lang, "cli_plans_closed_on", day=f"{closed:%d/%m/%Y}"))
        else:
            parts.append(t(lang, "cli_plans_closed"))
    return " · ".join(parts)


async def _change(args: argparse.Namespace, settings: Settings, action: str) -> int:
    lang = settings.default_language
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        async with app.sessions() as session:
            plans = await plan_store.every(session)
            plan = named(plans, args.plan, lang)
            now = datetime.now(UTC)
            if action == "rename":
                message = _rename(session, plans, plan, args, now, lang)
            else:
                followed = action == "open"
                changed = plan_store.set_followed(session, plan, followed, now, ACTOR)
                message = _followed_text(plan, followed, changed, lang)
            await session.commit()
    print(message)
    return 0


def _rename(
    session: Any,
    plans: list[Plan],
    plan: Plan,
    args: argparse.Namespace,
    now: datetime,
    lang: str,
) -> str:
    name = " ".join(args.name.split())
    short = " ".join((args.short or plan.short_name).split())
    if not name or not short:
        raise UserError(t(lang, "cli_plans_empty_name"))
    try:
        plan_store.check_free(plans, name, short, itself=plan)
    except PlanNameTaken as exc:
        raise UserError(
            t(
                lang,
                "cli_plans_name_taken",
                name=exc.name,
                other=exc.other.name,
                other_short=exc.other.short_name,
            )
        ) from None
    changes = plan_store.rename(session, plan, name, short[:40], now, ACTOR)
    key = "cli_plans_renamed" if changes else "cli_plans_name_unchanged"
    return t(lang, key, short=plan.short_name, name=plan.name)


def _followed_text(plan: Plan, followed: bool, changed: bool, lang: str) -> str:
    label = f"{plan.short_name} — {plan.name}"
    if not changed:
        key = "cli_plans_already_followed" if followed else "cli_plans_already_closed"
    else:
        key = "cli_plans_reopened" if followed else "cli_plans_closed_now"
    return t(lang, key, label=label, short=plan.short_name)


def named(plans: list[Plan], wanted: str, lang: str) -> Plan:
    """The plan called `wanted` (name or short name, folded); an unknown name is refused with
    the list of plans."""
    found = plan_store.match(plans, wanted)
    if found is None:
        listed = "; ".join(f"{plan.short_name} ({plan.name})" for plan in plans)
        raise UserError(
            t(lang, "cli_no_such_plan", wanted=wanted, plans=listed or t(lang, "cli_none_yet"))
        )
    return found


async def rename_plan(args: argparse.Namespace, settings: Settings) -> int:
    return await _change(args, settings, "rename")


async def close_plan(args: argparse.Namespace, settings: Settings) -> int:
    return await _change(args, settings, "close")


async def open_plan(args: argparse.Namespace, settings: Settings) -> int:
    return await _change(args, settings, "open")
