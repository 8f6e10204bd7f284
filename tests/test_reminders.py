"""Reminders and escalation: the standing agency stops chasing by phone.

Sở TT&TT's contact officer (An) and its head (Bình) are registered; Sở Tư pháp has nobody yet.
Day after day at 09:00 in Hai Phong the scan runs, as `tiendo run` would every 15 minutes, and
each test reads what reached the outbox: 7, 3 and 1 working days before a deadline, the due day
(with the head), every second working day overdue, the committee group on the 5th, the monthly
call for reports and the units still silent after the 15th; through Tết 2023 and its make-up
Saturday; never twice, even from two instances at once; never for a closed plan or a done task.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import ConfigError, load_settings
from handlers.dispatcher import Dispatcher
from handlers.options import REPORT_NOW
from scheduler.calendar import WorkingCalendar
from scheduler.jobs import Jobs
from scheduler.reminder_rules import ReminderRules
from scheduler.reminders import Decision, Scan, enqueue, scan
from storage.db import create_engine, session_factory
from storage.importer import import_plan
from storage.models import OutboxMessage, Plan, Task
from storage.repositories import bound_chats
from storage.repositories import holidays as holiday_store
from storage.samples.builder import AppendixGroup, write_appendix
from tests.fake_telegram import FakeTelegram
from tests.plan_factory import NOW, TZ, Officer, T, config, make_invite
from tests.test_telegram import USER, join, reply_to, running_bot

RULES = ReminderRules()
GROUP = ("telegram", "-100500", "BCĐ chuyển đổi số")


def december_plan() -> list[AppendixGroup]:
    return [
        AppendixGroup(
            "I",
            "Phát triển dữ liệu",
            [
                T(1, "Kho dữ liệu dùng chung", "Sở TT&TT", "", "16/12/2026"),
                T(2, "Số hóa sổ hộ tịch", "Sở Tư pháp", "", "31/12/2027"),
            ],
        )
    ]


def tet_plan() -> list[AppendixGroup]:
    return [
        AppendixGroup(
            "I",
            "Phát triển hạ tầng số",
            [
                T(1, "Nâng cấp mạng diện rộng", "Sở TT&TT", "", "16/01/2023"),
                T(2, "Trục liên thông văn bản", "Sở TT&TT", "", "24/01/2023"),  # a Tết day
            ],
        )
    ]


@dataclass
class World:
    """A real database, the plans imported from real appendices, people registered through
    the dialogs; the working calendar read from the override table like the jobs read it."""

    sessions: async_sessionmaker[AsyncSession]
    folder: Path
    dispatcher: Dispatcher = field(init=False)

    def __post_init__(self) -> None:
        self.dispatcher = Dispatcher(self.sessions, config(self.folder / "data"), clock=lambda: NOW)

    async def plan(self, groups: list[AppendixGroup], name: str, short: str) -> None:
        path = write_appendix(self.folder / f"{short.replace(' ', '_')}.xlsx", groups)
        await import_plan(self.sessions, path, plan_name=name, plan_short=short)

    async def register(self, unit: str, user_id: str, name: str, role: str = "officer") -> None:
        person = Officer(self.dispatcher, user_id, name=name)
        await person.command(f"/start {await make_invite(self.sessions, unit, role=role)}")

    async def staff(self) -> None:
        """Sở TT&TT's officer and head on Telegram, and the committee group bound."""
        await self.register("Sở TT&TT", "7001", "Cán bộ An")
        await self.register("Sở TT&TT", "7002", "Lãnh đạo Bình", role="head")
        async with self.sessions() as session:
            bound_chats.bind(session, *GROUP, now=NOW)
            await session.commit()

    async def calendar(self) -> WorkingCalendar:
        async with self.sessions() as session:
            return WorkingCalendar(await holiday_store.working_overrides(session), tz=TZ)

    async def decide(self, when: datetime) -> Scan:
        async with self.sessions() as session:
            return await scan(session, when, RULES, await self.calendar())

    async def tick(self, when: datetime) -> list[Decision]:
        """One scan at `when`, written to the outbox; the decisions this call wrote."""
        calendar = await self.calendar()
        async with self.sessions() as session:
            found = await scan(session, when, RULES, calendar)
            written = await enqueue(session, found.decisions, when, calendar)
            await session.commit()
        return [decision for decision, new in written if new]

    async def days(self, first: date, last: date) -> list[tuple[str, str, str, str]]:
        """A scan at 09:00 every day from `first` to `last` (days off included): what went to
        the outbox, as (day, rule, task code or "", to whom)."""
        seen = []
        day = first
        while day <= last:
            for decision in await self.tick(at(day)):
                seen.append((f"{day:%d/%m}", decision.rule, code_in(decision), decision.to))
            day += timedelta(days=1)
        return seen

    async def rows(self) -> list[OutboxMessage]:
        async with self.sessions() as session:
            found = await session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "reminder").order_by("id")
            )
            return list(found)

    async def task_id(self, code: str) -> int:
        async with self.sessions() as session:
            task = await session.scalar(select(Task).where(Task.code == code))
            assert task is not None
            return task.id


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ).astimezone(UTC)


