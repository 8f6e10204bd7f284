"""An operator creates the schema on an empty database, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine.url import make_url

from storage.db import create_engine
from storage.migrate import check
from tests.conftest import PG_ENV, _pg_admin

TABLES = {
    "units",
    "unit_aliases",
    "people",
    "channel_identities",
    "invites",
    "invite_uses",
    "task_groups",
    "tasks",
    "task_units",
    "reports",
    "evidence_files",
    "extension_requests",
    "conversations",
    "processed_updates",
    "inbox_events",
    "outbox",
    "bound_chats",
    "holiday_overrides",
    "audit_log",
    "alembic_version",
}


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'empty.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}")
    name = f"tiendo_empty_{uuid.uuid4().hex[:10]}"
    _pg_admin(base, f'CREATE DATABASE "{name}"')
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    _pg_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def table_names(url: str) -> set[str]:
    async def run() -> set[str]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_upgrade_creates_every_table_and_matches_the_models(run_cli, empty_url: str) -> None:
    first = run_cli("db", "upgrade", env={"DATABASE_URL": empty_url})
    assert first.code == 0, first.err
    assert table_names(empty_url) >= TABLES
    asyncio.run(check(empty_url))  # raises if models and migrations drifted apart

    again = run_cli("db", "upgrade", env={"DATABASE_URL": empty_url})
    assert again.code == 0
    checked = run_cli("db", "check", env={"DATABASE_URL": empty_url})
    assert checked.code == 0 and "khớp" in checked.out


def test_sqlite_runs_with_foreign_keys_and_wal(sqlite_url: str) -> None:
    async def run() -> tuple[int, str]:
        engine = create_engine(sqlite_url)
        try:
            async with engine.connect() as connection:
                keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar_one()
                mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar_one()
                return keys, mode
        finally:
            await engine.dispose()

    assert asyncio.run(run()) == (1, "wal")
