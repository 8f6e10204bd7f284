"""SQLite's one writer: dialogs read side by side, their writes queue (whatever issued them: the
ORM, text() or driver SQL), and a lock held by another process is waited for off the event loop,
up to the timeout, then refused as busy by SQLite's own error code."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

import storage.db
from storage.db import DatabaseBusy, create_engine, is_busy, session_factory
from storage.models import Unit


def _path(sqlite_url: str) -> str:
    return sqlite_url.split("///", 1)[1]


async def test_more_writers_than_pooled_connections_all_get_their_turn(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url, pool_size=2, max_overflow=1, pool_timeout=5)
    sessions = session_factory(engine)
    readers_in = asyncio.Event()
    go = asyncio.Event()

    async def read_then_write(n: int) -> None:
        async with sessions() as session:
            await session.scalar(select(func.count(Unit.id)))  # holds a pooled connection
            if n == 2:
                readers_in.set()
            await go.wait()
            session.add(Unit(name=f"Đơn vị {n}", short_name=f"ĐV{n}", kind="department"))
            await session.commit()

    async def write_blind() -> None:
        await readers_in.wait()
        async with sessions() as session:  # writes first, while every connection is taken
            session.add(Unit(name="Đơn vị mới", short_name="ĐVM", kind="department"))
            flushing = asyncio.create_task(session.flush())
            await asyncio.sleep(0.05)
            go.set()
            await flushing
            await session.commit()

    work = [*(read_then_write(n) for n in range(3)), write_blind()]
    await asyncio.wait_for(asyncio.gather(*work), timeout=20)
    async with sessions() as session:
        assert await session.scalar(select(func.count(Unit.id))) == 4
    await engine.dispose()


async def test_a_failed_write_hands_the_lock_on(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    async with sessions() as session:
        session.add(Unit(name="Sở A", short_name="A", kind="department"))
        await session.commit()
    with pytest.raises(IntegrityError):
        async with sessions() as session:
            session.add(Unit(name="Sở A", short_name="A", kind="department"))  # not unique
            await session.commit()
    async with sessions() as session:
        session.add(Unit(name="Sở B", short_name="B", kind="department"))
        await asyncio.wait_for(session.commit(), timeout=5)
    await engine.dispose()


INSERT_UNIT = (
    "INSERT INTO units (name, short_name, kind, covers) VALUES (:name, :name, 'other', '')"
)
COUNT_UNITS = "SELECT count(*) FROM units"


def _no_busy_wait(sqlite_url: str) -> str:
    """The same database, with SQLite's busy timeout off: a writer that meets another one's lock
    fails at once instead of sleeping in SQLite's busy handler, so only our queue can save it."""
    return f"{sqlite_url}?timeout=0"


async def _in_order(
    first: Callable[[], Awaitable[None]], second: Callable[[], Awaitable[None]]
) -> None:
    await asyncio.wait_for(asyncio.gather(first(), second()), timeout=10)


async def test_raw_sql_through_a_session_waits_its_turn(sqlite_url: str) -> None:
    engine = create_engine(_no_busy_wait(sqlite_url))
    sessions = session_factory(engine)
    first_wrote = asyncio.Event()
    order: list[str] = []

    async def first() -> None:
        async with sessions() as session:
            await session.execute(text(INSERT_UNIT), {"name": "Sở A"})
            first_wrote.set()
            await asyncio.sleep(0.2)  # the transaction stays open, holding SQLite's lock
            order.append("first commits")
            await session.commit()

    async def second() -> None:
        await first_wrote.wait()
        async with sessions() as session:
            await session.execute(text("UPDATE units SET covers = 'x' WHERE name = 'Sở A'"))
            order.append("second wrote")
            await session.execute(text(INSERT_UNIT), {"name": "Sở B"})
            await session.commit()

    await _in_order(first, second)
    assert order == ["first commits", "second wrote"]
    async with sessions() as session:
        assert (await session.execute(text(COUNT_UNITS))).scalar() == 2
        covers = await session.scalar(select(Unit.covers).where(Unit.name == "Sở A"))
        assert covers == "x"  # the update ran after the insert it waited for
    await engine.dispose()


