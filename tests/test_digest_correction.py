"""The list of units that did not report stays true: a report that arrives after the week's
digest went out corrects it. On Telegram the digest's message is edited to drop the unit (a
second report of the same unit changes nothing more); on Zalo, which cannot edit, a short
correction goes out at the next office opening.

The story: Sở Tư pháp (A) and Sở Nội vụ (B) lead a task each and have not reported this week;
Sở TT&TT reported on Wednesday. Friday 15:00 the digest goes to the committee's group, listing
A and B; then A's officer files a report through the dialog.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers import notices
from handlers.dispatcher import Dispatcher
from handlers.events import Reply
from handlers.i18n import t
from scheduler.digest_correction import EDIT_KIND, NOTE_KIND, report_filed
from scheduler.digest_send import send_week
from scheduler.jobs import working_calendar
from scheduler.outbox_dispatcher import Tuning
from storage.db import session_scope
from storage.models import OutboxMessage, ReportKind, Task, TaskStatus
from storage.repositories import bound_chats, outbox, people, reports
from storage.repositories.outbox import EDITS
from storage.repositories.reports import Submission
from storage.samples.builder import AppendixGroup
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo
from tests.plan_factory import TZ, Officer, T, config, load_plan, make_invite
from tests.test_digest import Filing, file_report
from tests.test_outbox_dispatcher import Running, dispatching, settled, started_fake

FRIDAY = datetime(2026, 11, 27, 15, 0, tzinfo=TZ)  # the digest goes out
LATE = datetime(2026, 11, 27, 16, 0, tzinfo=TZ)  # A reports, the office still open
NIGHT = datetime(2026, 11, 27, 22, 0, tzinfo=TZ)  # A reports from home
SATURDAY = datetime(2026, 11, 28, 9, 0, tzinfo=TZ)
MONDAY = datetime(2026, 11, 30, 7, 30, tzinfo=TZ)  # the office opens again
WEDNESDAY = datetime(2026, 11, 25, 9, 0, tzinfo=TZ)
A, B = "Sở Tư pháp", "Sở Nội vụ"
TELEGRAM_GROUP, ZALO_GROUP = "-100500", "zgroup0a0b0c0d0e0f"


def plan(b_tasks: int = 1) -> list[AppendixGroup]:
    """A, B and Sở TT&TT lead a task each (B leads `b_tasks`), all due in 2027."""
    more = [T(4, "Số hóa hồ sơ công chức", B, "", "Quý IV/2027")] if b_tasks == 2 else []
    return [
        AppendixGroup(
            "VII",
            "Phát triển chính quyền số",
            [
                T(1, "Chữ ký số cho cán bộ", A, "", "Quý IV/2027"),
                T(2, "Hệ thống họp trực tuyến", B, "", "Quý IV/2027"),
                T(3, "Trung tâm điều hành thông minh", "Sở TT&TT", "", "Quý IV/2027"),
                *more,
            ],
        )
    ]


class Clock:
    """The story's moment, for the dialogs and the outbox alike (real time for their pace)."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        self._start = time.monotonic()

    def __call__(self) -> datetime:
        return self.at.astimezone(UTC)

    def now(self) -> datetime:
        return self()

    def time(self) -> float:
        return time.monotonic() - self._start

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass
class Story:
    bot: Running
    clock: Clock
    officers: dict[str, Officer]
    group: str
    data: Path

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.bot.sessions

    async def send_digest(self) -> None:
        """Friday's digest, as the job and /baocaotuan send it."""
        async with session_scope(self.sessions) as session:
            calendar = await working_calendar(session, config(self.data))
            sent = await send_week(session, self.clock(), calendar, lang="vi", data_dir=self.data)
        assert [item.new for item in sent.queued] == [True]
        self.bot.dispatcher.wake()

    async def report(self, unit: str, at: datetime, code: str) -> None:
        self.clock.at = at
        await file_report(self.officers[unit], Filing(unit, at, code, "đang làm", 10))
        self.bot.dispatcher.wake()

    async def rows(self, kind: str) -> list[OutboxMessage]:
        async with self.sessions() as session:
            query = select(OutboxMessage).where(
                OutboxMessage.kind == kind, OutboxMessage.chat_id == self.group
            )
            return list((await session.scalars(query.order_by(OutboxMessage.id))).all())


