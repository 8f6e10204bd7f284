"""Work that /nhap starts once its step has committed: the dry run and the import.

Both run in a process of their own (storage.import_job), so neither the event loop nor a chat's
turn waits for them: the step answers at once, and the job comes back later in a short
transaction of its own (retried, as a step is, when it meets a concurrent change or a busy
database) to write what it found: the dry run's summary into the dialog, the import's result to
the admin. Jobs are tracked here so they are not lost to the garbage collector, so the files
they read are not swept from under them, and so a test or a benchmark can wait for them.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from storage.db import is_busy

log = logging.getLogger(__name__)
ATTEMPTS = 6
T = TypeVar("T")
_RUNNING: set[asyncio.Task[None]] = set()
# The uploads a job of this process is reading: never swept, whatever the dialogs say.
IN_USE: set[str] = set()


def starter(upload: str, work: Callable[[], Awaitable[None]]) -> Callable[[], None]:
    """An after-commit callback that starts `work` as a tracked background task."""

    def start() -> None:
        IN_USE.add(upload)
        task = asyncio.get_running_loop().create_task(_logged(work))
        _RUNNING.add(task)
        task.add_done_callback(_ended(upload))

    return start


def _ended(upload: str) -> Callable[[asyncio.Task[None]], None]:
    def forget(task: asyncio.Task[None]) -> None:
        _RUNNING.discard(task)
        IN_USE.discard(upload)

    return forget


async def _logged(work: Callable[[], Awaitable[None]]) -> None:
    try:
        await work()
    except Exception:  # a background task has nobody to raise to
        log.exception("an import job failed")


async def settle() -> None:
    """Wait until every job this process started has ended (tests, benchmarks, shutdown)."""
    while _RUNNING:
        await asyncio.gather(*list(_RUNNING), return_exceptions=True)


async def in_transaction(
    sessions: async_sessionmaker[AsyncSession], work: Callable[[AsyncSession], Awaitable[T]]
) -> T:
    """`work` in a transaction of its own, committed; run again from a fresh read when it met
    a concurrent change (the dialog moved on meanwhile) or a busy database."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with sessions() as session:
                try:
                    done = await work(session)
                    await session.commit()
                    return done
                except BaseException:
                    await session.rollback()
                    raise
        except (StaleDataError, DBAPIError) as exc:
            again = isinstance(exc, StaleDataError | IntegrityError) or is_busy(exc)
            if not again or attempt == ATTEMPTS:
                raise
            log.info("import job: %s, trying again (%d)", type(exc).__name__, attempt)
        await asyncio.sleep(0.05 * attempt + random.random() * 0.05)
    raise AssertionError("unreachable")