def utc(moment: datetime) -> datetime:
    """A stored moment as UTC (SQLite gives it back without its zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def code_in(decision: Decision) -> str:
    """The task code a reminder is about ("" for the committee's and the monthly call)."""
    if not decision.options:
        return ""
    return decision.subject.split(" — ")[0]


@pytest.fixture
async def world(tmp_path: Path, sqlite_url: str) -> AsyncIterator[World]:
    engine = create_engine(sqlite_url)
    yield World(session_factory(engine), tmp_path)
    await engine.dispose()


# --- the ladder ------------------------------------------------------------------------------


async def test_the_whole_ladder_of_one_task_over_december(world: World) -> None:
    await world.plan(december_plan(), "Kế hoạch dữ liệu năm 2026", "KH DL")
    await world.staff()

    seen = await world.days(date(2026, 12, 1), date(2026, 12, 31))

    an, binh, group = "Cán bộ An", "Lãnh đạo Bình", GROUP[2]
    assert seen == [
        ("07/12", "before", "I.1", an),  # 7 working days before Wednesday 16/12
        ("10/12", "call", "", an),  # the month's call for reports, due the 15th
        ("11/12", "before", "I.1", an),  # 3 working days before
        ("15/12", "before", "I.1", an),  # 1 working day before
        ("16/12", "due", "I.1", an),  # the due day: the officer and the head
        ("16/12", "due", "I.1", binh),
        ("16/12", "missing", "", group),  # nobody reported by the 15th
        ("18/12", "overdue", "I.1", an),  # 2 working days overdue
        ("18/12", "overdue", "I.1", binh),
        ("22/12", "overdue", "I.1", an),  # 4
        ("22/12", "overdue", "I.1", binh),
        ("23/12", "escalate", "", group),  # 5: listed to the steering committee
        ("24/12", "overdue", "I.1", an),  # 6
        ("24/12", "overdue", "I.1", binh),
        ("28/12", "overdue", "I.1", an),  # 8 (26, 27 are a weekend)
        ("28/12", "overdue", "I.1", binh),
        ("30/12", "overdue", "I.1", an),  # 10
        ("30/12", "overdue", "I.1", binh),
    ]
    first = next(row for row in await world.rows() if row.key.startswith("remind:"))
    assert first.payload["text"].splitlines() == [
        "🔔 NHẮC HẠN NHIỆM VỤ",
        "I.1 — Kho dữ liệu dùng chung",  # one plan followed: its name is not needed
        "Đơn vị chủ trì: Sở Thông tin và Truyền thông",
        "Thời hạn: 16/12/2026 — còn 7 ngày làm việc.",
        "Đề nghị đơn vị khẩn trương thực hiện và báo cáo kết quả.",
    ]
    task_id = await world.task_id("I.1")
    assert first.payload["options"] == [[REPORT_NOW.id(task_id), "Báo cáo ngay"]]
    assert (first.channel, first.chat_id, utc(first.not_before)) == (
        "telegram",
        "7001",
        at(date(2026, 12, 7)),
    )
    escalated = next(
        row.payload["text"] for row in await world.rows() if row.key.startswith("escalate:")
    )
    assert escalated.splitlines()[0] == (
        "📋 NHIỆM VỤ QUÁ HẠN CẦN BÁO CÁO BAN CHỈ ĐẠO (ngày 23/12/2026): 1 nhiệm vụ"
    )
    assert escalated.splitlines()[2] == (
        "1. I.1 — Kho dữ liệu dùng chung — Sở Thông tin và Truyền thông — hạn 16/12/2026, "
        "quá hạn 5 ngày làm việc"
    )
    missing = next(
        row.payload["text"] for row in await world.rows() if row.key.startswith("missing:")
    )
    assert missing.splitlines() == [
        "📋 ĐƠN VỊ CHƯA BÁO CÁO ĐỊNH KỲ THÁNG 12/2026 (hạn 15/12/2026): 2 đơn vị",
        "- Sở Thông tin và Truyền thông: 1/1 nhiệm vụ chủ trì chưa báo cáo",
        "- Sở Tư pháp: 1/1 nhiệm vụ chủ trì chưa báo cáo",
    ]


async def test_units_nobody_is_registered_for_are_named(world: World) -> None:
    await world.plan(december_plan(), "Kế hoạch dữ liệu năm 2026", "KH DL")
    await world.staff()

    called = await world.decide(at(date(2026, 12, 10)))  # the monthly call: both units

    assert [d.unit for d in called.decisions if d.rule == "call"] == [
        "Sở Thông tin và Truyền thông"
    ]
    assert called.unreached == ["Sở Tư pháp"]


async def test_tet_2023_and_its_make_up_saturday(world: World) -> None:
    """The 2023 letter: Tết off from Friday 20/01 to Thursday 26/01, Saturday 14/01 worked in
    exchange. I.2 falls due on a Tết day, so it counts from Friday 27/01."""
    async with world.sessions() as session:
        for offset in range(7):
            day = date(2023, 1, 20) + timedelta(days=offset)
            override = holiday_store.Override(day, False, "Tết Quý Mão")
            await holiday_store.add(session, override, replace=True, now=NOW, actor="test")
        make_up = holiday_store.Override(date(2023, 1, 14), True, "Làm bù cho 20/01")
        await holiday_store.add(session, make_up, replace=True, now=NOW, actor="test")
        await session.commit()
    await world.plan(tet_plan(), "Kế hoạch hạ tầng số năm 2023", "KH HT")
    await world.staff()

    seen = await world.days(date(2023, 1, 5), date(2023, 2, 3))

    an, binh, group = "Cán bộ An", "Lãnh đạo Bình", GROUP[2]
    assert seen == [
        ("06/01", "before", "I.1", an),  # 7 working days before 16/01, the Saturday counted
        ("10/01", "call", "", an),
        ("12/01", "before", "I.1", an),  # 3 before 16/01
        ("12/01", "before", "I.2", an),  # 7 before 27/01: 13, 14 (Sat), 16–19, 27
        ("14/01", "before", "I.1", an),  # the make-up Saturday is a working day
        ("16/01", "due", "I.1", an),
        ("16/01", "due", "I.1", binh),
        ("17/01", "before", "I.2", an),  # 3 before 27/01
        ("17/01", "missing", "", group),  # due 15/01, a Sunday: counted from Monday 16/01
        ("18/01", "overdue", "I.1", an),
        ("18/01", "overdue", "I.1", binh),
        ("19/01", "before", "I.2", an),  # 1 working day before: Tết lies between
        # Tết: nothing from Friday 20/01 to Thursday 26/01
        ("27/01", "overdue", "I.1", an),  # 4 working days overdue (17, 18, 19, 27)
        ("27/01", "overdue", "I.1", binh),
        ("27/01", "due", "I.2", an),  # 24/01 was a Tết day
        ("27/01", "due", "I.2", binh),
        ("30/01", "escalate", "", group),  # I.1: 5 working days overdue
        ("31/01", "overdue", "I.1", an),
        ("31/01", "overdue", "I.1", binh),
        ("31/01", "overdue", "I.2", an),
        ("31/01", "overdue", "I.2", binh),
        ("02/02", "overdue", "I.1", an),
        ("02/02", "overdue", "I.1", binh),
        ("02/02", "overdue", "I.2", an),
        ("02/02", "overdue", "I.2", binh),
        ("03/02", "escalate", "", group),  # I.2: 5 working days overdue
    ]
    stem = f"remind:{await world.task_id('I.2')}:due:"
    due_on_tet = next(row.payload["text"] for row in await world.rows() if row.key.startswith(stem))
    assert "Thời hạn: 24/01/2023 (trùng ngày nghỉ, tính đến 27/01/2023) (hôm nay)." in due_on_tet


async def test_a_reminder_decided_at_night_goes_out_at_the_next_opening(world: World) -> None:
    await world.plan(december_plan(), "Kế hoạch dữ liệu năm 2026", "KH DL")
    await world.staff()

    friday_night = at(date(2026, 12, 11), 22)  # 3 working days before 16/12
    written = await world.tick(friday_night)

    assert [(d.rule, d.to) for d in written] == [("before", "Cán bộ An")]
    (row,) = await world.rows()
    monday_opening = at(date(2026, 12, 14), 7, 30)
    assert utc(row.not_before) == monday_opening
    assert await world.tick(at(date(2026, 12, 11), 10)) == []  # same day, same key


async def test_a_closed_plan_is_silent_and_a_done_task_gets_nothing(world: World) -> None:
    await world.plan(december_plan(), "Kế hoạch dữ liệu năm 2026", "KH DL")
    await world.plan(
        [
            AppendixGroup(
                "I", "Chính quyền số", [T(1, "Cổng dịch vụ công", "Sở TT&TT", "", "16/12/2026")]
            )
        ],
        "Kế hoạch chính quyền số năm 2026",
        "KH CQS",
    )
    await world.staff()
    due_day = at(date(2026, 12, 16))

    both = await world.decide(due_day)
    assert sorted({d.subject for d in both.decisions if d.rule == "due"}) == [
        "KH CQS · I.1 — Cổng dịch vụ công",  # several plans followed: each names its plan
        "KH DL · I.1 — Kho dữ liệu dùng chung",
    ]

    async with world.sessions() as session:
        await session.execute(
            update(Plan).where(Plan.short_name == "KH CQS").values(followed=False)
        )
        plan_id = await session.scalar(select(Plan.id).where(Plan.short_name == "KH DL"))
        await session.execute(
            update(Task)
            .where(Task.plan_id == plan_id, Task.code == "I.1")
            .values(status="done_on_time")
        )
        await session.commit()

    after = await world.decide(due_day)
    assert [d for d in after.decisions if d.rule in ("due", "before", "overdue")] == []
    listed = next(d.text for d in after.decisions if d.rule == "missing")
    assert listed.splitlines()[1:] == ["- Sở Tư pháp: 1/1 nhiệm vụ chủ trì chưa báo cáo"]


async def test_a_revoked_or_unreachable_person_is_not_reminded(world: World) -> None:
    await world.plan(december_plan(), "Kế hoạch dữ liệu năm 2026", "KH DL")
    await world.staff()
    from storage.models import ChannelIdentity, Person

    async with world.sessions() as session:
        await session.execute(
            update(Person).where(Person.full_name == "Cán bộ An").values(revoked_at=NOW)
        )
        await session.execute(
            update(ChannelIdentity)
            .where(ChannelIdentity.external_id == "7002")
            .values(reachable=False)
        )
        await session.commit()

    found = await world.decide(at(date(2026, 12, 16)))

    assert [d for d in found.decisions if d.rule == "due"] == []
    assert found.unreached == ["Sở Thông tin và Truyền thông"]


# --- never twice, on both engines ------------------------------------------------------------


async def test_a_second_scan_and_two_scans_at_once_enqueue_nothing_more(
    tmp_path: Path, db_url: str
) -> None:
    engines = [create_engine(db_url), create_engine(db_url)]
    try:
        one, two = (World(session_factory(engine), tmp_path) for engine in engines)
        await one.plan(december_plan(), "Kế hoạch dữ liệu năm 2026", "KH DL")
        await one.staff()
        due_day = at(date(2026, 12, 16), 9, 15)

        first, second = await asyncio.gather(one.tick(due_day), two.tick(due_day))

        assert sorted((d.rule, d.to) for d in first + second) == [
            ("due", "Cán bộ An"),
            ("due", "Lãnh đạo Bình"),
            ("missing", GROUP[2]),
        ]
        assert len(await one.rows()) == 3
        assert await one.tick(due_day + timedelta(minutes=15)) == []  # the next tick
        assert await two.tick(due_day + timedelta(hours=6)) == []  # after hours, same day
        assert len(await two.rows()) == 3
    finally:
        for engine in engines:
            await engine.dispose()


# --- "Báo cáo ngay" --------------------------------------------------------------------------


async def test_report_now_opens_the_report_at_that_task(
    fake: FakeTelegram, tmp_path: Path, sqlite_url: str
) -> None:
    async with running_bot(fake, sqlite_url, tmp_path / "data") as bot:
        await join(bot, tmp_path)  # Sở TT&TT's officer, on the small plan
        await reply_to(fake, 1)
        people = World(bot.sessions, tmp_path)
        calendar = await people.calendar()
        day = date(2026, 12, 1)
        found = Scan()
        while not found.decisions:  # I.3 (due 30/06/2022) is chased every second working day
            async with bot.sessions() as session:
                found = await scan(session, at(day), RULES, calendar)
            day += timedelta(days=1)
        (decision,) = [d for d in found.decisions if d.chat_id == str(USER)]
        assert decision.rule == "overdue" and decision.subject.startswith("I.3 — ")
        option_id, label = decision.options[0]
        assert label == "Báo cáo ngay"

        await fake.press(USER, option_id, message_id=4242)  # no dialog is open
        asked = await reply_to(fake, 2)

        assert asked.text.startswith("Nhiệm vụ I.3: Tài liệu tuyên truyền")
        assert asked.text.endswith("Tình trạng thực hiện hiện nay?")
        assert len(asked.buttons) == 5  # the statuses: the report dialog, past its task step

        await fake.push_text(USER, "/huy")
        await reply_to(fake, 3)
        other_units_task = REPORT_NOW.id(await people.task_id("VII.1"))  # VP UBND TP's
        await fake.press(USER, other_units_task, message_id=4243)
        refused = await fake.wait_sent(USER, 5)
        assert "không thuộc đơn vị của bạn" in refused[3].text  # the unit is checked again
        assert refused[4].text.startswith("Chọn nhiệm vụ của Sở Thông tin và Truyền thông")


# --- the settings and the jobs of `tiendo run` -----------------------------------------------


def test_the_rules_and_office_hours_are_settings(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        remind_before_days="10, 5,1",
        remind_overdue_every=3,
        office_hours="07:00-11:30,13:30-17:00",
    )
    rules = ReminderRules.from_settings(settings)
    assert (rules.before_days, rules.overdue_every, rules.escalate_after) == ((10, 5, 1), 3, 5)
    assert settings.office_periods == ((time(7), time(11, 30)), (time(13, 30), time(17)))

    for variable, value in (
        ("office_hours", "13:30-11:30"),
        ("remind_before_days", "7,ba,1"),
        ("remind_before_days", "0"),
        ("digest_time", "25:00"),
    ):
        with pytest.raises(ConfigError) as refused:
            load_settings(data_dir=tmp_path, **{variable: value})
        assert str(refused.value).startswith(f"{variable.upper()}: "), refused.value
    with pytest.raises(ConfigError, match="REPORT_CALL_DAY=20"):
        load_settings(data_dir=tmp_path, report_call_day=20, report_due_day=15)


async def test_tiendo_run_schedules_the_scan_and_the_digest(
    world: World, sqlite_url: str, tmp_path: Path
) -> None:
    await world.plan(december_plan(), "Kế hoạch dữ liệu năm 2026", "KH DL")
    await world.staff()
    settings = load_settings(
        database_url=sqlite_url, data_dir=tmp_path / "data", digest_day="thu", digest_time="14:30"
    )
    jobs = Jobs(world.sessions, settings, clock=lambda: at(date(2026, 12, 16)))
    triggers = {job.id: job.trigger for job in jobs.scheduler.get_jobs()}
    friday_evening = datetime(2026, 12, 18, 16, 50, tzinfo=TZ)
    assert triggers["reminders"].get_next_fire_time(None, friday_evening) == datetime(
        2026, 12, 19, 7, 0, tzinfo=TZ
    )  # Saturday: the scan itself knows whether it is a make-up working day
    assert triggers["digest"].get_next_fire_time(None, friday_evening) == datetime(
        2026, 12, 24, 14, 30, tzinfo=TZ
    )

    jobs.start()
    try:
        await jobs.remind()  # what each tick runs
        await jobs.digest()
    finally:
        await jobs.stop()

    assert not jobs.scheduler.running
    assert len(await world.rows()) == 3
    async with world.sessions() as session:
        digest = await session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "digest"))
    assert digest is not None and digest.key == "digest:2026-W51:telegram:-100500"


