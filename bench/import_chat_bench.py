"""Import-from-chat benchmark: officers' dialog steps while an admin imports a 5,000-task
appendix with /nhap, compared with the same officers without the import.

Everything goes through the real Telegram adapter against the tests' fake Bot API, as in
dialog_bench.py, on a fresh database per run (a SQLite file by default, or a PostgreSQL
database with --database-url). The officers file reports at a person's pace (they start within
5 s and pause 1-5 s between steps; two reports each, about a minute). In the second run an
admin takes the chat's own path meanwhile: /nhap, the appendix sent as a document, "a new
plan", its name, the dry run (its summary comes back through the outbox), Nhập; the import
runs as a background job in its own process (storage.import_job), and the run waits for the
admin's notice. Printed: p50/p95/p99 of the officers' step latency (from the update being
available to the bot's answer reaching the server) without and with the import, and for the
steps that were in flight while the dry run and while the import ran, beside the steps of the
same seconds in the run without the import (the officers keep the same schedule in both runs,
and the first seconds, when they all set off, are the busiest); the dry run's and the
import's durations.

Run: .venv/bin/python bench/import_chat_bench.py [OFFICERS] [--tasks 5000]
         [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test] [--thread]
--thread runs the jobs in a thread of this process instead (to compare; not what /nhap does).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The fake Bot API server lives with the tests; make the repository importable when run as a file.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from bench.dialog_bench import BASE_USER, PERSON, Pace, fresh_database, journey, press, text
from bench.import_bench import big_plan
from bot.app import open_app
from bot.channels.telegram import TelegramChannel, build_application
from bot.channels.telegram_polling import poll
from bot.config import load_settings
from bot.handler_config import handler_config
from bot.startup_freeze import freeze_startup_objects
from handlers import import_jobs
from handlers.dispatcher import Dispatcher
from handlers.notices import KIND as NOTICE
from storage import import_job
from storage.db import describe_url, is_sqlite
from storage.models import OutboxMessage, Report, Task
from storage.samples.builder import Layout, write_appendix
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.plan_factory import load_plan, make_invite

ADMIN = 6_000_001
ADMIN_START = 4.0  # seconds after the officers begin: they are all at work by then
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Window = tuple[float, float]


@dataclass
class Run:
    """One run's step timings (start, end) and, with the import, its windows."""

    steps: list[Window] = field(default_factory=list)
    began: float = 0.0  # when the officers set off
    dry_run: Window | None = None
    imported: Window | None = None
    tasks_imported: int = 0


def two_reports(code: str) -> list[Any]:
    """Join, then two whole reports; the plan is named, as the new plan has a VII.3 too."""
    report = [text("/baocao KH1 VII.3"), *journey(code)[2:]]
    return [text(f"/start {code}"), *report, *report]


async def walk(fake: FakeTelegram, user: int, steps: list[Any], run: Run, pace: Pace) -> None:
    last: Any = None
    start, chance = pace.for_user(user)
    await asyncio.sleep(start)
    for index, step in enumerate(steps):
        if index:
            await asyncio.sleep(chance.uniform(*pace.pause))
        seen = len(fake.to(user))
        started = time.perf_counter()
        await step(fake, user, last)
        await fake.wait_sent(user, seen + 1, timeout=300)
        run.steps.append((started, time.perf_counter()))
        last = fake.to(user)[-1]


async def admin_imports(fake: FakeTelegram, appendix: Path, run: Run) -> None:
    """/nhap as an admin does it in the chat, timing the dry run and the import."""
    await asyncio.sleep(ADMIN_START)

    async def say(step: Any, count: int) -> Any:
        await step(fake, ADMIN, fake.to(ADMIN)[-1] if fake.to(ADMIN) else None)
        return (await fake.wait_sent(ADMIN, count, timeout=120))[-1]

    await say(text("/nhap"), 1)
    await fake.push_document(ADMIN, appendix.name, appendix.read_bytes(), XLSX)
    await fake.wait_sent(ADMIN, 2, timeout=120)
    await say(press("imp:new_plan"), 3)
    await say(text("Kế hoạch thử nghiệm 5000 nhiệm vụ"), 4)
    started = time.perf_counter()
    await say(press("skip"), 5)
    await import_jobs.settle()  # the dry run; its summary is now in the outbox
    run.dry_run = (started, time.perf_counter())
    started = time.perf_counter()
    await fake.press(ADMIN, "imp:go", fake.to(ADMIN)[-1].message_id)
    await fake.wait_sent(ADMIN, 6, timeout=120)
    await import_jobs.settle()  # the import, and the admin's notice written
    run.imported = (started, time.perf_counter())