async def test_driver_sql_on_connections_waits_its_turn(sqlite_url: str) -> None:
    engine = create_engine(_no_busy_wait(sqlite_url))
    first_wrote = asyncio.Event()
    order: list[str] = []

    async def first() -> None:
        async with engine.connect() as connection:
            await connection.exec_driver_sql(
                "INSERT INTO units (name, short_name, kind, covers) VALUES ('Sở C', 'C', 'x', '')"
            )
            first_wrote.set()
            await asyncio.sleep(0.2)
            order.append("first commits")
            await connection.commit()

    async def second() -> None:
        await first_wrote.wait()
        async with engine.begin() as connection:
            await connection.exec_driver_sql(
                "WITH n AS (SELECT 'Sở D' AS name) INSERT INTO units"
                " (name, short_name, kind, covers) SELECT name, 'D', 'x', '' FROM n"
            )
            order.append("second wrote")

    await _in_order(first, second)
    assert order == ["first commits", "second wrote"]
    async with engine.connect() as connection:
        assert (await connection.exec_driver_sql(COUNT_UNITS)).scalar() == 2
    await engine.dispose()


async def test_a_writer_that_rolls_back_hands_the_lock_on(sqlite_url: str) -> None:
    engine = create_engine(_no_busy_wait(sqlite_url))
    async with engine.connect() as connection:
        await connection.execute(text(INSERT_UNIT), {"name": "Sở E"})
        await connection.rollback()
    async with engine.connect() as connection:  # closed without commit or rollback
        await connection.execute(text(INSERT_UNIT), {"name": "Sở F"})
    async with engine.begin() as connection:
        await asyncio.wait_for(connection.execute(text(INSERT_UNIT), {"name": "Sở G"}), 5)
    async with engine.connect() as connection:
        names = (await connection.exec_driver_sql("SELECT name FROM units")).scalars().all()
    assert names == ["Sở G"]
    await engine.dispose()


async def test_autocommit_statements_hand_the_lock_on_at_once(sqlite_url: str) -> None:
    engine = create_engine(_no_busy_wait(sqlite_url))
    async with engine.connect() as connection:
        auto = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(text(INSERT_UNIT), {"name": "Sở H"})
        async with engine.begin() as other:  # while the first connection is still open
            await asyncio.wait_for(other.execute(text(INSERT_UNIT), {"name": "Sở I"}), 5)
    async with engine.connect() as connection:
        assert (await connection.exec_driver_sql(COUNT_UNITS)).scalar() == 2
    await engine.dispose()


async def test_a_writer_that_never_gets_its_turn_is_told_the_database_is_busy(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage.db, "WRITE_WAIT_SECONDS", 0.2)
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    async with sessions() as holder:
        holder.add(Unit(name="Sở K", short_name="K", kind="other"))
        await holder.flush()  # holds the write lock until its transaction ends
        with pytest.raises(DatabaseBusy) as refused:
            async with sessions() as session:
                session.add(Unit(name="Sở L", short_name="L", kind="other"))
                await session.commit()
        assert is_busy(refused.value) and isinstance(refused.value, OperationalError)
        await holder.commit()
    await engine.dispose()


HOLDER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("ROLLBACK")
"""


@contextmanager
def _another_process_writing(sqlite_url: str, seconds: float) -> Iterator[subprocess.Popen[str]]:
    """Another process (say `tiendo import`) holds SQLite's write lock for `seconds`."""
    path = sqlite_url.split("///", 1)[1]
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, path, str(seconds)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "held"
        yield process
    finally:
        process.wait(timeout=seconds + 10)


@asynccontextmanager
async def _ticker() -> AsyncIterator[list[float]]:
    """Records the longest pause of the event loop while the block runs (a bot that answers)."""
    longest = [0.0]
    stop = asyncio.Event()

    async def tick() -> None:
        last = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.005)
            now = time.monotonic()
            longest[0] = max(longest[0], now - last)
            last = now

    ticking = asyncio.create_task(tick())
    try:
        yield longest
    finally:
        stop.set()
        await ticking


