"""Digest benchmark: the weekly digest of 10,000 tasks and 200,000 reports, on SQLite and on
PostgreSQL.

The data is written straight into a fresh database with bulk inserts (not through the dialogs):
three followed plans (5,000, 3,000 and 2,000 tasks in 9 groups each), 40 units with one officer
each, a tenth of the tasks never reported, the others with about 22 reports each spread over the
year before the digest's moment (so about 3,000 fall in the digest's week, 1 in 20 raising
difficulties or proposals), each task's status, percent and time of latest report as the
reports left them, a tenth of the reports contributions, and 50 pending extension requests.

What is timed is `scheduler.digest.build_digest` as the scheduler calls it, for Friday
27/11/2026 15:00 in Hai Phong: the figures' queries (storage.repositories.figures), the figures,
the text (status_text with the week), the PNG chart and the XLSX workbook (summary and all
10,000 tasks). Writing it to the outbox is not included (a row and two files per group).

It runs in a fresh process of its own (`--measure URL`), after the data is written, so that its
memory is the digest's and not the generator's: "first" is the first digest in that process
(statements compiled, fonts loaded), "again" a second one, then the time of each part. Memory:
the process's peak resident set (resource.getrusage ru_maxrss: the interpreter, every import,
and the digests), and separately the peak of Python allocations during one digest
(tracemalloc, run after the timed ones because it slows them down). Beside each time, the CPU
time of the process (time.process_time, every thread of it; not the PostgreSQL server's): on a
machine busy with other work it tells what the digest itself costs.

Run: .venv/bin/python bench/digest_bench.py [--database-url postgresql+asyncpg://…]
With neither --database-url nor TIENDO_TEST_POSTGRES_URL it runs on SQLite only; with
TIENDO_TEST_POSTGRES_URL set (and no --database-url) on SQLite and then PostgreSQL, a database
of its own created on that server and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage.db import create_engine, describe_url, is_sqlite, session_factory
from storage.models import (
    ExtensionRequest,
    Person,
    Plan,
    Report,
    Task,
    TaskGroup,
    TaskUnit,
    Unit,
)
from storage.status import completion_status, is_overdue

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
AT = datetime(2026, 11, 27, 15, 0, tzinfo=TZ)
PLANS = (
    ("CT 284", "Chương trình hành động chuyển đổi số đến năm 2025", 5_000),
    ("KH 2026", "Kế hoạch chuyển đổi số năm 2026", 3_000),
    ("ĐA 06", "Đề án 06 về dữ liệu dân cư", 2_000),
)
GROUPS = (
    "Công tác tuyên truyền, nâng cao nhận thức",
    "Công tác xây dựng thể chế, cơ chế chính sách",
    "Phát triển nền tảng, hạ tầng số",
    "Phát triển dữ liệu",
    "Bảo đảm quốc phòng, an ninh, an toàn thông tin mạng",
    "Phát triển nguồn nhân lực",
    "Phát triển chính quyền số",
    "Phát triển kinh tế số",
    "Phát triển xã hội số",
)
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX")
UNITS = 40
REPORTS = 200_000
CHUNK = 5_000
# The statuses officers report, and how often.
CHOICES = ("in_progress", "done", "blocked", "paused", "not_started")
WEIGHTS = (60, 22, 7, 3, 8)


# --- the data -------------------------------------------------------------------------------


def chunks(rows: Iterable[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def bulk(session: AsyncSession, model: Any, rows: Iterable[dict[str, Any]]) -> None:
    for batch in chunks(rows):
        await session.execute(insert(model), batch)


def report_status(choice: str, due: date | None, ongoing: bool, day: date) -> str:
    """What the report dialog would store for `choice` filed on `day`."""
    if choice == "done":
        return completion_status(due, ongoing, day).value
    if choice == "in_progress" and is_overdue(due, ongoing, day):
        return "overdue"
    return choice


async def generate(url: str) -> dict[str, int]:
    """Writes the plans, units, people, tasks and reports; returns how many of each."""
    chance = random.Random(284)
    now = AT.astimezone(UTC)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            await _people_and_plans(session, now)
            tasks, task_units = _tasks(chance, now)
            reports = _reports(chance, tasks, now)
            await bulk(session, Task, tasks)
            await bulk(session, TaskUnit, task_units)
            await bulk(session, Report, reports)
            await bulk(session, ExtensionRequest, _extensions(chance, tasks, now))
            await session.commit()
    finally:
        await engine.dispose()
    return {"tasks": len(tasks), "reports": len(reports)}


async def _people_and_plans(session: AsyncSession, now: datetime) -> None:
    units = [
        {
            "id": n,
            "name": f"Sở chuyên ngành số {n}" if n <= 25 else f"UBND huyện số {n}",
            "short_name": f"S{n}" if n <= 25 else f"H{n}",
            "kind": "department" if n <= 25 else "district",
            "covers": "",
        }
        for n in range(1, UNITS + 1)
    ]
    await bulk(session, Unit, units)
    await bulk(
        session,
        Person,
        (
            {
                "id": n,
                "full_name": f"Cán bộ {n}",
                "unit_id": n,
                "role": "officer",
                "language": "vi",
                "created_at": now,
            }
            for n in range(1, UNITS + 1)
        ),
    )
    for index, (short, name, _count) in enumerate(PLANS, start=1):
        session.add(Plan(id=index, name=name, short_name=short, followed=True, created_at=now))
    await session.flush()
    await bulk(
        session,
        TaskGroup,
        (
            {
                "id": (plan - 1) * 9 + g,
                "plan_id": plan,
                "number": g,
                "roman": ROMAN[g - 1],
                "name": GROUPS[g - 1],
            }
            for plan in range(1, len(PLANS) + 1)
            for g in range(1, 10)
        ),
    )


def _tasks(
    chance: random.Random, now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    tasks: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    for plan, (_short, _name, count) in enumerate(PLANS, start=1):
        for position in range(count):
            group = position * 9 // count + 1
            number = position - (group - 1) * count // 9 + 1
            lead = chance.randint(1, UNITS)
            ongoing = chance.random() < 0.15
            due = None if ongoing else date(2022, 6, 30) + timedelta(days=chance.randint(0, 2000))
            task_id = len(tasks) + 1
            tasks.append(
                {
                    "id": task_id,
                    "plan_id": plan,
                    "code": f"{ROMAN[group - 1]}.{number}",
                    "group_id": (plan - 1) * 9 + group,
                    "number": str(number),
                    "position": position,
                    "title": f"Nhiệm vụ số {number} về chuyển đổi số của nhóm {ROMAN[group - 1]}",
                    "lead_unit_id": lead,
                    "deadline_text": "Thường xuyên" if ongoing else f"{due:%d/%m/%Y}",
                    "due_date": due,
                    "ongoing": ongoing,
                    "status": "not_started",
                    "percent": 0,
                    "last_report_at": None,
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            links.append({"task_id": task_id, "unit_id": lead, "role": "lead", "position": 0})
            other = lead % UNITS + 1
            role = "lead" if chance.random() < 0.1 else "cooperating"
            links.append({"task_id": task_id, "unit_id": other, "role": role, "position": 1})
    return tasks, links


def _reports(
    chance: random.Random, tasks: list[dict[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    """About 22 reports on each of nine tasks in ten, over the year before `now`; each task
    left as its latest report says."""
    reported = [task for task in tasks if chance.random() >= 0.1]
    per_task = [REPORTS // len(reported)] * len(reported)
    for index in range(REPORTS - sum(per_task)):
        per_task[index] += 1
    year = int(timedelta(days=365).total_seconds())
    reports: list[dict[str, Any]] = []
    for task, count in zip(reported, per_task, strict=True):
        moments = sorted(now - timedelta(seconds=chance.randint(60, year)) for _ in range(count))
        for version, at in enumerate(moments, start=1):
            reports.append(_report(chance, task, version, at))
        latest = next(r for r in reversed(reports) if r["kind"] == "report")
        task.update(
            status=latest["status"], percent=latest["percent"], last_report_at=latest["created_at"]
        )
    return reports


def _report(
    chance: random.Random, task: dict[str, Any], version: int, at: datetime
) -> dict[str, Any]:
    # The first report is always the lead unit's, so every reported task has one.
    contribution = version > 1 and chance.random() < 0.1
    choice = chance.choices(CHOICES, WEIGHTS)[0]
    day = at.astimezone(TZ).date()
    raises = chance.random() < 0.05
    return {
        "task_id": task["id"],
        "unit_id": task["lead_unit_id"],
        "person_id": task["lead_unit_id"],
        "status": ""
        if contribution
        else report_status(choice, task["due_date"], task["ongoing"], day),
        "percent": 100 if choice == "done" else chance.randint(0, 95),
        "results": "Đã triển khai các nội dung theo kế hoạch, đang tổng hợp kết quả.",
        "difficulties": "Thiếu kinh phí và nhân lực chuyên trách" if raises else "",
        "proposals": "Đề nghị bổ sung kinh phí năm sau" if raises else "",
        "kind": "contribution" if contribution else "report",
        "version": version,
        "channel": "telegram",
        "created_at": at,
    }


def _extensions(
    chance: random.Random, tasks: list[dict[str, Any]], now: datetime
) -> Iterator[dict[str, Any]]:
    for task in chance.sample([t for t in tasks if t["due_date"] is not None], 50):
        yield {
            "task_id": task["id"],
            "unit_id": task["lead_unit_id"],
            "person_id": task["lead_unit_id"],
            "proposed_date": task["due_date"] + timedelta(days=180),
            "reason": "Chờ bố trí kinh phí",
            "state": "pending",
            "created_at": now - timedelta(days=3),
        }


# --- the measure (in a process of its own) --------------------------------------------------


async def measure(url: str) -> dict[str, Any]:
    from scheduler.digest import build_digest, digest_text, week_label, week_of
    from scheduler.digest_chart import chart_png
    from scheduler.digest_xlsx import workbook_xlsx
    from storage.figures import compute
    from storage.repositories.figures import load_source

    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        timings: dict[str, Any] = {}
        for run in ("first", "again"):
            started, cpu = time.perf_counter(), time.process_time()
            async with sessions() as session:
                digest = await build_digest(session, AT, TZ, "vi")
            timings[run] = time.perf_counter() - started
            timings[f"{run}_cpu"] = time.process_time() - cpu
        period = week_of(AT, TZ)
        parts: dict[str, float] = {}
        started = time.perf_counter()
        async with sessions() as session:
            source = await load_source(session, period=period)
        parts["queries"] = _lap(started)
        figures = compute(source, period.end)
        parts["figures"] = _lap(started, parts)
        digest_text(figures, period, week_label(period), "vi")
        parts["text"] = _lap(started, parts)
        chart_png(figures, "vi")
        parts["chart"] = _lap(started, parts)
        workbook_xlsx(figures, source, period, "vi")
        parts["workbook"] = _lap(started, parts)
        del source, figures
        rss = _rss_mb()
        tracemalloc.start()
        async with sessions() as session:
            await build_digest(session, AT, TZ, "vi")
        traced = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    finally:
        await engine.dispose()
    return {
        **timings,
        "parts": parts,
        "rss_mb": rss,
        "traced_mb": traced,
        "tasks": digest.figures.total.tasks,
        "text_chars": len(digest.text),
        "chart_kb": len(digest.chart) / 1024,
        "workbook_kb": len(digest.workbook) / 1024,
        "silent_units": len(digest.figures.silent_units),
        "raised": len(digest.figures.raised),
    }


def _lap(started: float, before: dict[str, float] | None = None) -> float:
    return time.perf_counter() - started - sum((before or {}).values())


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- the run --------------------------------------------------------------------------------


async def bench(server: str | None) -> None:
    # A fresh database as the dialog benchmark makes one (a SQLite file, or a PostgreSQL
    # database created on `server` and dropped afterwards).
    from dialog_bench import fresh_database

    with tempfile.TemporaryDirectory() as folder:
        async with fresh_database(server, Path(folder)) as url:
            started = time.perf_counter()
            counts = await generate(url)
            generated = time.perf_counter() - started
            child = subprocess.run(
                [sys.executable, __file__, "--measure", url],
                capture_output=True,
                text=True,
                check=True,
            )
    found = json.loads(child.stdout.strip().splitlines()[-1])
    database = "SQLite (a fresh file)" if server is None else describe_url(server)
    print(f"database: {database}")
    print(
        f"data: {counts['tasks']:,} tasks, {counts['reports']:,} reports "
        f"(bulk inserts, {generated:.1f} s); digest of {found['tasks']:,} tasks"
    )
    for run, words in (("first", "first in its process"), ("again", "again")):
        print(
            f"  digest seconds, {words}: {found[run]:.2f} (target <= 2); "
            f"CPU seconds of this process {found[run + '_cpu']:.2f}"
        )
    parts = ", ".join(f"{name} {seconds:.2f}" for name, seconds in found["parts"].items())
    print(f"  parts, seconds: {parts}")
    rss = found["rss_mb"]
    print(f"  peak memory MB (ru_maxrss of the digest's process): {rss:.0f} (target <= 300)")
    print(f"  peak Python allocations MB during one digest (tracemalloc): {found['traced_mb']:.0f}")
    print(
        f"  output: text {found['text_chars']:,} characters, chart {found['chart_kb']:.0f} KB, "
        f"workbook {found['workbook_kb']:.0f} KB; {found['silent_units']} units silent this week, "
        f"{found['raised']} difficulties raised"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="The weekly digest of 10,000 tasks.")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server where a fresh database is created (default: SQLite, and "
        "PostgreSQL too when TIENDO_TEST_POSTGRES_URL is set)",
    )
    parser.add_argument("--measure", metavar="URL", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.measure:
        print(json.dumps(asyncio.run(measure(args.measure))))
        return
    if args.database_url:
        servers: list[str | None] = [None if is_sqlite(args.database_url) else args.database_url]
    else:
        servers = [None]
        if os.environ.get("TIENDO_TEST_POSTGRES_URL"):
            servers.append(os.environ["TIENDO_TEST_POSTGRES_URL"])
    for server in servers:
        asyncio.run(bench(server))


if __name__ == "__main__":
    main()
