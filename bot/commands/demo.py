"""`tiendo demo`: a database with the sample plan in it, and a summary of where it stands."""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import datetime
from typing import Any

from bot.app import open_app
from bot.config import Settings
from storage import migrate
from storage.db import describe_url
from storage.exporter import STATUS_LABELS, export_tasks
from storage.importer import import_plan
from storage.samples.make_sample import SAMPLE_PATH


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help="tạo cơ sở dữ liệu với kế hoạch mẫu và in tóm tắt tiến độ"
    )
    parser.add_argument(
        "--no-chat",
        action="store_true",
        help="chỉ in tóm tắt, không mở trò chuyện thử với cán bộ đầu mối",
    )
    parser.set_defaults(func=run_demo)


async def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        result = await import_plan(app.sessions, SAMPLE_PATH, actor="demo")
        today = datetime.now(settings.tz).date()
        records = await export_tasks(app.sessions, settings.tz, today)
    print(f"Cơ sở dữ liệu: {describe_url(settings.database_url)}")
    print(f"Kế hoạch mẫu: {SAMPLE_PATH.name} ({len(result.created)} nhiệm vụ mới nhập)")
    print(summary_text(records, today.strftime("%d/%m/%Y")))
    if not getattr(args, "no_chat", False):
        from bot.commands.chat import chat_in_terminal  # the console chat is issue 3's

        print()
        await chat_in_terminal(settings, unit="Sở Thông tin và Truyền thông")
    return 0


def summary_text(records: list[dict[str, Any]], today: str) -> str:
    """Counts by group, by status and by lead unit, in the city office's words."""
    total = len(records)
    lines = [
        f"Tình hình thực hiện đến ngày {today}: {total} nhiệm vụ, "
        f"{sum(r['ongoing'] for r in records)} nhiệm vụ thường xuyên/hằng năm."
    ]
    groups = Counter((r["group"], r["group_name"]) for r in records)
    lines.append("Theo nhóm nhiệm vụ:")
    lines += [f"  {number}. {name}: {count}" for (number, name), count in sorted(groups.items())]
    lines.append("Theo trạng thái:")
    for status, count in Counter(r["status"] for r in records).most_common():
        share = f"{100 * count / total:.1f}".replace(".", ",") if total else "0"
        lines.append(f"  {STATUS_LABELS.get(status, status)}: {count} ({share}%)")
    lines.append("Cơ quan chủ trì nhiều nhiệm vụ nhất:")
    for unit, count in Counter(r["lead_unit"] for r in records).most_common(5):
        lines.append(f"  {unit}: {count}")
    return "\n".join(lines)
