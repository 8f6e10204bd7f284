"""Shared fixtures: migrated databases (SQLite always, PostgreSQL when configured) and the CLI.

PostgreSQL tests need TIENDO_TEST_POSTGRES_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test);
without it they skip with that reason. Each test gets a database of its own, cloned from a
template migrated once per run, so tests and concurrent runs never see each other's rows.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine.url import make_url

from storage.migrate import upgrade
from tests.fake_telegram import FakeTelegram

PG_ENV = "TIENDO_TEST_POSTGRES_URL"
RUN_ID = uuid.uuid4().hex[:8]
# Every `tiendo run` a test starts inherits this: the real clock's reminder scan would otherwise
# add messages to a story whenever the suite runs in Hanoi's office hours. The scheduler's own
# tests drive its jobs with the "now" they choose.
os.environ["SCHEDULER_ENABLED"] = "false"


def _pg_admin(url: str, statement: str) -> None:
    import asyncpg

    parsed = make_url(url)

    async def run() -> None:
        connection = await asyncpg.connect(
            user=parsed.username or "postgres",
            password=parsed.password,
            host=parsed.host or "127.0.0.1",
            port=parsed.port or 5432,
            database=parsed.database or "postgres",
        )
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[tuple[str, str]]:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(
            f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)"
        )
    name = f"tiendo_tpl_{RUN_ID}"
    _pg_admin(base, f'CREATE DATABASE "{name}"')
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    asyncio.run(upgrade(url))
    yield base, name
    _pg_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated, empty SQLite database file of this test's own."""
    path = tmp_path / "tiendo.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def postgres_url(pg_template: tuple[str, str]) -> Iterator[str]:
    """A migrated, empty PostgreSQL database of this test's own."""
    base, template = pg_template
    name = f"tiendo_{RUN_ID}_{uuid.uuid4().hex[:8]}"
    _pg_admin(base, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    _pg_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test on SQLite and on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli_env(tmp_path: Path, sqlite_url: str) -> dict[str, str]:
    """Environment for running `tiendo` against this test's database, with no real network."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_", "WEBHOOK_"))
    }
    env.update(
        DATABASE_URL=sqlite_url,
        DATA_DIR=str(tmp_path / "data"),
        TELEGRAM_API_BASE_URL="http://127.0.0.1:9",
        ZALO_API_BASE_URL="http://127.0.0.1:9",
        PYTHONIOENCODING="utf-8",
    )
    return env


@pytest.fixture
def run_cli(cli_env: dict[str, str], tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run the real `tiendo` command in a subprocess, as a user would."""

    def run(
        *args: str,
        env: dict[str, str] | None = None,
        input: str | None = None,
        timeout: float = 120,
    ) -> CliResult:
        proc = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=tmp_path,
            env={**cli_env, **(env or {})},
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """A fake Telegram Bot API server on 127.0.0.1 for this test."""
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()
