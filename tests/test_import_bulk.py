"""An admin loads a 600-task plan, then its corrected version, while officers are at work: the
import reads and decides everything first, then writes in a handful of bulk statements (on
SQLite, every dialog step that writes waits from an import's first write to its commit; a new
plan's come in chunks of a few hundred tasks, tests/test_import_steps.py), and a dry run
writes nothing at all, not even a new plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import import_steps
from storage.db import create_engine, session_factory, writes
from storage.importer import ImportResult, import_plan
from storage.models import AuditLog, Task, TaskGroup, TaskUnit, Unit
from storage.samples.builder import AppendixGroup, AppendixTask, write_appendix
from storage.units import seed_units

LEADS = ["Sở TT&TT", "Sở Nội vụ", "VP UBND TP", "Công an TP", "Sở Y tế"]
COOPS = ["Sở Tài chính", "", "Báo Hải Phòng; Sở Nội vụ"]
DEADLINES = ["Quý IV/2027", "Thường xuyên", "Năm 2027"]
PER_GROUP = 200
# Plan, groups, tasks (a batch per 1,000 rows at most), their units, audit rows, and the
# updates of a corrected file: a few statements, however many tasks.
FEW = 12


def big_plan(title_mark: str = "") -> list[AppendixGroup]:
    groups = []
    for roman, name in (("I", "Tuyên truyền"), ("II", "Thể chế"), ("III", "Hạ tầng số")):
        tasks = [
            AppendixTask(
                n,
                f"Nhiệm vụ {roman}.{n}{title_mark if n % 3 == 0 else ''}",
                LEADS[n % len(LEADS)],
                COOPS[n % len(COOPS)],
                DEADLINES[n % len(DEADLINES)],
            )
            for n in range(1, PER_GROUP + 1)
        ]
        groups.append(AppendixGroup(roman, name, tasks))
    return groups


def codes(romans: str, numbers: range) -> set[str]:
    return {f"{roman}.{n}" for roman in romans.split() for n in numbers}


REWORDED = codes("I II III", range(3, PER_GROUP + 1, 3))
GONE = codes("I", range(1, 31))
OTHER_UNITS = codes("II", range(1, PER_GROUP + 1, 10))


def corrected() -> list[AppendixGroup]:
    """Every third title reworded, group I renamed, its first 30 tasks gone (the later tasks
    move up), every tenth task of group II with other cooperating units."""
    plan = big_plan(" (sửa)")
    plan[0].name = "Công tác tuyên truyền"
    del plan[0].tasks[:30]
    for task in plan[1].tasks[::10]:
        task.coop = "Sở Y tế"
    return plan


class Statements:
    """Every statement `engine` sends, in order: an executemany (or a batch of one) is one."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.sent: list[str] = []
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.sent.append(statement)

    def writing(self) -> list[str]:
        return [statement for statement in self.sent if writes(statement)]

    def read_after_writing(self) -> list[str]:
        """What was read once the writing began, apart from the new tasks' ids (the one read
        an executemany needs)."""
        first = next((i for i, s in enumerate(self.sent) if writes(s)), len(self.sent))
        return [s for s in self.sent[first:] if not writes(s) and not new_ids(s)]


def new_ids(statement: str) -> bool:
    return statement.startswith("SELECT tasks.code, tasks.id")


async def test_a_corrected_plan_is_read_first_then_written_in_a_few_statements(
    tmp_path: Path, db_url: str
) -> None:
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    try:
        async with sessions() as session:  # the catalog, as a running bot has it
            await seed_units(session)
            await session.commit()
        first = Statements(engine)
        v1 = write_appendix(tmp_path / "v1.xlsx", big_plan())
        loaded = await import_plan(sessions, v1, plan_name="KH lớn")
        assert len(loaded.created) == 3 * PER_GROUP
        chunks = -(-3 * PER_GROUP // import_steps.CHUNK)  # a new plan's: three statements each
        assert len(first.writing()) <= FEW + 3 * chunks, first.writing()
        assert first.read_after_writing() == []

        second = Statements(engine)
        v2 = write_appendix(tmp_path / "v2.xlsx", corrected())
        result = await import_plan(sessions, v2, plan_name="KH lớn")

        assert len(second.writing()) <= FEW, second.writing()
        assert second.read_after_writing() == []
        await the_database_holds_the_corrected_plan(sessions, result)

        third = Statements(engine)
        v3 = write_appendix(tmp_path / "v3.xlsx", big_plan(" (lần 3)"))
        dry = await import_plan(sessions, v3, plan_name="KH lớn", dry_run=True)

        # Titles reworded again, the 30 tasks back, group II's units as they first were.
        assert set(dry.updated) == REWORDED | GONE | OTHER_UNITS and not dry.created
        assert third.writing() == []
        async with sessions() as session:
            inactive = select(func.count()).select_from(Task).where(Task.active.is_(False))
            assert await session.scalar(inactive) == len(GONE)

        fourth = Statements(engine)  # the same file tried as another plan
        other = await import_plan(sessions, v3, plan_name="KH khác", dry_run=True)
        assert other.plan.created and len(other.created) == 3 * PER_GROUP
        assert fourth.writing() == []
    finally:
        await engine.dispose()


async def the_database_holds_the_corrected_plan(sessions: Any, result: ImportResult) -> None:
    assert set(result.disappeared) == GONE and not result.created
    assert set(result.updated) == (REWORDED - GONE) | OTHER_UNITS
    async with sessions() as session:
        tasks = {t.code: t for t in (await session.scalars(select(Task))).all()}
        assert {code for code, t in tasks.items() if not t.active} == GONE
        assert tasks["III.3"].title == "Nhiệm vụ III.3 (sửa)"
        in_order = sorted((t for t in tasks.values() if t.active), key=lambda t: t.position)
        assert [t.code for t in in_order][:2] == ["I.31", "I.32"]
        assert [t.code for t in in_order][-1] == "III.200"
        health = await session.scalar(select(Unit.id).where(Unit.name == "Sở Y tế"))
        units = await session.execute(
            select(TaskUnit.unit_id, TaskUnit.role).where(TaskUnit.task_id == tasks["II.1"].id)
        )
        assert (health, "cooperating") in units.all()
        group = await session.scalar(select(TaskGroup).where(TaskGroup.number == 1))
        assert group is not None and group.name == "Công tác tuyên truyền"
        audits = await session.execute(
            select(AuditLog.action, AuditLog.entity_id, AuditLog.details)
            .where(AuditLog.action.in_(["task.updated", "group.updated"]))
            .order_by(AuditLog.id)
        )
        updated = {code: details for action, code, details in audits.all()}
        assert updated["I"] == {"name": ["Tuyên truyền", "Công tác tuyên truyền"]}
        del updated["I"]
        assert updated == result.updated
        missing = await session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "task.missing_from_import")
        )
        assert missing == 30