@pytest.fixture
async def telegram(tmp_path: Path, db_url: str) -> AsyncIterator[Story]:
    async with started_fake("telegram") as fake, _story(fake, db_url, tmp_path) as story:
        yield story


@pytest.fixture
async def zalo(tmp_path: Path, db_url: str) -> AsyncIterator[Story]:
    async with started_fake("zalo") as fake, _story(fake, db_url, tmp_path, 2) as story:
        yield story


@asynccontextmanager
async def _story(
    fake: FakeTelegram | FakeZalo, db_url: str, folder: Path, b_tasks: int = 1
) -> AsyncIterator[Story]:
    channel = "telegram" if isinstance(fake, FakeTelegram) else "zalo"
    group = TELEGRAM_GROUP if channel == "telegram" else ZALO_GROUP
    clock = Clock(WEDNESDAY)
    data = folder / "data"
    async with dispatching(channel, fake, db_url, data, clock=clock) as bot:
        await load_plan(bot.sessions, folder, plan(b_tasks), plan="Kế hoạch")
        dialogs = Dispatcher(bot.sessions, config(data), clock=clock)
        officers = {}
        for number, unit in enumerate((A, B, "Sở TT&TT"), start=1):
            officer = Officer(dialogs, str(7000 + number), f"Cán bộ {number}", channel)
            await officer.command(f"/start {await make_invite(bot.sessions, unit)}")
            officers[unit] = officer
        async with session_scope(bot.sessions) as session:
            bound_chats.bind(session, channel, group, "Ban Chỉ đạo chuyển đổi số", clock())
        story = Story(bot, clock, officers, group, data)
        await story.report("Sở TT&TT", WEDNESDAY, "VII.3")
        story.clock.at = FRIDAY
        await story.send_digest()
        yield story


def silent_lines(text: str) -> list[str]:
    """The digest's lines about the units that did not report (heading first)."""
    lines = text.splitlines()
    heads = [i for i, line in enumerate(lines) if line.startswith("Đơn vị chưa báo cáo")]
    if not heads:
        return []
    start = heads[0]
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


SHORT = {A: "STP", B: "SNV"}  # as the unit catalog abbreviates them


def never(unit: str) -> str:
    """A unit's line in the list: its one task not reported, and never a report before."""
    return f"- {SHORT[unit]}: 1/1 nhiệm vụ chủ trì chưa báo cáo; chưa báo cáo lần nào"


async def test_a_late_report_edits_the_telegram_digest_to_drop_its_unit(
    telegram: Story,
) -> None:
    fake: FakeTelegram = telegram.bot.fake
    group = int(TELEGRAM_GROUP)
    digest = await fake.wait_sent(group, 3)  # the text, the chart, the workbook
    assert [sent.method for sent in digest] == ["sendMessage", "sendDocument", "sendDocument"]
    listed = silent_lines(digest[0].text)
    assert listed[0].endswith("(2 đơn vị):")
    assert sorted(listed[1:]) == sorted([never(A), never(B)])

    await telegram.report(A, LATE, "VII.1")

    edited = (await fake.wait_sent(group, 4))[3]
    assert edited.method == "editMessageText"
    assert edited.message_id == digest[0].message_id
    now_listed = silent_lines(edited.text)
    assert now_listed[0].endswith("(1 đơn vị):")
    assert now_listed[1:] == [never(B)]  # A dropped, B still there
    # Nothing else in the digest changed.
    assert edited.text.replace("\n".join(now_listed), "") == digest[0].text.replace(
        "\n".join(listed), ""
    )
    [edit] = await telegram.rows(EDIT_KIND)
    assert await _settled(telegram, edit.id) == "sent"

    # A second report of A: the list is already true, nothing more is written or sent.
    await telegram.report(A, LATE.replace(minute=30), "VII.1")
    assert len(await telegram.rows(EDIT_KIND)) == 1
    assert len(fake.to(group)) == 4

    # B reports too: the digest now says every lead unit reported.
    await telegram.report(B, LATE.replace(minute=45), "VII.2")
    final = (await fake.wait_sent(group, 5))[4]
    assert (final.method, final.message_id) == ("editMessageText", digest[0].message_id)
    assert silent_lines(final.text) == []  # no heading left
    span = {"start": "23/11/2026", "end": "27/11/2026"}
    assert t("vi", "fig_no_silent_units", **span) in final.text.splitlines()
    assert await telegram.rows(NOTE_KIND) == []  # Telegram edits, it is not told twice


