"""`tiendo import PATH [--plan NAME [--short SHORT]] [--dry-run] [--sheet NAME] [--add-units]
[--replace]`: load a plan's appendix into that plan."""

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


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import",
        help="nhập kế hoạch (phụ lục Excel .xlsx) vào cơ sở dữ liệu",
        description="Nhập phụ lục kế hoạch (.xlsx). Tệp có bất kỳ dòng lỗi nào sẽ không được "
        "nhập; mọi lỗi được liệt kê theo dòng, cột, giá trị và lý do. Đơn vị chưa có trong "
        "danh mục được liệt kê riêng và chỉ được thêm khi có --add-units.",
    )
    parser.add_argument("path", type=Path, help="đường dẫn tệp .xlsx")
    parser.add_argument(
        "--plan",
        metavar="NAME",
        help="kế hoạch nhận các nhiệm vụ (tên hoặc tên ngắn); tên chưa có thì tạo kế hoạch "
        "mới. Bỏ trống: cơ sở dữ liệu chỉ có một kế hoạch thì nhập vào đó",
    )
    parser.add_argument(
        "--short",
        metavar="SHORT",
        help="tên ngắn của kế hoạch mới, hiện trước mã nhiệm vụ trong trò chuyện "
        "(mặc định suy từ tên: “KH 2023”, “CT 284”)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="chỉ cho biết sẽ thay đổi gì (kể cả đơn vị mới), không lưu",
    )
    parser.add_argument(
        "--sheet", help="tên trang tính (mặc định: trang đầu tiên có bảng kế hoạch)"
    )
    parser.add_argument(
        "--add-units",
        action="store_true",
        help="thêm vào danh mục các đơn vị tệp nêu mà danh mục chưa có (cùng lần nhập)",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="cho phép nhập tệp thiếu quá nửa số nhiệm vụ đang theo dõi (kế hoạch khác); "
        "nhiệm vụ thiếu được giữ lại, đánh dấu ngừng theo dõi",
    )
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
                add_units=args.add_units,
                replace=args.replace,
                plan_name=args.plan,
                plan_short=args.short,
                progress=_progress,
                max_bytes=settings.import_max_bytes,
                max_rows=settings.import_max_rows,
            )
        except BadWorkbook as exc:
            raise UserError(f"Không nhập được kế hoạch: {exc}") from None
        except ImportProblems as exc:
            raise UserError(_problems_text(args.path, exc)) from None
        except PlanWouldBeReplaced as exc:
            raise UserError(_replace_text(args.path, exc)) from None
        except PlanNeeded as exc:
            raise UserError(_plan_needed_text(args.path, exc.plans)) from None
        except OtherDecision as exc:
            raise UserError(_other_decision_text(args.path, exc)) from None
        except PlanNameTaken as exc:
            raise UserError(
                f"Không nhập “{args.path.name}”: tên “{exc.name}” đã là tên của kế hoạch "
                f"“{exc.other.name}” ({exc.other.short_name}). Chưa lưu gì; hãy chọn tên khác "
                "(--plan, --short)."
            ) from None
    print(summary(result))
    return 0


def _progress(done: int, total: int) -> None:
    if total >= 1000:
        print(f"Đang nhập… {done}/{total} nhiệm vụ", file=sys.stderr, flush=True)


def _plan_needed_text(path: Path, plans: list[PlanInfo]) -> str:
    lines = [
        f"Không nhập “{path.name}”: cơ sở dữ liệu đang có {len(plans)} kế hoạch, cần chỉ rõ "
        "nhập vào kế hoạch nào bằng --plan TÊN (tên hoặc tên ngắn; tên mới sẽ tạo kế hoạch "
        "mới). Chưa lưu gì. Các kế hoạch:"
    ]
    lines += [f"  - {plan.short_name}: {plan.name}" for plan in plans]
    return "\n".join(lines)


def _other_decision_text(path: Path, exc: OtherDecision) -> str:
    plan = exc.plan
    return (
        f"Không nhập “{path.name}”: dòng tiêu đề của tệp nêu văn bản số {exc.decision}, khác "
        f"với kế hoạch đang có ({plan.short_name} — {plan.name}, số {plan.decision}), nên có "
        "lẽ đây là một kế hoạch khác. Chưa lưu gì.\n"
        "  Nếu là kế hoạch khác: nhập bên cạnh bằng --plan TÊN_MỚI (vd. --plan "
        "“Kế hoạch chuyển đổi số năm 2024”).\n"
        f"  Nếu đúng là bản sửa của kế hoạch này: chạy lại với --plan “{plan.short_name}”."
    )


