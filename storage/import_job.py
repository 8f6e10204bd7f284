"""An appendix import run away from the event loop, for the chat's /nhap.

The bot answers everyone on one event loop, and importing a 5,000-task appendix is seconds of
parsing and ORM work. So the chat runs `storage.importer.import_plan` in a process of its own
(`python -m storage.import_job`: its own interpreter, engine and loop), which neither blocks
the loop nor competes with it for the interpreter's lock. What comes back is plain values
(`ImportOutcome`).

SQLite has one writer. The bot's writers queue in-process (storage.db); this process is another
writer to the same file, so each side waits for the other's transaction in SQLite's busy
handler (the engines' 30 s timeout), and a busy failure is tried again: the import is all or
nothing. Nothing waits for the import while holding the write lock (it is started after the
step that asked for it has committed), so the wait always ends; but the dialogs' writes do wait
for the importer's transactions, as long as each lasts (bench/import_chat_bench.py measures
it; storage.import_writes and storage.import_steps keep them short). On PostgreSQL nobody
waits. A dry run writes only the new units a file names (rolled back at its end), but from
that write on its whole comparison would hold the dialogs up; on SQLite it runs on a
snapshot copy of the database instead, made with SQLite's online backup.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import secrets
import sqlite3
import sys
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Literal

from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.appendix import Problem
from storage.db import create_engine, is_busy, is_sqlite, session_factory
from storage.import_sheet import BadWorkbook
from storage.import_units import NewUnit
from storage.importer import ImportProblems, ImportResult, PlanWouldBeReplaced, import_plan
from storage.repositories.plans import PlanInfo, PlanNameTaken
from storage.uploads import digest

log = logging.getLogger(__name__)
RunIn = Literal["process", "thread"]
# Where imports run; "thread" shares the interpreter's lock with the dialogs (bench shows it).
RUN_IN: RunIn = "process"
BUSY_ATTEMPTS = 3
NICENESS = 10


class Status(StrEnum):
    DONE = "done"  # imported; for a dry run: read, and what would change is in `result`
    PROBLEMS = "problems"  # rows that cannot be imported, or new units not to be added
    BAD_FILE = "bad_file"  # not a readable appendix
    WOULD_REPLACE = "would_replace"  # more than half of the active tasks would be left out
    NAME_TAKEN = "name_taken"  # a new plan's name or short name is another plan's
    FILE_CHANGED = "file_changed"  # gone, or not the file the dialog checked
    BUSY = "busy"  # the database stayed locked
    FAILED = "failed"  # anything else: logged for the operator


@dataclass(frozen=True)
class ImportRequest:
    database_url: str = field(repr=False)  # may hold a password
    path: str
    sha256: str
    plan_name: str
    plan_short: str | None = None
    dry_run: bool = False
    add_units: bool = False
    replace: bool = False
    actor: str = "chat"
    max_bytes: int = 20 * 1024 * 1024
    max_rows: int = 20_000


@dataclass(frozen=True)
class ImportOutcome:
    status: Status
    result: ImportResult | None = None
    problems: tuple[Problem, ...] = ()
    new_units: tuple[NewUnit, ...] = ()
    detail: str = ""  # what a bad file lacks, the name taken, or the error logged
    taken_by: PlanInfo | None = None  # NAME_TAKEN: the plan that has the name
    missing: int = 0  # WOULD_REPLACE: the active tasks left out, of `active`
    active: int = 0


async def off_loop(request: ImportRequest, run_in: RunIn | None = None) -> ImportOutcome:
    """Run the import (or dry run) `request` asks for in its own process (or thread); never
    raises for the import's own failures, which come back as an outcome."""
    if (run_in or RUN_IN) == "thread":
        return await asyncio.to_thread(run, request)
    return await _in_process(request)


