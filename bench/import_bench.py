"""Import benchmark: a 5,000-task appendix into a fresh SQLite database.

Run: .venv/bin/python bench/import_bench.py [TASKS]
Prints the seconds the import took and the process's peak memory. Target: ≤ 10 s, ≤ 300 MB.
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


async def main(tasks: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        layout = Layout(group_style="number", total_row=f"Tổng cộng: {tasks} nhiệm vụ")
        path = write_appendix(Path(folder) / "plan.xlsx", big_plan(tasks), layout)
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade(url)
        engine = create_engine(url)
        started = time.perf_counter()
        result = await import_plan(session_factory(engine), path, max_rows=100_000)
        elapsed = time.perf_counter() - started
        await engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"tasks imported: {len(result.created)}")
    print(f"import seconds: {elapsed:.2f} (target <= 10)")
    print(f"peak memory MB: {peak_mb:.0f} (target <= 300)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
