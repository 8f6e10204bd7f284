"""`tiendo import PATH [--dry-run] [--sheet NAME]`: load the plan appendix into the database."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.app import open_app
from bot.config import Settings
from bot.errors import UserError
from storage import migrate
from storage.appendix import BadWorkbook
from storage.importer import ImportProblems, ImportResult, import_plan

SHOWN_CHANGES = 50


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import",
        help="nhập kế hoạch (phụ lục Excel .xlsx) vào cơ sở dữ liệu",
        description="Nhập phụ lục kế hoạch (.xlsx). Tệp có bất kỳ dòng lỗi nào sẽ không được "
        "nhập; mọi lỗi được liệt kê theo dòng, cột, giá trị và lý do.",
    )
    parser.add_argument("path", type=Path, help="đường dẫn tệp .xlsx")
    parser.add_argument(
        "--dry-run", action="store_true", help="chỉ cho biết sẽ thay đổi gì, không lưu"
    )
    parser.add_argument("--sheet", help="tên trang tính (mặc định: trang đầu tiên)")
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        try:
            result = await import_plan(
                app.sessions,
                args.path,
                sheet=args.sheet,
                dry_run=args.dry_run,
                progress=_progress,
                max_bytes=settings.import_max_bytes,
                max_rows=settings.import_max_rows,
            )
        except BadWorkbook as exc:
            raise UserError(f"Không nhập được kế hoạch: {exc}") from None
        except ImportProblems as exc:
            raise UserError(_problems_text(args.path, exc)) from None
    print(summary(result))
    return 0


def _progress(done: int, total: int) -> None:
    if total >= 1000:
        print(f"Đang nhập… {done}/{total} nhiệm vụ", file=sys.stderr, flush=True)


def _problems_text(path: Path, exc: ImportProblems) -> str:
    lines = [f"Không nhập được “{path.name}”: có {len(exc.problems)} lỗi, chưa lưu gì."]
    lines += [f"  - {problem}" for problem in exc.problems]
    return "\n".join(lines)


def summary(result: ImportResult) -> str:
    """The import's outcome in Vietnamese, listing the changes for a dry run."""
    head = "Chạy thử (không lưu gì): " if result.dry_run else "Đã nhập kế hoạch: "
    lines = [
        f"{head}{result.groups} nhóm, {result.tasks} nhiệm vụ "
        f"({result.ongoing} nhiệm vụ thường xuyên/hằng năm).",
        f"  Thêm mới: {len(result.created)}; cập nhật: {len(result.updated)}; "
        f"không đổi: {result.unchanged}; không còn trong tệp: {len(result.disappeared)}.",
    ]
    if not result.changed:
        lines.append("  Không có thay đổi.")
    if result.dry_run:
        lines += [f"  + {code}" for code in result.created[:SHOWN_CHANGES]]
        for code, changes in list(result.updated.items())[:SHOWN_CHANGES]:
            lines.append(f"  ~ {code}: {', '.join(changes)}")
    for code in result.disappeared:
        lines.append(f"  ! {code} không còn trong tệp (giữ lại, đánh dấu ngừng theo dõi)")
    return "\n".join(lines)
