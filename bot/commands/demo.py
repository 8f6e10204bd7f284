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
from storage import migrate
from storage.db import describe_url
from storage.exporter import STATUS_LABELS, export_tasks
from storage.importer import AnotherPlanPresent, PlanWouldBeReplaced, import_plan
from storage.plan_choice import OtherDecision, PlanNeeded
from storage.samples.make_sample import SAMPLE_PATH

DEMO_FILE = "demo.db"
URL_SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="kế hoạch mẫu trong cơ sở dữ liệu thử riêng, tóm tắt tiến độ, rồi trò chuyện thử",
        description="Nhập kế hoạch mẫu vào cơ sở dữ liệu thử riêng (DATA_DIR/demo.db, mặc "
        "định data/demo.db), in tóm tắt tiến độ và mở trò chuyện thử với vai cán bộ đầu mối "
        "Sở TT&TT. Lệnh này không dùng DATABASE_URL, nên không đụng tới kế hoạch thật; chạy "
        "lại không thay đổi gì.",
    )
    parser.add_argument(
        "--no-chat",
        action="store_true",
        help="chỉ in tóm tắt, không mở trò chuyện thử với cán bộ đầu mối",
    )
    parser.add_argument(
        "--database-url",
        help="dùng cơ sở dữ liệu này thay cho DATA_DIR/demo.db; bị từ chối nếu nó đã có "
        "một kế hoạch khác",
    )
    parser.set_defaults(func=run_demo)


def demo_url(settings: Settings, chosen: str | None) -> str:
    """The demo's database: the one named on the command line, or DATA_DIR/demo.db."""
    if chosen is None:
        return f"sqlite+aiosqlite:///{settings.data_dir / DEMO_FILE}"
    if not chosen.startswith(URL_SCHEMES):
        raise UserError(
            "--database-url: cần dạng sqlite+aiosqlite:///đường/dẫn/tệp.db hoặc "
            "postgresql+asyncpg://người_dùng@máy:cổng/tên_csdl."
        )
    if chosen.startswith("sqlite+aiosqlite:///"):
        path = chosen.removeprefix("sqlite+aiosqlite:///").split("?")[0]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    return chosen


async def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    url = demo_url(settings, getattr(args, "database_url", None))
    settings = settings.model_copy(update={"database_url": url})
    async with open_app(settings) as app:
        await migrate.upgrade(url)
        try:
            result = await import_plan(
                app.sessions, SAMPLE_PATH, actor="demo", keep_other_plan=True
            )
        except (AnotherPlanPresent, PlanWouldBeReplaced, PlanNeeded, OtherDecision):
            raise UserError(
                f"Cơ sở dữ liệu {describe_url(url)} đã có một kế hoạch khác; tiendo demo không "
                "nhập kế hoạch mẫu vào đó và không thay đổi gì. Hãy chạy tiendo demo không kèm "
                f"--database-url (cơ sở dữ liệu thử riêng {settings.data_dir / DEMO_FILE})."
            ) from None
        today = datetime.now(settings.tz).date()
        records = await export_tasks(app.sessions, settings.tz, today)
    print(f"Cơ sở dữ liệu thử: {describe_url(url)} (riêng cho demo, không phải DATABASE_URL)")
    print(f"Kế hoạch mẫu: {SAMPLE_PATH.name} ({len(result.created)} nhiệm vụ mới nhập)")
    print(summary_text(records, today.strftime("%d/%m/%Y")))
    if not getattr(args, "no_chat", False):
        from bot.commands.chat import chat_in_terminal  # the console chat is issue 3's

        print()
        await chat_in_terminal(settings, unit="Sở Thông tin và Truyền thông")
    return 0


DONE = ("done_on_time", "done_late", "done")


def summary_text(records: list[dict[str, Any]], today: str) -> str:
    """Counts by group, by status and by lead unit, in the city office's words; tasks with
    no report yet are counted on their own line, with how many of them are past due.
    Records of several plans are counted in total and plan by plan (groups named with their
    plan). `today` is written dd/mm/yyyy."""
    total = len(records)
    today_iso = datetime.strptime(today, "%d/%m/%Y").date().isoformat()
    lines = [
        f"Tình hình thực hiện đến ngày {today}: {total} nhiệm vụ, "
        f"{sum(r['ongoing'] for r in records)} nhiệm vụ thường xuyên/hằng năm."
    ]
    plans = list(dict.fromkeys((r.get("plan_short", ""), r.get("plan", "")) for r in records))
    several = len(plans) > 1
    if several:
        lines.append(f"Theo kế hoạch ({len(plans)} kế hoạch):")
        lines += [_plan_line(records, short, name, today_iso) for short, name in plans]
    groups = Counter(
        (r.get("plan_short", "") if several else "", r["group"], r["group_name"]) for r in records
    )
    lines.append("Theo nhóm nhiệm vụ:")
    lines += [
        f"  {f'{short} · ' if short else ''}{number}. {name}: {count}"
        for (short, number, name), count in sorted(groups.items())
    ]
    lines.append("Theo trạng thái:")
    for status, count in Counter(r["status"] for r in records).most_common():
        share = f"{100 * count / total:.1f}".replace(".", ",") if total else "0"
        line = f"  {STATUS_LABELS.get(status, status)}: {count} ({share}%)"
        if status == "not_reported":
            late = sum(1 for r in records if r["status"] == status and _past(r, today_iso))
            line += f", trong đó đã quá hạn: {late}" if late else ""
        lines.append(line)
    lines.append("Cơ quan chủ trì nhiều nhiệm vụ nhất:")
    for unit, count in Counter(r["lead_unit"] for r in records).most_common(5):
        lines.append(f"  {unit}: {count}")
    return "\n".join(lines)


def _plan_line(records: list[dict[str, Any]], short: str, name: str, today_iso: str) -> str:
    """One plan's figures: tasks, completed (with the share), overdue, not reported."""
    mine = [r for r in records if r.get("plan_short", "") == short]
    done = sum(1 for r in mine if r["status"] in DONE)
    share = f"{100 * done / len(mine):.1f}".replace(".", ",") if mine else "0"
    late = sum(1 for r in mine if r["status"] == "overdue")
    unreported = [r for r in mine if r["status"] == "not_reported"]
    past = sum(1 for r in unreported if _past(r, today_iso))
    line = (
        f"  {short} — {name}: {len(mine)} nhiệm vụ; đã hoàn thành {done} ({share}%); "
        f"đang thực hiện, đã quá hạn {late}; chưa báo cáo {len(unreported)}"
    )
    return line + (f", trong đó đã quá hạn: {past}" if past else "")


def _past(record: dict[str, Any], today_iso: str) -> bool:
    due = record.get("due_date")
    return isinstance(due, str) and due < today_iso
