"""Two officers of one unit save a report on the same task at the same moment: versions 2 and
3, never two 2s, and each keeps the rest of its unit of work."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import create_engine, session_factory
from storage.models import Person, Report, ReportKind, Task
from storage.repositories import people
from storage.repositories import reports as report_store
from storage.units import find_unit
from tests.plan_factory import NOW, load_plan

LEAD = report_store.Submission(ReportKind.REPORT, "Đã triển khai", "", "", "in_progress", 40)


async def officer(sessions: async_sessionmaker[AsyncSession], key: str) -> int:
    async with sessions() as session:
        unit = await find_unit(session, "Sở TT&TT")
        assert unit is not None
        person = await people.create(
            session,
            channel="telegram",
            external_id=key,
            chat_id=key,
            name=key,
            role="officer",
            unit_id=unit.id,
            language="vi",
            now=NOW,
        )
        await session.commit()
        return person.id


async def save(
    sessions: async_sessionmaker[AsyncSession],
    person_id: int,
    inserted: asyncio.Event,
    others_turn: asyncio.Event,
) -> int:
    """Load the task, let the other writer in, then file a report and commit."""
    async with sessions() as session:
        task = await session.scalar(select(Task).where(Task.code == "VII.3"))
        person = await session.get(Person, person_id)
        assert task is not None and person is not None
        await others_turn.wait()
        person.language = "en"  # other work in the same transaction, kept on a retry
        # Not flushed before the report: nothing of this unit of work reaches the database (nor,
        # on SQLite, takes the writer's turn) until the report's own INSERT.
        with session.no_autoflush:
            report = await report_store.add(
                session, task=task, person=person, submission=LEAD, files=[], channel="t", now=NOW
            )
        inserted.set()
        await asyncio.sleep(0.3)  # the other officer saves meanwhile
        await session.commit()
        return report.version


async def test_concurrent_reports_get_the_next_versions(tmp_path: Path, db_url: str) -> None:
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    await load_plan(sessions, tmp_path)
    first, an, binh = [await officer(sessions, key) for key in ("a0", "a1", "a2")]
    first_done = asyncio.Event()
    first_done.set()
    assert await save(sessions, first, asyncio.Event(), first_done) == 1

    an_inserted, go = asyncio.Event(), asyncio.Event()
    go.set()
    # Both officers have read the task; An inserts first and holds her transaction open while
    # Binh inserts: Binh's number must not collide with hers once she commits.
    versions = await asyncio.gather(
        save(sessions, an, an_inserted, go), save(sessions, binh, asyncio.Event(), an_inserted)
    )

    assert sorted(versions) == [2, 3] and versions[0] == 2
    async with sessions() as session:
        rows = (await session.execute(select(Report.version, Report.person_id))).all()
        languages = (await session.scalars(select(Person.language).where(Person.id != first))).all()
    assert sorted(rows) == [(1, first), (2, an), (3, binh)]
    assert list(languages) == ["en", "en"]
    await engine.dispose()