async def test_two_late_reports_at_once_leave_the_true_list(telegram: Story) -> None:
    """A's and B's reports are saved at the same moment, each in its own transaction: B's
    correction waits for A's to commit, sees A's report, and its edit (the last) drops both."""
    fake: FakeTelegram = telegram.bot.fake
    group = int(TELEGRAM_GROUP)
    digest = await fake.wait_sent(group, 3)
    telegram.clock.at = LATE
    async with telegram.sessions() as first, telegram.sessions() as second:
        await save_report(first, telegram, A, "VII.1")
        later = asyncio.create_task(save_report(second, telegram, B, "VII.2", commit=True))
        await asyncio.sleep(0.5)
        assert not later.done()  # B's correction waits for A's transaction
        await first.commit()
        await asyncio.wait_for(later, 10)
    telegram.bot.dispatcher.wake()

    edits = await telegram.rows(EDIT_KIND)
    assert len(edits) == 2
    assert [silent_lines(edit.payload["text"])[1:] for edit in edits] == [[never(B)], []]
    for edit in edits:
        assert await _settled(telegram, edit.id) == "sent"
    last = [sent for sent in fake.to(group) if sent.message_id == digest[0].message_id][-1]
    assert last.method == "editMessageText" and silent_lines(last.text) == []


async def save_report(
    session: AsyncSession, story: Story, unit: str, code: str, commit: bool = False
) -> None:
    """What the dialog's last step does, in `session`: the report saved, the digest corrected."""
    officer = story.officers[unit]
    person = await people.find_by_identity(session, officer.channel, officer.user_id)
    task = await session.scalar(select(Task).where(Task.code == code))
    assert person is not None and task is not None
    filed = Submission(ReportKind.REPORT, "Đã triển khai", "", "", TaskStatus.IN_PROGRESS, 30)
    now = story.clock()
    await reports.add(
        session, task=task, person=person, submission=filed, files=[], channel="telegram", now=now
    )
    await report_filed(session, task.id, now, config(story.data))
    if commit:
        await session.commit()


async def test_on_zalo_a_correction_follows_at_the_next_opening(zalo: Story) -> None:
    """On Zalo B leads two tasks: the digest lists A (1/1) and B (2/2)."""
    fake: FakeZalo = zalo.bot.fake
    digest = await fake.wait_sent(ZALO_GROUP, 1)
    assert digest[0].text.startswith("TỔNG HỢP TUẦN TỪ 23/11/2026 ĐẾN 27/11/2026")
    await _settled_kind(zalo, "digest")
    assert silent_lines(digest[0].text)[1:] == [
        never(B).replace("1/1", "2/2"),
        never(A),
    ]
    before = len(fake.to(ZALO_GROUP))

    await zalo.report(A, NIGHT, "VII.1")  # at 22:00: nobody is messaged at night

    [note] = await zalo.rows(NOTE_KIND)
    assert note.state == "pending"
    assert _utc(note.not_before) == MONDAY.astimezone(UTC)
    assert await zalo.rows(EDIT_KIND) == []  # Zalo cannot edit: it gets no edit row
    assert len(fake.to(ZALO_GROUP)) == before

    await zalo.report(A, NIGHT.replace(minute=30), "VII.1")  # again: nothing more
    assert len(await zalo.rows(NOTE_KIND)) == 1
    await zalo.report(B, SATURDAY, "VII.2")  # one of B's two, on the weekend
    assert len(await zalo.rows(NOTE_KIND)) == 2

    zalo.clock.at = MONDAY
    zalo.bot.dispatcher.wake()
    corrections = [sent.text for sent in (await fake.wait_sent(ZALO_GROUP, before + 2))[before:]]
    week = {"start": "23/11/2026", "end": "27/11/2026"}
    assert corrections == [
        t("vi", "digest_correction_dropped", unit=SHORT[A], date="27/11/2026", **week),
        t(
            "vi",
            "digest_correction_fewer",
            unit=SHORT[B],
            date="28/11/2026",
            missing="1",
            owed="2",
            **week,
        ),
    ]
    assert all(text.startswith("Đính chính: ") for text in corrections)

    # On Monday a new week begins: B's other report corrects last week's digest no more.
    await zalo.report(B, MONDAY.replace(hour=8), "VII.4")
    assert len(await zalo.rows(NOTE_KIND)) == 2


