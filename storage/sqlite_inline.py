"""An aiosqlite-shaped SQLite connection whose calls run on the event loop's own thread.

Why: through aiosqlite each statement costs four hand-offs to a worker thread (cursor, execute,
fetch, close). Measured on this machine, `SELECT 1` took 237 µs of the loop's time that way and
45 µs inline, while the small look-ups of a dialog step take SQLite microseconds. The one call
that can take long is waiting for a write lock held by another process; this connection has no
busy timeout of its own, and a call that finds the database busy is repeated in a worker thread
that does wait (up to the connection's timeout), so the loop itself never waits for a lock.
Writers within one process queue on storage.db's lock and never meet here.

SQLAlchemy's aiosqlite dialect drives it (`async_creator`), so errors are sqlite3's own, as
with aiosqlite.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine.url import URL

T = TypeVar("T")
BUSY_CODES = {sqlite3.SQLITE_BUSY, getattr(sqlite3, "SQLITE_BUSY_SNAPSHOT", -1)}


def connect_args(url: URL) -> tuple[str, dict[str, Any]]:
    """The file (or URI) and the sqlite3.connect options that the aiosqlite dialect would use."""
    args, options = SQLiteDialect_aiosqlite().create_connect_args(url)
    return str(args[0]), dict(options)


async def connect(database: str, timeout: float, **options: Any) -> InlineConnection:
    options.pop("check_same_thread", None)
    raw = sqlite3.connect(database, timeout=0, check_same_thread=False, **options)
    return InlineConnection(raw, timeout)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code in BUSY_CODES if code is not None else "locked" in str(exc)


class _RunNow:
    """Stands in for aiosqlite's queue to its thread, which the dialect uses to switch
    isolation levels (AUTOCOMMIT): the call runs at once."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:
            future.set_exception(exc)


class InlineConnection:
    def __init__(self, raw: sqlite3.Connection, timeout: float) -> None:
        self._conn = raw
        self._connection: sqlite3.Connection | None = raw  # the dialect checks it is open
        self._tx = _RunNow()
        self._timeout = timeout

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        """`call(*args)` inline; in a thread that waits for the lock if the database is busy."""
        try:
            return call(*args)
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
        return await asyncio.to_thread(self._waiting, call, *args)

    def _waiting(self, call: Callable[..., T], *args: Any) -> T:
        milliseconds = int(self._timeout * 1000)
        self._conn.execute(f"PRAGMA busy_timeout={milliseconds}")
        try:
            return call(*args)
        finally:
            self._conn.execute("PRAGMA busy_timeout=0")

    def cursor(self) -> _CursorOpener:
        return _CursorOpener(self)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def commit(self) -> None:
        await self.run(self._conn.commit)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._connection = None
        self._conn.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    def stop(self) -> None:
        self._connection = None
        self._conn.close()


class _CursorOpener:
    """What `connection.cursor()` returns in aiosqlite: awaitable and an async context."""

    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection

    def __await__(self) -> Any:
        return self._open().__await__()

    async def __aenter__(self) -> InlineCursor:
        return await self._open()

    async def __aexit__(self, *_: object) -> None:
        return None

    async def _open(self) -> InlineCursor:
        return InlineCursor(self._connection, self._connection._conn.cursor())


class InlineCursor:
    def __init__(self, connection: InlineConnection, raw: sqlite3.Cursor) -> None:
        self._connection, self._cursor = connection, raw

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        await self._connection.run(self._cursor.execute, sql, parameters or ())
        return self

    async def executemany(self, sql: str, parameters: Sequence[Sequence[Any]]) -> InlineCursor:
        await self._connection.run(self._cursor.executemany, sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value
