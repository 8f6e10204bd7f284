"""Import benchmark: a 5,000-task appendix into a fresh SQLite database, then another one into a
database that already holds three plans of 5,000 tasks.

Run: .venv/bin/python bench/import_bench.py [TASKS]
Prints the seconds each measured import took and the process's peak memory. Target, for each:
≤ 10 s, ≤ 300 MB. The three plans already there are imported first (not measured); each plan
numbers its tasks from I.1, as real plans do, so every code of the fourth is taken three times.
The file has what real appendices have: groups merged across the number column, a total row,
dashed and comma unit names, several units per cell.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path

from storage.db import create_engine, session_factory
from storage.importer import import_plan
from storage.migrate import upgrade
from storage.samples.builder import AppendixGroup, AppendixTask, Layout, write_appendix
from storage.samples.make_sample import GROUPS

LEADS = [
    "Sở TT&TT",
    "Sở Nội vụ",
    "Sở KH&ĐT",
    "UBND huyện Thuỷ Nguyên",
    "VP UBND TP",
    "Sở Y tế",
    "UBND các quận, huyện",
    "Công an TP",
    "Sở Lao động - Thương binh và Xã hội",
]
COOPS = [
    "Sở Tài chính; Sở TTTT",
    "Các sở, ban, ngành",
    "",
    "Sở GD&ĐT, Sở LĐ-TB&XH",
    "STTTT",
    "Sở Lao động – Thương binh và Xã hội, UBND các xã, thị trấn",
    "Sở Văn hóa, Thể thao\nĐài PT&TH Hải Phòng",
]
DEADLINES = [
    "Quý IV/2022",
    "Năm 2023",
    "Tháng 6/2024",
    "Trước 30/6/2025",
    "Thường xuyên",
    "Giai đoạn 2022-2025",
    "15/03/2026",
    "Hằng năm",
]


def big_plan(tasks: int) -> list[AppendixGroup]:
    per_group = -(-tasks // len(GROUPS))
    groups = []
    made = 0
    for group in GROUPS:
        items = []
        for number in range(1, per_group + 1):
            if made == tasks:
                break
            items.append(
                AppendixTask(
                    number,
                    f"{group.tasks[number % len(group.tasks)].title} (đợt {number})",
                    LEADS[made % len(LEADS)],
                    COOPS[made % len(COOPS)],
                    DEADLINES[made % len(DEADLINES)],
                    "Báo cáo kết quả thực hiện",
                )
            )
            made += 1
        groups.append(AppendixGroup(group.roman, group.name, items))
    return groups


async def _timed_import(url: str, path: Path, plan: str) -> tuple[int, float]:
    engine = create_engine(url)
    try:
        started = time.perf_counter()
        result = await import_plan(session_factory(engine), path, plan_name=plan, max_rows=100_000)
        return len(result.created), time.perf_counter() - started
    finally:
        await engine.dispose()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main(tasks: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        layout = Layout(group_style="number", total_row=f"Tổng cộng: {tasks} nhiệm vụ")
        path = write_appendix(Path(folder) / "plan.xlsx", big_plan(tasks), layout)
        fresh = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade(fresh)
        created, elapsed = await _timed_import(fresh, path, "Kế hoạch 1")
        print("a fresh database:")
        print(f"  tasks imported: {created}")
        print(f"  import seconds: {elapsed:.2f} (target <= 10)")
        print(f"  peak memory MB: {_peak_mb():.0f} (target <= 300)")
        crowded = f"sqlite+aiosqlite:///{Path(folder) / 'crowded.db'}"
        await upgrade(crowded)
        for number in (1, 2, 3):
            await _timed_import(crowded, path, f"Kế hoạch {number}")
        created, elapsed = await _timed_import(crowded, path, "Kế hoạch 4")
        print(f"a database already holding three plans of {tasks} tasks:")
        print(f"  tasks imported: {created}")
        print(f"  import seconds: {elapsed:.2f} (target <= 10)")
        print(f"  peak memory MB: {_peak_mb():.0f} (target <= 300)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
