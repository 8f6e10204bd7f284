"""Engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

from storage import sqlite_inline

# How long a write waits for SQLite's one writer: in this process's queue, or for another process.
WRITE_WAIT_SECONDS = 30.0


class DatabaseUnavailable(Exception):
    """The database named by DATABASE_URL cannot be reached; the message is for people."""


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets foreign keys and WAL, and runs its calls inline."""
    if is_sqlite(url):
        database, options = sqlite_inline.connect_args(make_url(url))
        options.setdefault("timeout", WRITE_WAIT_SECONDS)  # unless the URL sets ?timeout=
        engine = create_async_engine(
            url, async_creator=lambda: sqlite_inline.connect(database, **options), **kwargs
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


_WRITE_LOCKS: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


def _engine_lock(bind: Any) -> asyncio.Lock:
    engine = getattr(bind, "engine", bind)
    lock = _WRITE_LOCKS.get(engine)
    if lock is None:
        lock = _WRITE_LOCKS[engine] = asyncio.Lock()
    return lock


class SingleWriterSession(Session):
    """A session that waits for its engine's in-process write lock just before it first writes.

    SQLite has a single writer, and a writer that finds it busy sleeps and polls, which costs
    far more than waiting in line; PostgreSQL needs none of this. Reads never take the lock, so
    many dialogs read at once and only their writes queue. The lock is released when the
    transaction ends. It is taken from inside SQLAlchemy's greenlet, where autoflush also runs.
    """

    _holds_write_lock = False

    def flush(self, objects: Sequence[Any] | None = None) -> None:
        if not self._is_clean():
            self._take_write_lock()
        super().flush(objects)

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(statement, "is_dml", False):
            self._take_write_lock()
        return super().execute(statement, *args, **kwargs)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release_write_lock()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release_write_lock()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release_write_lock()

    def _take_write_lock(self) -> None:
        if self._holds_write_lock:
            return
        # A connection first: waiting for one from the pool while holding the lock would stall
        # every session that holds a connection and waits for the lock.
        self.connection()
        lock = _engine_lock(self.get_bind())
        try:
            await_only(asyncio.wait_for(lock.acquire(), WRITE_WAIT_SECONDS))
        except TimeoutError:
            reason = Exception("database is locked")
            raise OperationalError("waiting for the write lock", None, reason) from None
        self._holds_write_lock = True

    def _release_write_lock(self) -> None:
        if self._holds_write_lock:
            self._holds_write_lock = False
            _engine_lock(self.get_bind()).release()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    if engine.dialect.name == "sqlite":
        return async_sessionmaker(
            engine, expire_on_commit=False, sync_session_class=SingleWriterSession
        )
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
