"""Officers in chat while the programme and the year's plan run side by side.

Sở TT&TT has tasks in both, and both number theirs from I.1: its choices come plan by plan,
each code with its plan's short name, and a code both plans use is asked about. Công an TP
has tasks in the programme only and sees exactly what it saw before the second plan came.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.dispatcher import Dispatcher
from storage.db import create_engine, session_factory
from storage.exporter import export_reports
from storage.importer import import_plan
from storage.models import Plan, Report, Task
from storage.repositories import plans as plan_store
from storage.samples.builder import write_appendix
from tests.plan_factory import NOW, TZ, Officer, config, make_invite, small_plan
from tests.test_plans import PROGRAMME, YEARLY_NAME, yearly_layout, yearly_plan


@dataclass
class World:
    sessions: async_sessionmaker[AsyncSession]
    folder: Path

    def dispatcher(self) -> Dispatcher:
        return Dispatcher(self.sessions, config(self.folder / "data"), clock=lambda: NOW)

    async def officer(self, user_id: str = "2001", unit: str = "Sở TT&TT") -> Officer:
        person = Officer(self.dispatcher(), user_id)
        await person.command(f"/start {await make_invite(self.sessions, unit)}")
        return person

    async def add_yearly_plan(self) -> None:
        path = write_appendix(self.folder / "kh2023.xlsx", yearly_plan(), yearly_layout())
        await import_plan(self.sessions, path, plan_name=YEARLY_NAME)

    async def task_id(self, short: str, code: str) -> int:
        async with self.sessions() as session:
            found = await session.scalar(
                select(Task.id).join(Plan).where(Plan.short_name == short, Task.code == code)
            )
        assert found is not None
        return int(found)

    async def set_followed(self, short: str, followed: bool) -> Plan:
        async with self.sessions() as session:
            plan = await session.scalar(select(Plan).where(Plan.short_name == short))
            assert plan is not None
            plan_store.set_followed(session, plan, followed, datetime.now(UTC), "test")
            await session.commit()
            return plan


@pytest.fixture
async def world(tmp_path: Path, db_url: str) -> AsyncIterator[World]:
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    await import_plan(sessions, write_appendix(tmp_path / "ct284.xlsx", small_plan(), PROGRAMME))
    yield World(sessions, tmp_path)
    await engine.dispose()


async def test_the_same_code_in_two_plans_is_asked_about(world: World) -> None:
    await world.add_yearly_plan()
    an = await world.officer()

    listing = await an.command("/nhiemvu")
    assert "■ CT 284 — Chương trình hành động chuyển đổi số" in listing
    assert f"■ KH 2023 — {YEARLY_NAME} (4 nhiệm vụ)" in listing
    assert listing.index("■ CT 284") < listing.index("■ KH 2023")
    assert "CT 284 · I.1 · Tuyên truyền chuyển đổi số" in listing
    assert "KH 2023 · I.1 · Ngày chuyển đổi số 2023" in listing

    await an.command("/baocao")
    labels = an.labels()[:7]
    assert [label.split(" · ")[0] for label in labels] == ["CT 284"] * 4 + ["KH 2023"] * 3
    asked = await an.say("I.1")
    assert "Mã I.1 có trong 2 kế hoạch" in asked
    assert an.labels() == [
        "CT 284 · I.1 · Tuyên truyền chuyển đổi số",
        "KH 2023 · I.1 · Ngày chuyển đổi số 2023",
    ]
    status = await an.press("KH 2023 · I.1")
    assert "Nhiệm vụ KH 2023 · I.1: Ngày chuyển đổi số 2023" in status
    await an.press("Đang thực hiện")
    await an.say("40")
    await an.say("Đã lên kịch bản")
    for _ in range(3):
        await an.press("Bỏ qua")
    sent = await an.press("Gửi")
    assert "cho nhiệm vụ KH 2023 · I.1" in sent

    async with world.sessions() as session:
        report = (await session.scalars(select(Report))).one()
        assert (report.task.plan.short_name, report.task.code) == ("KH 2023", "I.1")
    assert "Mã I.1 có trong 2 kế hoạch" in await an.command("/baocao I.1")


@pytest.mark.parametrize(
    "typed", ["KH2023 I.3", "KH 2023 I.3", "KH2023 · I.3", "kh 2023 i.3", YEARLY_NAME + " I.3"]
)
async def test_naming_the_plan_goes_straight_to_its_task(world: World, typed: str) -> None:
    await world.add_yearly_plan()
    an = await world.officer()

    assert "Nhiệm vụ KH 2023 · I.3: Sổ tay chuyển đổi số" in await an.command(f"/baocao {typed}")
    assert "Nhiệm vụ CT 284 · I.3: Tài liệu tuyên truyền" in await an.command("/baocao CT284 I.3")
    unknown = await an.command("/baocao KH 2099 I.3")
    assert "Không tìm thấy nhiệm vụ “KH 2099 I.3”" in unknown


async def test_a_unit_with_one_plan_sees_no_difference(world: World) -> None:
    police = await world.officer("2002", "Công an TP")
    before = (await police.command("/nhiemvu"), await police.command("/baocao"), police.labels())
    await police.command("/huy")

    await world.add_yearly_plan()

    after = (await police.command("/nhiemvu"), await police.command("/baocao"), police.labels())
    assert after == before
    assert "\nVII.3 · Trung tâm điều hành thông minh" in after[0] and "CT 284" not in after[0]
    assert after[2] == ["VII.3 · Trung tâm điều hành thông minh (phối hợp)"]


async def test_a_closed_plan_is_hidden_and_its_reports_kept(world: World) -> None:
    await world.add_yearly_plan()
    an = await world.officer()
    await an.command("/baocao KH2023 I.1")
    await an.press("Hoàn thành")
    await an.say("Đã tổ chức")
    for _ in range(3):
        await an.press("Bỏ qua")
    assert "KH 2023 · I.1" in await an.press("Gửi")
    yearly = await world.set_followed("KH 2023", False)

    listing = await an.command("/nhiemvu")
    assert "KH 2023" not in listing and "■" not in listing
    assert "\nI.1 · Tuyên truyền chuyển đổi số" in listing
    assert "Nhiệm vụ I.1: Tuyên truyền chuyển đổi số" in await an.command("/baocao I.1")
    await an.command("/huy")
    await an.command("/baocao")
    assert not any(label.startswith("KH 2023") for label in an.labels())
    forged = await an.send(an.event(option_id=f"t:{await world.task_id('KH 2023', 'I.3')}"))
    assert "không thuộc đơn vị của bạn" in an.text_of(forged)
    assert "Không tìm thấy nhiệm vụ" in await an.say("KH2023 I.3")
    await an.command("/huy")
    assert "Đã tổ chức" not in (await an.command("/giahan")) and all(
        not label.startswith("KH 2023") for label in an.labels()
    )

    kept = await export_reports(world.sessions, TZ, [yearly.id])
    assert [(r["plan_short"], r["task_code"], r["results"]) for r in kept] == [
        ("KH 2023", "I.1", "Đã tổ chức")
    ]
    assert await export_reports(world.sessions, TZ) == []  # followed plans only by default

    await world.set_followed("KH 2023", True)
    assert "Mã I.1 có trong 2 kế hoạch" in await an.command("/baocao I.1")


async def test_extension_choices_come_plan_by_plan(world: World) -> None:
    await world.add_yearly_plan()
    an = await world.officer()

    await an.command("/giahan")

    prefixes = [label.split(" · ")[0] for label in an.labels()[:6]]
    assert prefixes == ["CT 284"] * 3 + ["KH 2023"] * 3
    asked = await an.press("KH 2023 · I.2")
    assert "KH 2023 · I.2" in asked