async def statements_of_a_scan(world: World, engine: AsyncEngine, when: datetime) -> int:
    counted = []

    def count(*_args: object) -> None:
        counted.append(1)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        await world.decide(when)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    return len(counted)


async def test_a_scan_reads_in_a_few_statements_however_many_tasks(
    tmp_path: Path, sqlite_url: str
) -> None:
    engine = create_engine(sqlite_url)
    try:
        world = World(session_factory(engine), tmp_path)
        await world.plan(december_plan(), "Kế hoạch dữ liệu năm 2026", "KH DL")
        await world.staff()
        call_day = at(date(2026, 12, 10))
        small = await statements_of_a_scan(world, engine, call_day)
        units = ["Sở Nội vụ", "Sở Y tế", "Sở Xây dựng", "Sở Tài chính"]
        many = [T(n, f"Nhiệm vụ số {n}", units[n % 4], "", "16/12/2026") for n in range(1, 41)]
        await world.plan([AppendixGroup("I", "Chính quyền số", many)], "Kế hoạch lớn", "KH L")
        for number, unit in enumerate(units):
            await world.register(unit, str(7100 + number), f"Cán bộ {number}")

        assert len((await world.decide(call_day)).decisions) == 5  # each officer called once
        assert await statements_of_a_scan(world, engine, call_day) == small <= 8
    finally:
        await engine.dispose()