async def one_run(
    officers: int, server: str | None, tasks: int, with_import: bool, pace: Pace
) -> Run:
    run = Run()
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        appendix = write_appendix(
            folder / "phu_luc_5000.xlsx",
            big_plan(tasks),
            Layout(group_style="number", total_row=f"Tổng cộng: {tasks} nhiệm vụ"),
        )
        async with fresh_database(server, folder) as url:
            fake = FakeTelegram()
            await fake.start()
            settings = load_settings(
                database_url=url,
                telegram_bot_token=TOKEN,
                telegram_api_base_url=fake.url,
                data_dir=folder / "data",
                admins=f"telegram:{ADMIN}",
            )
            async with open_app(settings) as app:
                await load_plan(app.sessions, folder, plan="KH 1")
                code = await make_invite(app.sessions, "Sở TT&TT", uses=officers)
                application = build_application(settings)
                await application.initialize()
                dispatcher = Dispatcher(app.sessions, handler_config(settings))
                channel = TelegramChannel(application, dispatcher)
                stop = asyncio.Event()
                freeze_startup_objects()  # as `tiendo run` does once assembled
                poller = asyncio.create_task(poll(channel, stop, timeout=1))
                steps = two_reports(code)
                run.began = time.perf_counter()
                work = [walk(fake, BASE_USER + i, steps, run, pace) for i in range(officers)]
                if with_import:
                    work.append(admin_imports(fake, appendix, run))
                await asyncio.gather(*work)
                stop.set()
                await poller
                await application.shutdown()
                async with app.sessions() as session:
                    reports = await session.scalar(select(func.count()).select_from(Report))
                    run.tasks_imported = int(
                        await session.scalar(select(func.count()).select_from(Task)) or 0
                    )
                    notices = await session.scalar(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.chat_id == str(ADMIN))
                        .where(OutboxMessage.kind == NOTICE)  # not the dialog's replies
                    )
            await fake.stop()
    if reports != 2 * officers:
        raise SystemExit(f"{reports} reports stored for {officers} officers")
    if with_import and notices != 2:
        raise SystemExit(f"the admin was told {notices} times, not twice (summary, result)")
    return run


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def spread(windows: list[Window]) -> str:
    if not windows:
        return "no steps"
    latencies = [end - start for start, end in windows]
    return (
        f"p50 {1000 * statistics.median(latencies):.0f}, "
        f"p95 {1000 * percentile(latencies, 0.95):.0f}, "
        f"p99 {1000 * percentile(latencies, 0.99):.0f} ({len(latencies)} steps)"
    )


def shifted(window: Window | None, by: float) -> Window | None:
    return None if window is None else (window[0] + by, window[1] + by)


def during(steps: list[Window], window: Window | None) -> list[Window]:
    """The steps in flight at some moment of `window`."""
    if window is None:
        return []
    low, high = window
    return [(start, end) for start, end in steps if start < high and end > low]


async def main(officers: int, tasks: int, server: str | None) -> None:
    logging.basicConfig(level=logging.WARNING)
    quiet = await one_run(officers, server, tasks, with_import=False, pace=PERSON)
    busy = await one_run(officers, server, tasks, with_import=True, pace=PERSON)
    sqlite = server is None or is_sqlite(server)
    print(f"database: {'SQLite (a fresh file)' if sqlite else describe_url(server or '')}")
    print(f"officers: {officers}, two reports each at a person's pace; appendix: {tasks} tasks")
    print(f"jobs run in: {import_job.RUN_IN}")
    print(f"without the import: step latency ms {spread(quiet.steps)}")
    print("with /nhap importing beside them:")
    print(f"  all steps: {spread(busy.steps)}")
    for name, window in (("dry run", busy.dry_run), ("import", busy.imported)):
        print(f"  steps during the {name}: {spread(during(busy.steps, window))}")
        # The officers keep the same schedule in both runs: the same seconds without /nhap.
        same = shifted(window, quiet.began - busy.began)
        print(f"    the same seconds without the import: {spread(during(quiet.steps, same))}")
    for name, window in (("dry run", busy.dry_run), ("import", busy.imported)):
        if window is not None:
            print(
                f"  {name} seconds (answered at once, told when done): {window[1] - window[0]:.2f}"
            )
    print(f"  tasks in the database after: {busy.tasks_imported}")
    print("target: p99 < 150 ms at a person's pace (bench/README.md)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Dialog latency while /nhap imports.")
    parser.add_argument("officers", nargs="?", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite)")
    parser.add_argument(
        "--thread", action="store_true", help="run the jobs in a thread, not a process"
    )
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.thread:
        import_job.RUN_IN = "thread"
    asyncio.run(main(arguments.officers, arguments.tasks, arguments.database_url))
