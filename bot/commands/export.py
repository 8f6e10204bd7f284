"""`tiendo export PATH [--plan NAME] [--format xlsx|json|csv] [--reports]`: the plans with their
progress (one plan, or every followed plan), or the list of the reports filed on them."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.app import open_app
from bot.config import Settings
from bot.errors import UserError
from storage import migrate
from storage.exporter import FORMATS, export_reports, export_rows, write_export, write_reports
from storage.models import Plan
from storage.repositories import plans as plan_store


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export", help="xuất kế hoạch kèm tiến độ ra xlsx, json hoặc csv"
    )
    parser.add_argument("path", type=Path, help="tệp kết quả")
    parser.add_argument(
        "--plan",
        metavar="NAME",
        help="chỉ xuất kế hoạch này (tên hoặc tên ngắn; kể cả kế hoạch đã đóng); mặc định: "
        "mọi kế hoạch đang theo dõi",
    )
    parser.add_argument(
        "--format", choices=FORMATS, help="định dạng (mặc định theo đuôi tệp, nếu không thì xlsx)"
    )
    parser.add_argument(
        "--reports",
        action="store_true",
        help="json, csv: danh sách mọi báo cáo đã gửi thay cho danh sách nhiệm vụ "
        "(tệp xlsx luôn có trang “Báo cáo”)",
    )
    parser.set_defaults(func=run)


def _format(args: argparse.Namespace) -> str:
    """The format asked for; a file named for another format is refused, not mislabelled."""
    suffix = args.path.suffix.lower().lstrip(".")
    if not args.format:
        return suffix if suffix in FORMATS else "xlsx"
    if suffix in FORMATS and suffix != args.format:
        raise UserError(
            f"Tệp “{args.path}” có đuôi .{suffix} nhưng --format là {args.format}: "
            f"hãy đặt tên tệp đuôi .{args.format}, hoặc bỏ --format để xuất theo đuôi tệp."
        )
    return str(args.format)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    fmt = _format(args)
    only_reports = args.reports and fmt != "xlsx"
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        async with app.sessions() as session:
            plans = await plan_store.every(session)
        chosen = _chosen(plans, args.plan)
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
        raise UserError(f"Không ghi được tệp “{args.path}”: {exc.strerror or exc}.") from None
    what = [f"{len(rows)} nhiệm vụ"] if not only_reports else []
    what += [f"{len(reports)} báo cáo"] if with_reports else []
    names = ", ".join(plan.short_name for plan in chosen)
    print(f"Đã xuất {' và '.join(what)} ra “{args.path}” ({fmt}); kế hoạch: {names or 'chưa có'}.")
    return 0


def _chosen(plans: list[Plan], wanted: str | None) -> list[Plan]:
    """The plan named, or every followed plan; an unknown name is refused with the list."""
    if wanted is None:
        return [plan for plan in plans if plan.followed]
    found = plan_store.match(plans, wanted)
    if found is None:
        listed = "; ".join(f"{plan.short_name} ({plan.name})" for plan in plans) or "chưa có"
        raise UserError(f"Không có kế hoạch “{wanted}”. Các kế hoạch: {listed}.")
    return [found]
