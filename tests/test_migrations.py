"""An operator creates the schema on an empty database, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import IntegrityError

from handlers.dispatcher import Dispatcher
from storage.db import create_engine, session_factory
from storage.migrate import alembic_config, check, upgrade
from storage.models import Conversation, ExtensionRequest, Plan, Report, Task, TaskGroup
from tests.conftest import PG_ENV, _pg_admin
from tests.plan_factory import Officer, config

HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
TABLES = {
    "units",
    "unit_aliases",
    "people",
    "channel_identities",
    "invites",
    "invite_uses",
    "plans",
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
    assert first.out.startswith(f"Đã tạo lược đồ cơ sở dữ liệu (phiên bản {HEAD})"), first.out
    assert table_names(empty_url) >= TABLES
    asyncio.run(check(empty_url))  # raises if models and migrations drifted apart

    again = run_cli("db", "upgrade", env={"DATABASE_URL": empty_url})
    assert again.code == 0
    assert again.out.startswith(
        f"Cơ sở dữ liệu đã ở phiên bản mới nhất ({HEAD}), không cần nâng cấp"
    )
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


def _table(name: str, columns: str, times: str = "created_at") -> sa.TableClause:
    """A lightweight table as 0001 laid it out: plain columns, and timestamp columns typed so
    that each engine stores them its own way."""
    return sa.table(
        name,
        *(sa.column(c) for c in columns.split()),
        *(sa.column(c, sa.DateTime(timezone=True)) for c in times.split()),
    )


def _seed_at_0001(url: str) -> None:
    """Two units' reports on one task, both numbered 1 (as 0001 counted per task and unit), a
    correction, a second task's report and an evidence file, written as 0001 laid them out."""
    units = _table("units", "id name short_name kind covers", times="")
    groups = _table("task_groups", "id number roman name", times="")
    tasks = _table(
        "tasks",
        "id code group_id number position title lead_unit_id deadline_text ongoing"
        " expected_output budget notes status percent active",
        times="created_at updated_at",
    )
    people = _table("people", "id full_name unit_id role language")
    reports = _table(
        "reports",
        "id task_id unit_id person_id status percent results difficulties proposals version"
        " corrects_id channel",
    )
    files = _table("evidence_files", "id report_id sha256 file_name mime_type size storage_path")
    t0 = datetime(2022, 6, 1, 2, 0, tzinfo=UTC)

    def report(rid: int, task: int, unit: int, version: int, minutes: int, corrects: int | None):
        return dict(
            id=rid, task_id=task, unit_id=unit, person_id=unit, status="in_progress", percent=10,
            results=f"báo cáo {rid}", difficulties="", proposals="", version=version,
            corrects_id=corrects, channel="telegram", created_at=t0 + timedelta(minutes=minutes),
        )  # fmt: skip

    def task(tid: int) -> dict[str, object]:
        return dict(
            id=tid, code=f"I.{tid}", group_id=1, number=str(tid), position=tid,
            title=f"Nhiệm vụ {tid}", lead_unit_id=1, deadline_text="Năm 2022", ongoing=False,
            expected_output="", budget="", notes="", status="in_progress", percent=0,
            active=True, created_at=t0, updated_at=t0,
        )  # fmt: skip

    async def run() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.execute(units.insert(), [
                    dict(id=1, name="Sở Thông tin và Truyền thông", short_name="Sở TT&TT",
                         kind="department", covers=""),
                    dict(id=2, name="Sở Nội vụ", short_name="SNV", kind="department", covers=""),
                ])  # fmt: skip
                await connection.execute(
                    groups.insert(), [dict(id=1, number=1, roman="I", name="Tuyên truyền")]
                )
                await connection.execute(tasks.insert(), [task(1), task(2)])
                await connection.execute(people.insert(), [
                    dict(id=u, full_name=f"Cán bộ {u}", unit_id=u, role="officer",
                         language="vi", created_at=t0) for u in (1, 2)
                ])  # fmt: skip
                # Saved in the order 10, 11, 12 on task 1 (ids deliberately out of that order).
                await connection.execute(reports.insert(), [
                    report(11, 1, 2, 1, minutes=5, corrects=None),
                    report(10, 1, 1, 1, minutes=0, corrects=None),
                    report(12, 1, 1, 2, minutes=9, corrects=10),
                    report(13, 2, 1, 1, minutes=1, corrects=None),
                ])  # fmt: skip
                await connection.execute(files.insert(), [
                    dict(id=1, report_id=11, sha256="0" * 64, file_name="bien-ban.pdf",
                         mime_type="application/pdf", size=3, storage_path="ab/cd", created_at=t0)
                ])  # fmt: skip
        finally:
            await engine.dispose()

    asyncio.run(run())


