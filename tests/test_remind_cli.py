"""`tiendo remind --at … [--dry-run]`: the operator runs the reminder scan as if it were a given
moment, sees what goes to whom, and which units nobody can be told about."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from storage.db import create_engine, session_factory
from tests.conftest import CliResult
from tests.test_reminders import World, december_plan

Run = Callable[..., CliResult]


@pytest.fixture
async def world(tmp_path: Path, sqlite_url: str) -> AsyncIterator[World]:
    """The December story in the database the `tiendo` command uses."""
    engine = create_engine(sqlite_url)
    world = World(session_factory(engine), tmp_path)
    await world.plan(december_plan(), "Kế hoạch dữ liệu năm 2026", "KH DL")
    await world.staff()
    yield world
    await engine.dispose()


async def test_a_dry_run_prints_what_would_go_and_writes_nothing(
    world: World, run_cli: Run
) -> None:
    result = run_cli("remind", "--at", "2026-12-16 09:00", "--dry-run")

    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "Quét nhắc việc lúc 16/12/2026 09:00 (giờ thành phố):",
        "Chạy thử (--dry-run): không đưa tin nào vào hàng đợi.",
        "- [đến hạn] Sở Thông tin và Truyền thông → Cán bộ An (telegram:7001): "
        "I.1 — Kho dữ liệu dùng chung — sẽ gửi",
        "- [đến hạn] Sở Thông tin và Truyền thông → Lãnh đạo Bình (telegram:7002): "
        "I.1 — Kho dữ liệu dùng chung — sẽ gửi",
        "- [đơn vị chưa báo cáo] — → BCĐ chuyển đổi số (telegram:-100500): "
        "📋 ĐƠN VỊ CHƯA BÁO CÁO ĐỊNH KỲ THÁNG 12/2026 (hạn 15/12/2026): 2 đơn vị — sẽ gửi",
    ]
    assert await world.rows() == []


async def test_a_scan_enqueues_once_and_says_so_the_second_time(world: World, run_cli: Run) -> None:
    first = run_cli("remind", "--at", "2026-12-16 09:00")
    assert first.code == 0, first.err
    assert first.out.count("— đã đưa vào hàng đợi") == 3
    assert first.out.splitlines()[-1] == "Đã đưa 3 tin mới vào hàng đợi; 0 tin đã có từ trước."

    again = run_cli("remind", "--at", "2026-12-16 14:45")
    assert again.out.count("— đã có từ lần quét trước, không gửi lại") == 3
    assert again.out.splitlines()[-1] == "Đã đưa 0 tin mới vào hàng đợi; 3 tin đã có từ trước."
    assert len(await world.rows()) == 3


async def test_units_without_anybody_registered_are_listed(world: World, run_cli: Run) -> None:
    result = run_cli("remind", "--at", "2026-12-10 09:00", "--dry-run")  # the monthly call

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[2].startswith(
        "- [đề nghị báo cáo định kỳ] Sở Thông tin và Truyền thông → Cán bộ An"
    )
    assert lines[-1] == "Đơn vị chưa có ai đăng ký để nhận nhắc việc (1): Sở Tư pháp"


async def test_at_night_and_on_days_off(world: World, run_cli: Run) -> None:
    night = run_cli("remind", "--at", "2026-12-11 22:00", "--dry-run")
    assert "— sẽ gửi" in night.out
    assert "Ngoài giờ làm việc: các tin sẽ được gửi từ 14/12/2026 07:30." in night.out

    saturday = run_cli("remind", "--at", "2026-12-12 09:00")
    assert saturday.out.splitlines()[-1] == (
        "12/12/2026 là ngày nghỉ (không phải ngày làm việc): không nhắc việc."
    )
    tet = run_cli("remind", "--at", "2023-01-23 09:00", "--dry-run")
    assert tet.out.splitlines()[-1].startswith("23/01/2023 là ngày nghỉ (")
    assert "Tết" in tet.out
    assert await world.rows() == []


async def test_a_moment_that_is_not_one_is_refused(world: World, run_cli: Run) -> None:
    result = run_cli("remind", "--at", "16/12/2026 9h")

    assert result.code == 1
    assert "“16/12/2026 9h” không đúng dạng thời điểm" in result.err