async def _write_unit(engine: AsyncEngine, name: str) -> None:
    async with session_factory(engine)() as session:
        session.add(Unit(name=name, short_name=name, kind="other"))
        await session.commit()


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.exec_driver_sql(COUNT_UNITS)).scalar_one())


async def test_another_process_s_lock_is_waited_out_while_the_bot_keeps_answering(
    sqlite_url: str,
) -> None:
    engine = create_engine(sqlite_url)
    with _another_process_writing(sqlite_url, 0.8):
        started = time.monotonic()
        async with _ticker() as longest_pause:
            await asyncio.wait_for(_write_unit(engine, "Sở M"), 10)
        waited = time.monotonic() - started
    assert waited >= 0.5  # it did wait for the other process …
    assert longest_pause[0] < 0.1  # … and the loop went on meanwhile
    assert await _count(engine) == 1
    await engine.dispose()


async def test_a_lock_held_past_the_timeout_is_refused_as_busy(sqlite_url: str) -> None:
    engine = create_engine(f"{sqlite_url}?timeout=0.3")
    with _another_process_writing(sqlite_url, 1.5), pytest.raises(OperationalError) as refused:
        await _write_unit(engine, "Sở N")
    assert is_busy(refused.value)  # SQLite's error code, whatever the message says
    assert await _count(engine) == 0
    await engine.dispose()


async def test_a_step_cancelled_while_another_process_writes_leaves_the_bot_running(
    sqlite_url: str,
) -> None:
    engine = create_engine(sqlite_url)
    with _another_process_writing(sqlite_url, 1.0):
        async with _ticker() as longest_pause:
            step = asyncio.create_task(_write_unit(engine, "Sở P"))
            await asyncio.sleep(0.2)  # the step is waiting for the other process's lock
            step.cancel()
            with pytest.raises(asyncio.CancelledError):
                await step
            # The next writer queues behind it and gets through once the other process is done.
            await asyncio.wait_for(_write_unit(engine, "Sở Q"), 10)
    assert longest_pause[0] < 0.1
    async with engine.connect() as connection:
        names = (await connection.exec_driver_sql("SELECT name FROM units")).scalars().all()
    assert names == ["Sở Q"]  # the cancelled step wrote nothing
    await engine.dispose()


@pytest.mark.parametrize(
    ("statement", "writes"),
    [
        ("SELECT 1", False),
        ("  /* look-up */ select * from units", False),
        ("PRAGMA journal_mode", False),
        ("PRAGMA user_version=3", True),
        ("WITH n AS (SELECT 1) SELECT * FROM n", False),
        ("WITH n AS (SELECT 1) DELETE FROM units", True),
        ("insert into units default values", True),
        ("-- comment\nUPDATE units SET covers = ''", True),
        ("BEGIN IMMEDIATE", True),
        ("CREATE TABLE t (x)", True),
        ("SAVEPOINT sa_1", False),
    ],
)
def test_statements_that_may_write_are_told_from_reads(statement: str, writes: bool) -> None:
    assert storage.db.writes(statement) is writes


async def test_a_burst_of_dialogs_leaves_its_connections_open_for_the_next(db_url: str) -> None:
    # SQLAlchemy's default would keep 5 and close the rest at check-in: the next burst would
    # open them again (for SQLite a thread and the pragmas each), and the steps wait for that.
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    all_in = asyncio.Barrier(storage.db.POOL_SIZE)

    async def read() -> None:
        async with sessions() as session:
            await session.scalar(select(func.count(Unit.id)))  # holds a pooled connection
            await all_in.wait()

    await asyncio.wait_for(asyncio.gather(*(read() for _ in range(storage.db.POOL_SIZE))), 20)
    assert engine.sync_engine.pool.checkedin() == storage.db.POOL_SIZE  # type: ignore[attr-defined]
    await engine.dispose()