def plan_lines(outcome: PlanOutcome, dry_run: bool) -> list[str]:
    """The plan the import went to, the decision read from the title rows, and what was kept."""
    created = (" (sẽ tạo mới)" if dry_run else " (mới tạo)") if outcome.created else ""
    lines = [f"  Kế hoạch: {outcome.short_name} — {outcome.name}{created}."]
    if outcome.decision and (outcome.created or outcome.decision_added):
        lines.append(f"  Văn bản ban hành (đọc từ dòng tiêu đề của tệp): số {outcome.decision}.")
    if outcome.other_decision:
        lines.append(
            f"  ! Dòng tiêu đề của tệp nêu văn bản số {outcome.other_decision}, khác với văn "
            f"bản đã ghi của kế hoạch (số {outcome.decision}): giữ nguyên văn bản đã ghi."
        )
    if outcome.short_ignored:
        lines.append(
            f"  ! Kế hoạch đã có tên ngắn “{outcome.short_name}”, không đổi thành "
            f"“{outcome.short_ignored}”; muốn đổi, dùng tiendo plans rename."
        )
    return lines


def _problems_text(path: Path, exc: ImportProblems) -> str:
    if exc.problems:
        lines = [f"Không nhập được “{path.name}”: có {len(exc.problems)} lỗi, chưa lưu gì."]
        lines += [f"  - {problem}" for problem in exc.problems]
    else:
        lines = [
            f"Không nhập được “{path.name}”: tệp nêu {len(exc.new_units)} đơn vị chưa có "
            "trong danh mục, chưa lưu gì."
        ]
    if exc.new_units:
        lines += new_units_text(exc.new_units, "missing")
    return "\n".join(lines)


def _replace_text(path: Path, exc: PlanWouldBeReplaced) -> str:
    shown = ", ".join(exc.missing[:SHOWN_CHANGES])
    more = "…" if len(exc.missing) > SHOWN_CHANGES else ""
    return (
        f"Không nhập “{path.name}”: tệp không có {len(exc.missing)}/{exc.active} nhiệm vụ "
        "đang theo dõi (quá một nửa), nên giống một kế hoạch khác hơn là bản sửa của kế hoạch "
        f"đang có. Chưa lưu gì.\n  Nhiệm vụ không có trong tệp: {shown}{more}\n"
        "  Nếu đúng là muốn thay kế hoạch, chạy lại với --replace (các nhiệm vụ thiếu được giữ "
        "lại, đánh dấu ngừng theo dõi, không bị xoá); xem trước bằng --dry-run. Nếu đây là "
        "một kế hoạch khác, nhập nó bên cạnh kế hoạch đang có bằng --plan TÊN_MỚI."
    )


def new_units_text(units: list[NewUnit], mode: str) -> list[str]:
    """The units a file names that the catalog lacks, each with its spellings and rows;
    `mode` is "missing" (not added), "will_add" (a dry run with --add-units) or "added"."""
    if mode == "added":
        lines = [f"Đã thêm {len(units)} đơn vị mới vào danh mục:"]
    elif mode == "will_add":
        lines = [f"Sẽ thêm {len(units)} đơn vị mới vào danh mục:"]
    else:
        lines = [
            f"Đơn vị chưa có trong danh mục ({len(units)}); nếu đúng là đơn vị mới, "
            "nhập lại với --add-units:"
        ]
    for unit in units:
        spellings = f" (cùng một đơn vị: {'; '.join(unit.aliases)})" if unit.aliases else ""
        rows = ", ".join(str(row) for row in unit.rows[:SHOWN_ROWS])
        rows += "…" if len(unit.rows) > SHOWN_ROWS else ""
        lines.append(f"  + {unit.name}{spellings} — dòng {rows}")
    return lines


def summary(result: ImportResult) -> str:
    """The import's outcome in Vietnamese, listing the changes for a dry run."""
    head = "Chạy thử (không lưu gì): " if result.dry_run else "Đã nhập kế hoạch: "
    lines = [
        f"{head}trang tính “{result.sheet}”, {result.groups} nhóm, {result.tasks} nhiệm vụ "
        f"({result.ongoing} nhiệm vụ thường xuyên/hằng năm).",
        f"  Thêm mới: {len(result.created)}; cập nhật: {len(result.updated)}; "
        f"không đổi: {result.unchanged}; không còn trong tệp: {len(result.disappeared)}.",
        *plan_lines(result.plan, result.dry_run),
    ]
    if not result.changed:
        lines.append("  Không có thay đổi.")
    if result.dry_run:
        lines += [f"  + {code}" for code in result.created[:SHOWN_CHANGES]]
        for code, changes in list(result.updated.items())[:SHOWN_CHANGES]:
            lines.append(f"  ~ {code}: {', '.join(changes)}")
    for code in result.disappeared:
        lines.append(f"  ! {code} không còn trong tệp (giữ lại, đánh dấu ngừng theo dõi)")
    if result.new_units:
        mode = "missing"
        if result.units_added:
            mode = "will_add" if result.dry_run else "added"
        lines += new_units_text(result.new_units, mode)
    if result.needs_replace and result.dry_run:
        lines.append(
            f"  ! Tệp không có {len(result.disappeared)}/{result.active_before} nhiệm vụ đang "
            "theo dõi (quá một nửa): khi nhập thật sẽ bị từ chối nếu không có --replace."
        )
    return "\n".join(lines)