def _reports_after(url: str) -> list[tuple[int, int, int, str, int | None]]:
    async def run() -> list[tuple[int, int, int, str, int | None]]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                query = "SELECT id, task_id, version, kind, corrects_id FROM reports ORDER BY id"
                rows = await connection.execute(sa.text(query))
                return [tuple(row) for row in rows]  # type: ignore[misc]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_upgrade_numbers_an_old_database_s_report_versions_per_task(
    run_cli, empty_url: str, tmp_path: Path
) -> None:
    (tmp_path / "nested").mkdir()  # where the SQLite case's file goes
    asyncio.run(upgrade(empty_url, "0001"))
    _seed_at_0001(empty_url)

    result = run_cli("db", "upgrade", env={"DATABASE_URL": empty_url})
    assert result.code == 0, result.err
    assert result.out.startswith(f"Đã nâng cấp cơ sở dữ liệu từ phiên bản 0001 lên {HEAD}"), (
        result.out
    )

    assert _reports_after(empty_url) == [
        (10, 1, 1, "report", None),
        (11, 1, 2, "report", None),
        (12, 1, 3, "report", 10),
        (13, 2, 1, "report", None),
    ]
    asyncio.run(check(empty_url))  # no drift after an upgrade from 0001 either

    async def duplicate_refused() -> None:
        engine = create_engine(empty_url)
        try:
            with pytest.raises(IntegrityError, match=r"uq_reports_task_id|UNIQUE"):
                async with engine.begin() as connection:
                    await connection.execute(
                        sa.text(
                            "INSERT INTO reports (task_id, unit_id, person_id, status, percent,"
                            " results, difficulties, proposals, version, channel, created_at)"
                            " VALUES (1, 2, 2, 'done', 100, '', '', '', 3, '', CURRENT_TIMESTAMP)"
                        )
                    )
            async with engine.connect() as connection:
                evidence = await connection.execute(sa.text("SELECT report_id FROM evidence_files"))
                assert evidence.scalar_one() == 11  # the file still belongs to its report
        finally:
            await engine.dispose()

    asyncio.run(duplicate_refused())


