"""An admin loads a new 600-task plan while officers work: its tasks go in a few dozen at a
time, each chunk its own short transaction (on SQLite every writing dialog step waits for an
import's transaction), and nobody sees the plan, or any of its tasks, before the last chunk is
in. An import that fails on the way takes back what it wrote; one killed on the way leaves a
hidden plan that the next import clears."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from storage import import_steps
from storage.db import create_engine, session_factory
from storage.importer import import_plan
from storage.models import AuditLog, Plan, Task, TaskGroup, TaskUnit
from storage.repositories import plans as plan_store
from storage.repositories import tasks as task_store
from storage.repositories.plans import PlanNameTaken
from storage.samples.builder import write_appendix
from storage.units import find_unit
from tests.plan_factory import load_plan
from tests.test_import_bulk import PER_GROUP, big_plan

ROOT = Path(__file__).resolve().parent.parent
TASKS = 3 * PER_GROUP
TODAY = datetime(2026, 11, 27, tzinfo=UTC).date()


@dataclass(frozen=True)
class Seen:
    """What a reader saw at one moment while the import ran."""

    listed: bool  # the new plan among the plans
    its_tasks: int  # the new plan's tasks in the database, hidden or not
    officer_tasks: int  # the tasks the officer of Sở TT&TT is offered


async def look(sessions: Any) -> Seen:
    async with sessions() as session:
        listed = any(plan.name == "KH lớn" for plan in await plan_store.every(session))
        new = select(Plan.id).where(Plan.name == "KH lớn")
        its = select(func.count()).select_from(Task).where(Task.plan_id.in_(new))
        unit = await find_unit(session, "Sở TT&TT")
        assert unit is not None
        offered = (await task_store.for_unit(session, unit, TODAY)).all()
        return Seen(listed, int(await session.scalar(its) or 0), len(offered))


@dataclass(frozen=True)
class World:
    """A database following one small plan, and the appendix of a new 600-task plan."""

    sessions: Any
    path: Path
    before: Seen  # what a reader sees before the import


@pytest.fixture
async def world(tmp_path: Path, db_url: str) -> AsyncIterator[World]:
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    try:
        await load_plan(sessions, tmp_path, plan="KH 2023")
        path = write_appendix(tmp_path / "lon.xlsx", big_plan())
        yield World(sessions, path, await look(sessions))
    finally:
        await engine.dispose()


@pytest.fixture
def small_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(import_steps, "CHUNK", 50)
    monkeypatch.setattr(import_steps, "PAUSE", 0.05)


async def test_nobody_sees_a_new_plan_before_its_last_task_is_in(
    world: World, small_steps: None
) -> None:
    sessions, path, before = world.sessions, world.path, world.before
    importing = asyncio.create_task(import_plan(sessions, path, plan_name="KH lớn"))
    seen: list[Seen] = []
    while not importing.done():
        seen.append(await look(sessions))
        await asyncio.sleep(0.005)
    result = importing.result()
    after = await look(sessions)

    assert len(result.created) == TASKS and result.plan.created
    assert any(0 < s.its_tasks < TASKS for s in seen), "written in steps"
    assert all(not s.listed or s.its_tasks == TASKS for s in seen)
    assert {s.officer_tasks for s in seen} <= {before.officer_tasks, after.officer_tasks}
    assert after.listed and after.its_tasks == TASKS
    assert after.officer_tasks > before.officer_tasks
    async with sessions() as session:
        created = select(func.count()).where(AuditLog.action == "task.created")
        assert await session.scalar(created) == 6 + TASKS  # the small plan's and these
        plan = await session.scalar(select(Plan).where(Plan.name == "KH lớn"))
        assert plan is not None and plan.followed and not plan.importing


async def test_an_import_that_fails_on_the_way_takes_back_what_it_wrote(
    world: World, small_steps: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions, path = world.sessions, world.path
    written = import_steps._new_ids
    calls = 0

    async def failing_on_the_third_chunk(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError("disk unplugged")
        return await written(*args)

    before = await counts(sessions)
    monkeypatch.setattr(import_steps, "_new_ids", failing_on_the_third_chunk)
    with pytest.raises(OSError):
        await import_plan(sessions, path, plan_name="KH lớn")

    assert await counts(sessions) == before
    async with sessions() as session:
        entry = await session.scalar(
            select(AuditLog).where(AuditLog.action == "plan.import_abandoned")
        )
        assert entry is not None
        assert entry.details == {"name": "KH lớn", "tasks_written": 100}

    monkeypatch.setattr(import_steps, "_new_ids", written)  # the disk is back: try again
    again = await import_plan(sessions, path, plan_name="KH lớn")
    assert again.plan.created and len(again.created) == TASKS


async def counts(sessions: Any) -> tuple[int, ...]:
    async with sessions() as session:
        return tuple(
            [
                int(await session.scalar(select(func.count()).select_from(table)) or 0)
                for table in (Plan, TaskGroup, Task, TaskUnit)
            ]
        )


KILLED_IMPORT = """
import asyncio, sys
from pathlib import Path
from storage import import_steps
from storage.db import create_engine, session_factory
from storage.importer import import_plan

import_steps.CHUNK, import_steps.PAUSE = 50, 30.0  # killed long before a third chunk

async def main() -> None:
    sessions = session_factory(create_engine(sys.argv[1]))
    await import_plan(sessions, Path(sys.argv[2]), plan_name="KH lớn")

asyncio.run(main())
"""


async def test_a_plan_left_by_a_killed_import_stays_hidden_and_the_next_import_clears_it(
    world: World, db_url: str
) -> None:
    sessions, path, before = world.sessions, world.path, world.before
    await kill_during_import(db_url, path, sessions)

    left = await look(sessions)
    assert left == Seen(listed=False, its_tasks=50, officer_tasks=before.officer_tasks)
    with pytest.raises(PlanNameTaken):  # it may still be running, for all anyone knows
        await import_plan(sessions, path, plan_name="KH lớn")

    async with sessions() as session:  # ten minutes on, nobody is writing it any more
        long_ago = datetime.now(UTC) - import_steps.ABANDONED_AFTER - timedelta(minutes=1)
        await session.execute(
            update(Plan).where(Plan.importing.is_(True)).values(created_at=long_ago)
        )
        await session.commit()
    result = await import_plan(sessions, path, plan_name="KH lớn")

    assert result.plan.created and len(result.created) == TASKS
    after = await look(sessions)
    assert after.listed and after.its_tasks == TASKS
    async with sessions() as session:
        abandoned = select(AuditLog.details).where(AuditLog.action == "plan.import_abandoned")
        assert list((await session.scalars(abandoned)).all()) == [
            {"name": "KH lớn", "tasks_written": 50}
        ]


async def kill_during_import(url: str, path: Path, sessions: Any) -> None:
    """Run the import in a child process and SIGKILL it once its first chunk is in."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", KILLED_IMPORT, url, str(path), env=environment
    )
    try:
        async with asyncio.timeout(60):
            while True:
                async with sessions() as session:
                    hidden = select(Plan.id).where(Plan.importing.is_(True))
                    its = select(func.count()).select_from(Task).where(Task.plan_id.in_(hidden))
                    if await session.scalar(its):
                        break
                assert child.returncode is None, "the import ended before it was killed"
                await asyncio.sleep(0.05)
    finally:
        if child.returncode is None:
            child.send_signal(signal.SIGKILL)
        await child.wait()