async def _settled(story: Story, row_id: int, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while True:
        async with story.sessions() as session:
            row = await session.get(OutboxMessage, row_id)
            assert row is not None
            if row.state in ("sent", "failed") or time.monotonic() > deadline:
                return row.state
        await asyncio.sleep(0.05)


async def _settled_kind(story: Story, kind: str) -> None:
    [row] = await story.rows(kind)
    assert await _settled(story, row.id) == "sent"


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ---- the edit itself: any sent row's messages, rewritten in place ----------------------------


async def test_an_edit_waits_for_its_message_then_rewrites_each_piece(
    tmp_path: Path, db_url: str
) -> None:
    """A long text went out in two messages; an edit decided before it was even sent waits
    for it, then writes the new text over both, piece by piece, in the same two messages."""
    tuning = Tuning(lease=timedelta(hours=1), poll_seconds=0.2, backoff_first=0.2)
    chat = "600600"  # a private chat: no group pace to wait for
    lines = [f"Dòng {n}: nhiệm vụ đang thực hiện, đã đạt {n % 100}% khối lượng" for n in range(120)]
    shorter = [*lines[:3], "Dòng 3: đã hoàn thành", *lines[4:100]]
    async with (
        started_fake("telegram") as fake,
        dispatching("telegram", fake, db_url, tmp_path, tuning=tuning) as bot,
    ):
        now = bot.clock.now()
        async with session_scope(bot.sessions) as session:
            edit = {**notices.payload(Reply("\n".join(shorter))), EDITS: "notice:long"}
            await outbox.enqueue(
                session, key="edit:1", channel="telegram", chat_id=chat, kind="edit",
                payload=edit, now=now,
            )  # fmt: skip
            await outbox.enqueue(
                session, key="notice:long", channel="telegram", chat_id=chat, kind="notice",
                payload=notices.payload(Reply("\n".join(lines))), now=now,
                not_before=now + timedelta(seconds=1),
            )  # fmt: skip
        bot.dispatcher.wake()

        sent = await fake.wait_sent(int(chat), 4, timeout=20)
        assert [s.method for s in sent] == ["sendMessage"] * 2 + ["editMessageText"] * 2
        first, second = sent[0].message_id, sent[1].message_id
        assert [s.message_id for s in sent[2:]] == [first, second]
        assert "\n".join(s.text for s in sent[2:]) == "\n".join(shorter)
        rows = {row.key: row for row in await settled(bot.sessions, 2)}
        assert rows["notice:long"].platform_ids == [str(first), str(second)]
        assert rows["edit:1"].state == "sent" and rows["edit:1"].attempts >= 1  # it waited


async def test_an_edit_of_a_message_that_never_went_out_fails_with_its_reason(
    tmp_path: Path, sqlite_url: str
) -> None:
    async with (
        started_fake("telegram") as fake,
        dispatching("telegram", fake, sqlite_url, tmp_path) as bot,
    ):
        async with session_scope(bot.sessions) as session:
            edit = {**notices.payload(Reply("Đã sửa")), EDITS: "notice:none"}
            await outbox.enqueue(
                session, key="edit:2", channel="telegram", chat_id="-100700", kind="edit",
                payload=edit, now=bot.clock.now(),
            )  # fmt: skip
        bot.dispatcher.wake()
        [row] = await settled(bot.sessions, 1)
        assert row.state == "failed" and "notice:none" in row.last_error
        assert fake.to(-100700) == []
