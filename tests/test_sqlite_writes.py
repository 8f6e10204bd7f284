"""SQLite's one writer: dialogs read side by side, their writes queue, and a lock held by another
process is waited for off the event loop, up to the timeout, then refused clearly."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from storage.db import create_engine, session_factory
from storage.models import Unit
from storage.sqlite_inline import connect


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


def _hold_write_lock(path: str, seconds: float, held: threading.Event) -> None:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    held.set()
    time.sleep(seconds)
    other.execute("ROLLBACK")
    other.close()


async def _write_while_locked(path: str, hold: float, timeout: float) -> tuple[int, float]:
    """Insert while another connection holds the lock; returns loop ticks seen and seconds."""
    held = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, hold, held))
    holder.start()
    held.wait(5)
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    ticking = asyncio.create_task(ticker())
    connection = await connect(path, timeout=timeout)
    started = time.monotonic()
    try:
        cursor = await connection.cursor()
        await cursor.execute(
            "INSERT INTO units (name, short_name, kind, covers) VALUES (?,?,?,?)",
            ("Sở C", "C", "department", ""),
        )
        await connection.commit()
    finally:
        elapsed = time.monotonic() - started
        stop.set()
        await ticking
        await connection.close()
        holder.join()
    return ticks, elapsed


async def test_a_lock_held_by_another_process_is_waited_for_without_freezing_the_bot(
    sqlite_url: str,
) -> None:
    ticks, elapsed = await _write_while_locked(_path(sqlite_url), hold=0.6, timeout=10)
    assert elapsed >= 0.5
    assert ticks >= 20  # the loop kept running while the write waited
    check = sqlite3.connect(_path(sqlite_url))
    assert check.execute("SELECT count(*) FROM units WHERE name = 'Sở C'").fetchone() == (1,)
    check.close()


async def test_a_lock_held_past_the_timeout_is_refused_as_locked(sqlite_url: str) -> None:
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        await _write_while_locked(_path(sqlite_url), hold=1.5, timeout=0.3)


async def test_a_session_waits_out_another_process_s_transaction(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    held = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(_path(sqlite_url), 1.0, held))
    holder.start()
    held.wait(5)
    try:
        async with sessions() as session:
            session.add(Unit(name="Sở D", short_name="D", kind="department"))
            await session.commit()  # waits out the other writer, then succeeds
    finally:
        holder.join()
    async with sessions() as session:
        assert await session.scalar(select(func.count(Unit.id))) == 1
    await engine.dispose()


async def test_autocommit_connections_work_inline(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    async with engine.connect() as connection:
        auto = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await auto.exec_driver_sql(
            "INSERT INTO units (name, short_name, kind, covers) "
            "VALUES ('Sở E', 'E', 'department', '')"
        )
    async with engine.connect() as connection:
        assert (await connection.exec_driver_sql("SELECT count(*) FROM units")).scalar() == 1
    await engine.dispose()
