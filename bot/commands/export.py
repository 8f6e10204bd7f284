"""`tiendo export PATH [--format xlsx|json|csv]`: the plan with status, percent and last report."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.app import open_app
from bot.config import Settings
from bot.errors import UserError
from storage import migrate
from storage.exporter import FORMATS, export_rows, write_export


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export", help="xuất kế hoạch kèm tiến độ ra xlsx, json hoặc csv"
    )
    parser.add_argument("path", type=Path, help="tệp kết quả")
    parser.add_argument(
        "--format", choices=FORMATS, help="định dạng (mặc định theo đuôi tệp, nếu không thì xlsx)"
    )
    parser.set_defaults(func=run)


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    suffix = args.path.suffix.lower().lstrip(".")
    return suffix if suffix in FORMATS else "xlsx"


async def run(args: argparse.Namespace, settings: Settings) -> int:
    fmt = _format(args)
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        today = datetime.now(settings.tz).date()
        rows = await export_rows(app.sessions, settings.tz, today)
    try:
        write_export(rows, args.path, fmt)
    except OSError as exc:
        raise UserError(f"Không ghi được tệp “{args.path}”: {exc.strerror or exc}.") from None
    print(f"Đã xuất {len(rows)} nhiệm vụ ra “{args.path}” ({fmt}).")
    return 0
