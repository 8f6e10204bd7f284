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
from storage import migrate
from storage.models import Plan
from storage.repositories import plans as plan_store
from storage.repositories.plans import PlanNameTaken, Progress

ACTOR = "cli"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "plans", help="các kế hoạch đang theo dõi: xem, đổi tên, đóng, mở"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list", help="mọi kế hoạch: tên, tên ngắn, văn bản ban hành, số nhiệm vụ, tiến độ"
    )
    listing.set_defaults(func=list_plans)
    rename = actions.add_parser("rename", help="đổi tên (và tên ngắn) của một kế hoạch")
    rename.add_argument("plan", help="tên hoặc tên ngắn hiện tại")
    rename.add_argument("--name", required=True, help="tên mới")
    rename.add_argument("--short", help="tên ngắn mới (hiện trước mã nhiệm vụ trong trò chuyện)")
    rename.set_defaults(func=rename_plan)
    close = actions.add_parser(
        "close",
        help="đóng kế hoạch: thôi nhắc việc, ẩn khỏi các lựa chọn; giữ nguyên mọi dữ liệu",
    )
    close.add_argument("plan", help="tên hoặc tên ngắn")
    close.set_defaults(func=close_plan)
    reopen = actions.add_parser("open", help="mở lại kế hoạch đã đóng")
    reopen.add_argument("plan", help="tên hoặc tên ngắn")
    reopen.set_defaults(func=open_plan)


async def list_plans(args: argparse.Namespace, settings: Settings) -> int:
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        async with app.sessions() as session:
            plans = await plan_store.every(session)
            progress = await plan_store.progress(session)
    if not plans:
        print("Chưa có kế hoạch nào. Nhập một kế hoạch bằng: tiendo import TỆP.xlsx --plan TÊN")
        return 0
    print(f"Các kế hoạch ({len(plans)}):")
    for plan in plans:
        print(plan_line(plan, progress.get(plan.id, Progress(0, 0)), settings))
    return 0


def plan_line(plan: Plan, progress: Progress, settings: Settings) -> str:
    """ "CT 284 — Chương trình … · số 284/QĐ-UBND ngày 24/01/2022 · 103 nhiệm vụ · hoàn
    thành 21/103 (20,4%)", and "đã đóng ngày …" for a closed plan."""
    share = f"{progress.share:.1f}".replace(".", ",")
    parts = [f"  {plan.short_name} — {plan.name}"]
    parts.append(f"số {plan.decision}" if plan.decision else "chưa ghi văn bản ban hành")
    parts.append(f"{progress.tasks} nhiệm vụ")
    parts.append(f"hoàn thành {progress.done}/{progress.tasks} ({share}%)")
    if not plan.followed:
        closed = plan.closed_at.astimezone(settings.tz) if plan.closed_at else None
        parts.append(f"đã đóng ngày {closed:%d/%m/%Y}" if closed else "đã đóng")
    return " · ".join(parts)


async def _change(args: argparse.Namespace, settings: Settings, action: str) -> int:
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        async with app.sessions() as session:
            plans = await plan_store.every(session)
            plan = _named(plans, args.plan)
            now = datetime.now(UTC)
            if action == "rename":
                message = _rename(session, plans, plan, args, now)
            else:
                followed = action == "open"
                changed = plan_store.set_followed(session, plan, followed, now, ACTOR)
                message = _followed_text(plan, followed, changed)
            await session.commit()
    print(message)
    return 0


def _rename(
    session: Any, plans: list[Plan], plan: Plan, args: argparse.Namespace, now: datetime
) -> str:
    name = " ".join(args.name.split())
    short = " ".join((args.short or plan.short_name).split())
    if not name or not short:
        raise UserError("Tên và tên ngắn của kế hoạch không được để trống.")
    try:
        plan_store.check_free(plans, name, short, itself=plan)
    except PlanNameTaken as exc:
        raise UserError(
            f"Không đổi tên: “{exc.name}” đã là tên của kế hoạch “{exc.other.name}” "
            f"({exc.other.short_name})."
        ) from None
    changes = plan_store.rename(session, plan, name, short[:40], now, ACTOR)
    if not changes:
        return f"Kế hoạch {plan.short_name} — {plan.name}: tên không đổi, không thay đổi gì."
    return f"Đã đổi tên kế hoạch: {plan.short_name} — {plan.name}."


def _followed_text(plan: Plan, followed: bool, changed: bool) -> str:
    label = f"{plan.short_name} — {plan.name}"
    if not changed:
        state = "đang được theo dõi" if followed else "đã đóng từ trước"
        return f"Kế hoạch {label} {state}, không thay đổi gì."
    if followed:
        return f"Đã mở lại kế hoạch {label}: nhiệm vụ của kế hoạch lại hiện trong trò chuyện."
    return (
        f"Đã đóng kế hoạch {label}: thôi nhắc việc, nhiệm vụ không còn hiện để chọn trong trò "
        "chuyện; nhiệm vụ, báo cáo và minh chứng vẫn được giữ (xuất bằng tiendo export "
        f"--plan “{plan.short_name}”). Mở lại bằng tiendo plans open."
    )


def _named(plans: list[Plan], wanted: str) -> Plan:
    found = plan_store.match(plans, wanted)
    if found is None:
        listed = "; ".join(f"{plan.short_name} ({plan.name})" for plan in plans) or "chưa có"
        raise UserError(f"Không có kế hoạch “{wanted}”. Các kế hoạch: {listed}.")
    return found


async def rename_plan(args: argparse.Namespace, settings: Settings) -> int:
    return await _change(args, settings, "rename")


async def close_plan(args: argparse.Namespace, settings: Settings) -> int:
    return await _change(args, settings, "close")


async def open_plan(args: argparse.Namespace, settings: Settings) -> int:
    return await _change(args, settings, "open")