def _seed_at_0002(url: str) -> None:
    """A database as revision 0002 left it, in use: two tasks of one plan with their units,
    an officer known on Telegram, a report with its evidence file, a contribution, a pending
    extension request and a dialog half done."""
    units = _table("units", "id name short_name kind covers", times="")
    groups = _table("task_groups", "id number roman name", times="")
    tasks = _table(
        "tasks",
        "id code group_id number position title lead_unit_id deadline_text ongoing"
        " expected_output budget notes status percent active",
        times="created_at updated_at",
    )
    task_units = _table("task_units", "id task_id unit_id role position", times="")
    people = _table("people", "id full_name unit_id role language")
    identities = _table(
        "channel_identities",
        "id person_id channel external_id chat_id display_name reachable",
        times="",
    )
    reports = _table(
        "reports",
        "id task_id unit_id person_id status percent results difficulties proposals version"
        " corrects_id channel kind",
    )
    files = _table("evidence_files", "id report_id sha256 file_name mime_type size storage_path")
    extensions = _table(
        "extension_requests",
        "id task_id unit_id person_id proposed_date reason state decision_note",
    )
    conversations = sa.table(
        "conversations",
        *(sa.column(c) for c in ("id", "channel", "chat_id", "person_key", "dialog", "step")),
        sa.column("version"),
        sa.column("data", sa.JSON()),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    t0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)

    def task(tid: int) -> dict[str, object]:
        return dict(
            id=tid, code=f"I.{tid}", group_id=1, number=str(tid), position=tid,
            title=f"Nhiệm vụ {tid}", lead_unit_id=1, deadline_text="Năm 2027", ongoing=False,
            expected_output="", budget="", notes="", status="in_progress", percent=30,
            active=True, created_at=t0, updated_at=t0,
        )  # fmt: skip

    async def run() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as c:
                await c.execute(units.insert(), [
                    dict(id=1, name="Sở Thông tin và Truyền thông", short_name="Sở TT&TT",
                         kind="department", covers=""),
                    dict(id=2, name="Sở Nội vụ", short_name="SNV", kind="department", covers=""),
                ])  # fmt: skip
                await c.execute(
                    groups.insert(), [dict(id=1, number=1, roman="I", name="Tuyên truyền")]
                )
                await c.execute(tasks.insert(), [task(1), task(2)])
                await c.execute(task_units.insert(), [
                    dict(id=1, task_id=1, unit_id=1, role="lead", position=0),
                    dict(id=2, task_id=1, unit_id=2, role="cooperating", position=1),
                    dict(id=3, task_id=2, unit_id=1, role="lead", position=0),
                ])  # fmt: skip
                await c.execute(people.insert(), [
                    dict(id=u, full_name=f"Cán bộ {u}", unit_id=u, role="officer",
                         language="vi", created_at=t0) for u in (1, 2)
                ])  # fmt: skip
                await c.execute(identities.insert(), [
                    dict(id=1, person_id=1, channel="telegram", external_id="2001",
                         chat_id="2001", display_name="Cán bộ 1", reachable=True)
                ])  # fmt: skip
                await c.execute(reports.insert(), [
                    dict(id=1, task_id=1, unit_id=1, person_id=1, status="in_progress",
                         percent=30, results="Đã khởi động", difficulties="", proposals="",
                         version=1, corrects_id=None, channel="telegram", kind="report",
                         created_at=t0),
                    dict(id=2, task_id=1, unit_id=2, person_id=2, status="", percent=0,
                         results="Đã góp ý", difficulties="", proposals="", version=2,
                         corrects_id=None, channel="telegram", kind="contribution",
                         created_at=t0),
                ])  # fmt: skip
                await c.execute(files.insert(), [
                    dict(id=1, report_id=1, sha256="1" * 64, file_name="ke-hoach.pdf",
                         mime_type="application/pdf", size=3, storage_path="11/11",
                         created_at=t0)
                ])  # fmt: skip
                await c.execute(extensions.insert(), [
                    dict(id=1, task_id=2, unit_id=1, person_id=1, proposed_date=date(2027, 6, 30),
                         reason="Chờ kinh phí", state="pending", decision_note="",
                         created_at=t0)
                ])  # fmt: skip
                await c.execute(conversations.insert(), [
                    dict(id=1, channel="telegram", chat_id="2001", person_key="2001",
                         dialog="report", step="results", version=3,
                         data={"task_id": 2, "kind": "report", "status": "in_progress",
                               "percent": 50}, updated_at=t0)
                ])  # fmt: skip
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_upgrade_from_0002_keeps_every_row_in_the_first_plan(
    run_cli, empty_url: str, tmp_path: Path
) -> None:
    (tmp_path / "nested").mkdir()
    asyncio.run(upgrade(empty_url, "0002"))
    _seed_at_0002(empty_url)
    env = {"DATABASE_URL": empty_url}

    result = run_cli("db", "upgrade", env=env)

    assert result.code == 0, result.err
    assert result.out.startswith(f"Đã nâng cấp cơ sở dữ liệu từ phiên bản 0002 lên {HEAD}")
    checked = run_cli("db", "check", env=env)
    assert checked.code == 0 and "khớp" in checked.out
    assert (
        "KH 1 — Kế hoạch 1 · chưa ghi văn bản ban hành · 2 nhiệm vụ"
        in run_cli("plans", "list", env=env).out
    )

    async def kept() -> None:
        engine = create_engine(empty_url)
        try:
            async with session_factory(engine)() as session:
                plan = (await session.scalars(select(Plan))).one()
                assert (plan.name, plan.short_name, plan.followed) == ("Kế hoạch 1", "KH 1", True)
                tasks = (await session.scalars(select(Task).order_by(Task.id))).all()
                assert [(t.code, t.plan_id, t.percent) for t in tasks] == [
                    ("I.1", plan.id, 30),
                    ("I.2", plan.id, 30),
                ]
                assert [(tu.unit_id, tu.role) for tu in tasks[0].units] == [
                    (1, "lead"),
                    (2, "cooperating"),
                ]
                group = (await session.scalars(select(TaskGroup))).one()
                assert (group.plan_id, group.roman) == (plan.id, "I")
                reports = (await session.scalars(select(Report).order_by(Report.id))).all()
                assert [(r.task.code, r.kind, r.results) for r in reports] == [
                    ("I.1", "report", "Đã khởi động"),
                    ("I.1", "contribution", "Đã góp ý"),
                ]
                assert [f.file_name for f in reports[0].files] == ["ke-hoach.pdf"]
                request = (await session.scalars(select(ExtensionRequest))).one()
                assert (request.task.code, request.state) == ("I.2", "pending")
                talk = (await session.scalars(select(Conversation))).one()
                assert (talk.dialog, talk.step, talk.data["percent"]) == ("report", "results", 50)
            # The officer's half-done report goes on, and /nhiemvu shows the first plan's tasks
            # as before: one plan, no plan names.
            officer = Officer(Dispatcher(session_factory(engine), config(tmp_path)), "2001")
            assert "Khó khăn" in await officer.say("Đã xong phần khảo sát")
            listing = await officer.command("/nhiemvu")
            assert "\nI.1 · Nhiệm vụ 1" in listing and "KH 1" not in listing
            assert "đề nghị gia hạn đến 30/06/2027" in listing.lower()
        finally:
            await engine.dispose()

    asyncio.run(kept())