async def _in_process(request: ImportRequest) -> ImportOutcome:
    # A fresh interpreter running this module (not multiprocessing, which would fork a process
    # full of threads or re-import the caller's main script): the request goes in on stdin, so
    # the database URL never shows in a process list, and the outcome comes back on stdout.
    root = str(Path(__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "storage.import_job",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": path},
    )
    out, _ = await child.communicate(pickle.dumps(request))
    if child.returncode != 0 or not out:
        log.error("import process for %s ended with %s", request.path, child.returncode)
        return ImportOutcome(Status.FAILED, detail=f"exit {child.returncode}")
    outcome = pickle.loads(out)  # our own child's answer
    assert isinstance(outcome, ImportOutcome)
    return outcome


def run(request: ImportRequest) -> ImportOutcome:
    """The import, start to end, on a loop of its own (the entry point of the process)."""
    try:
        return asyncio.run(_run(request))
    except Exception as exc:  # an outcome, never an exception to carry across processes
        log.exception("import of %s failed", request.path)
        return ImportOutcome(Status.FAILED, detail=type(exc).__name__)


async def _run(request: ImportRequest) -> ImportOutcome:
    if digest(Path(request.path)) != request.sha256:
        return ImportOutcome(Status.FILE_CHANGED)
    if request.dry_run and is_sqlite(request.database_url):
        snapshot = Path(request.path).with_name(f".dry-{secrets.token_hex(8)}.db")
        try:
            _copy_database(request.database_url, snapshot)
            return await _import(replace(request, database_url=f"sqlite+aiosqlite:///{snapshot}"))
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{snapshot}{suffix}").unlink(missing_ok=True)
    return await _import(request)


def _copy_database(url: str, target: Path) -> None:
    """A consistent copy of the SQLite database at `url`, taken without holding it up."""
    source = sqlite3.connect(make_url(url).database or "", timeout=30)
    copy = sqlite3.connect(target)
    try:
        with copy:
            source.backup(copy)
    finally:
        copy.close()
        source.close()


async def _import(request: ImportRequest) -> ImportOutcome:
    engine = create_engine(request.database_url)
    try:
        for attempt in range(1, BUSY_ATTEMPTS + 1):
            try:
                return await _attempt(request, engine)
            except DBAPIError as exc:
                if not is_busy(exc):
                    raise
                log.warning("import of %s: database busy (attempt %d)", request.path, attempt)
        return ImportOutcome(Status.BUSY)
    finally:
        await engine.dispose()


async def _attempt(request: ImportRequest, engine: AsyncEngine) -> ImportOutcome:
    try:
        result = await import_plan(
            session_factory(engine),
            Path(request.path),
            dry_run=request.dry_run,
            add_units=request.add_units,
            replace=request.replace,
            plan_name=request.plan_name,
            plan_short=request.plan_short,
            actor=request.actor,
            max_bytes=request.max_bytes,
            max_rows=request.max_rows,
        )
    except BadWorkbook as exc:
        return ImportOutcome(Status.BAD_FILE, detail=_without_path(str(exc), request.path))
    except ImportProblems as exc:
        return ImportOutcome(
            Status.PROBLEMS, problems=tuple(exc.problems), new_units=tuple(exc.new_units)
        )
    except PlanWouldBeReplaced as exc:
        return ImportOutcome(Status.WOULD_REPLACE, missing=len(exc.missing), active=exc.active)
    except PlanNameTaken as exc:
        return ImportOutcome(Status.NAME_TAKEN, detail=exc.name, taken_by=exc.other)
    return ImportOutcome(Status.DONE, result=result)


def _without_path(text: str, path: str) -> str:
    """The importer names the file it read; that is our random name, not the sender's."""
    return text.replace(path, "").replace(Path(path).name, "").replace("“”", "").strip()


def main() -> None:
    """The child's side of `_in_process`: a request on stdin, its outcome on stdout."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    request = pickle.load(sys.stdin.buffer)
    assert isinstance(request, ImportRequest)
    # Background work: the dialogs come first on the CPU. An import into SQLite holds the one
    # write lock every dialog waits for, but only for its last bulk statements (the database's
    # own work, storage.import_writes), so it may wait its turn too.
    os.nice(NICENESS)
    sys.stdout.buffer.write(pickle.dumps(run(request)))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    # Run as `python -m storage.import_job`: the classes pickled must be this module's under
    # its own name, not `__main__`'s copies, so the importable module does the work.
    from storage import import_job

    import_job.main()
