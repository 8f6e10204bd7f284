"""Engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import AdaptedConnection, Connection
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

# How long a write waits for SQLite's one writer: in this process's queue, or for another process.
WRITE_WAIT_SECONDS = 30.0

# Connections the pool keeps open between bursts (SQLAlchemy's default keeps 5 and opens up to
# 10 more for a burst, closing each again when it is checked in). With 200 officers reporting,
# that churn (for SQLite a new aiosqlite thread and connection, its pragmas run, every time) put
# the slowest hundredth of steps in bench/dialog_bench.py over 150 ms in most runs; with 20 kept
# open, none of ten runs was (see bench/README.md). Idle connections cost a thread each for
# SQLite and a server connection each for PostgreSQL: 20 per instance, 30 at a burst
# (`tiendo run` takes the number from DATABASE_POOL_SIZE).
POOL_SIZE = 20

# SQLite's primary result codes for "another connection holds the lock" (extended codes such as
# SQLITE_BUSY_SNAPSHOT carry them in their low byte).
SQLITE_BUSY_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
# PostgreSQL's transient conflicts, worth a retry: serialization failure, deadlock, lock timeout.
POSTGRES_BUSY_STATES = {"40001", "40P01", "55P03"}


class DatabaseUnavailable(Exception):
    """The database named by DATABASE_URL cannot be reached; the message is for people."""


class DatabaseBusy(OperationalError):
    """A write waited WRITE_WAIT_SECONDS for its turn in this process's queue and gave up."""

    def __init__(self) -> None:
        reason = TimeoutError(f"no turn to write within {WRITE_WAIT_SECONDS:g} s")
        super().__init__("waiting for the write lock", None, reason)


def is_busy(exc: BaseException) -> bool:
    """True when `exc` says the database was busy (locked by another writer): worth a retry."""
    if isinstance(exc, DatabaseBusy):
        return True
    orig = getattr(exc, "orig", exc)
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in SQLITE_BUSY_CODES
    return getattr(orig, "sqlstate", None) in POSTGRES_BUSY_STATES


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets foreign keys, WAL and one writer at a time in this process."""
    kwargs.setdefault("pool_size", POOL_SIZE)
    if not is_sqlite(url):
        kwargs.setdefault("pool_pre_ping", True)
        return create_async_engine(url, **kwargs)
    connect_args = dict(kwargs.pop("connect_args", {}))
    if "timeout" not in make_url(url).query:  # a URL's ?timeout= wins
        # sqlite3's busy timeout: another process's lock is waited for in aiosqlite's thread.
        connect_args.setdefault("timeout", WRITE_WAIT_SECONDS)
    engine = create_async_engine(url, connect_args=connect_args, **kwargs)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    _queue_writes(engine)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# SQLite has a single writer, and a writer that finds it busy sleeps and polls (SQLite's busy
# handler), which costs far more than waiting in line. So, within this process, a connection
# waits on its engine's lock just before its first writing statement, whatever issued it (the
# ORM's flush, session.execute(insert(…)), text("UPDATE …"), exec_driver_sql), and hands the
# lock on when its transaction ends. Reads never wait: many dialogs read at once and only their
# writes queue. PostgreSQL needs none of this. Only public SQLAlchemy events and
# AdaptedConnection.run_async are used.

_HELD = "tiendo_write_lock"  # key in the pooled connection's info: the lock it holds
_READS = ("SELECT", "VALUES", "EXPLAIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT", "END")
_FIRST_WORD = re.compile(r"\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*\(*\s*([A-Za-z]+)", re.DOTALL)
_WRITE_WORD = re.compile(r"\b(?:INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


@lru_cache(maxsize=1024)
def writes(statement: str) -> bool:
    """Whether SQLite may write for `statement`; anything not known to be a read counts."""
    match = _FIRST_WORD.match(statement)
    word = match.group(1).upper() if match else ""
    if word == "WITH":  # a CTE in front of an INSERT, UPDATE or DELETE
        return bool(_WRITE_WORD.search(statement))
    if word == "PRAGMA":
        return "=" in statement
    return word not in _READS


def _queue_writes(engine: AsyncEngine) -> None:
    lock, sync = asyncio.Lock(), engine.sync_engine

    def before_cursor_execute(conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if _HELD not in conn.info and writes(statement):
            adapted = conn.connection.dbapi_connection
            assert isinstance(adapted, AdaptedConnection)  # aiosqlite's, as SQLAlchemy adapts it
            # In SQLAlchemy's greenlet: run_async waits on the loop, so other dialogs go on.
            adapted.run_async(lambda _driver: _take(lock))
            conn.info[_HELD] = lock

    def after_cursor_execute(conn: Connection, *_: Any) -> None:
        if (
            _HELD in conn.info
            and conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
        ):
            _hand_on(conn.info)  # the statement committed by itself

    def commit(conn: Connection) -> None:
        _end_transaction(conn, "commit")

    def rollback(conn: Connection) -> None:
        _end_transaction(conn, "rollback")

    def returned(_dbapi: Any, record: ConnectionPoolEntry, *_: Any) -> None:
        _hand_on(record.info)  # a connection checked in or invalidated ends its transaction

    event.listen(sync, "before_cursor_execute", before_cursor_execute)
    event.listen(sync, "after_cursor_execute", after_cursor_execute)
    event.listen(sync, "commit", commit)
    event.listen(sync, "rollback", rollback)
    for name in ("checkin", "invalidate"):
        event.listen(sync.pool, name, returned)


async def _take(lock: asyncio.Lock) -> None:
    try:
        async with asyncio.timeout(WRITE_WAIT_SECONDS):
            await lock.acquire()
    except TimeoutError:
        raise DatabaseBusy() from None


def _end_transaction(conn: Connection, how: str) -> None:
    """Commit or roll back now, then hand the lock on.

    SQLAlchemy fires these events just before it commits or rolls back; handing the lock on
    then would send the next writer into SQLite's busy handler while this transaction still
    holds the file. SQLAlchemy's own commit or rollback, right after, finds nothing left to do;
    if ours fails, theirs meets the same error and reports it the usual way.
    """
    if conn.invalidated or conn.closed or _HELD not in conn.info:
        return  # an invalidated connection handed its lock on when the pool let it go
    try:
        getattr(conn.connection, how)()
    except Exception:
        pass  # SQLAlchemy's own attempt reports it, see above
    finally:
        _hand_on(conn.info)


def _hand_on(info: dict[Any, Any]) -> None:
    lock = info.pop(_HELD, None)
    if lock is not None:
        lock.release()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (replies are built from them)."""
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: committed when the block ends, rolled back on any error."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def check_connection(engine: AsyncEngine, timeout: float = 10.0) -> None:
    """Raise DatabaseUnavailable, with a readable reason, if the database cannot be reached."""
    try:
        async with asyncio.timeout(timeout):
            async with engine.connect() as connection:
                await connection.exec_driver_sql("SELECT 1")
    except (OperationalError, DBAPIError, OSError, TimeoutError) as exc:
        raise DatabaseUnavailable(describe_url(str(engine.url)), _reason(exc)) from None


def describe_url(url: str) -> str:
    """The URL without its password, safe to print."""
    return make_url(url).render_as_string(hide_password=True)


def _reason(exc: BaseException) -> str:
    inner = getattr(exc, "orig", None) or exc
    text = str(inner).strip().splitlines()[0] if str(inner).strip() else type(inner).__name__
    return text[:200]