def _seed_two_pending_requests_at_0003(url: str) -> None:
    """Task 1 with an approved request and two pending ones (a second request was accepted
    before 0004), task 2 with one pending request."""
    plans = _table("plans", "id name short_name decision period followed closed_at")
    units = _table("units", "id name short_name kind covers", times="")
    groups = _table("task_groups", "id plan_id number roman name", times="")
    tasks = _table(
        "tasks",
        "id plan_id code group_id number position title lead_unit_id deadline_text ongoing"
        " expected_output budget notes status percent active",
        times="created_at updated_at",
    )
    people = _table("people", "id full_name unit_id role language")
    requests = _table(
        "extension_requests",
        "id task_id unit_id person_id proposed_date reason state decision_note",
    )
    t0 = datetime(2022, 6, 1, 2, 0, tzinfo=UTC)

    def task(tid: int) -> dict[str, object]:
        return dict(
            id=tid, plan_id=1, code=f"I.{tid}", group_id=1, number=str(tid), position=tid,
            title=f"Nhiệm vụ {tid}", lead_unit_id=1, deadline_text="Năm 2022", ongoing=False,
            expected_output="", budget="", notes="", status="in_progress", percent=0,
            active=True, created_at=t0, updated_at=t0,
        )  # fmt: skip

    def request(rid: int, task_id: int, state: str, minutes: int) -> dict[str, object]:
        return dict(
            id=rid, task_id=task_id, unit_id=1, person_id=1, proposed_date=date(2023, 3, 31),
            reason=f"lý do {rid}", state=state, decision_note="",
            created_at=t0 + timedelta(minutes=minutes),
        )  # fmt: skip

    async def run() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.execute(plans.insert(), [
                    dict(id=1, name="Kế hoạch 1", short_name="KH 1", decision="", period="",
                         followed=True, closed_at=None, created_at=t0)
                ])  # fmt: skip
                await connection.execute(units.insert(), [
                    dict(id=1, name="Sở Nội vụ", short_name="SNV", kind="department", covers="")
                ])  # fmt: skip
                await connection.execute(
                    groups.insert(), [dict(id=1, plan_id=1, number=1, roman="I", name="Nhóm I")]
                )
                await connection.execute(tasks.insert(), [task(1), task(2)])
                await connection.execute(people.insert(), [
                    dict(id=1, full_name="Cán bộ", unit_id=1, role="officer", language="vi",
                         created_at=t0)
                ])  # fmt: skip
                await connection.execute(requests.insert(), [
                    request(1, 1, "approved", minutes=0),
                    request(3, 1, "pending", minutes=5),
                    request(2, 1, "pending", minutes=9),
                    request(4, 2, "pending", minutes=1),
                ])  # fmt: skip
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_upgrade_keeps_the_first_of_two_pending_extension_requests(
    run_cli, empty_url: str, tmp_path: Path
) -> None:
    (tmp_path / "nested").mkdir()
    asyncio.run(upgrade(empty_url, "0003"))
    _seed_two_pending_requests_at_0003(empty_url)

    result = run_cli("db", "upgrade", env={"DATABASE_URL": empty_url})
    assert result.code == 0, result.err

    async def states() -> list[tuple[int, str]]:
        engine = create_engine(empty_url)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    sa.text("SELECT id, state FROM extension_requests ORDER BY id")
                )
                found = [(int(row[0]), str(row[1])) for row in rows]
            with pytest.raises(IntegrityError):
                async with engine.begin() as connection:  # a second pending one is refused now
                    await connection.execute(
                        sa.text("UPDATE extension_requests SET state = 'pending' WHERE id = 2")
                    )
            return found
        finally:
            await engine.dispose()

    assert asyncio.run(states()) == [
        (1, "approved"),
        (2, "superseded"),  # filed after request 3, while 3 was pending
        (3, "pending"),
        (4, "pending"),
    ]
    asyncio.run(check(empty_url))
