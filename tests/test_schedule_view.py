"""An admin asks /lich what the bot will do on its own, and when: on a Friday afternoon after the
office closed, and on the eve of Tết 2023 with the year's letter entered (an extra day off after
Tết, a make-up Saturday). The next runs are the jobs' own triggers read against the working
calendar, so a scan or a digest that falls on a day off is shown as it will really happen.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.dispatcher import Dispatcher
from handlers.events import Incoming
from handlers.i18n import t
from storage.db import create_engine, session_factory
from storage.repositories import bound_chats, holidays
from storage.repositories.holidays import Override
from tests.plan_factory import NOW, TZ, config

ADMIN, OFFICER = "7000", "1001"
_updates = itertools.count(1)


@dataclass
class Desk:
    """The admin's private chat with the bot, at a moment the test chooses."""

    dispatcher: Dispatcher
    sessions: async_sessionmaker[AsyncSession]
    clock: list[datetime]

    async def ask(self, text: str, sender: str = ADMIN) -> str:
        name, *args = text.lstrip("/").split()
        event = Incoming(
            channel="telegram",
            chat_id=sender,
            sender_id=sender,
            sender_name="Quản trị",
            received_at=self.clock[0],
            text=text,
            command=name,
            args=tuple(args),
            update_key=f"s{next(_updates)}",
        )
        return "\n".join(reply.text for reply in (await self.dispatcher.handle(event)).replies)


@pytest.fixture
async def desk(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Desk]:
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    clock = [NOW]
    admins = frozenset({("telegram", ADMIN)})
    dispatcher = Dispatcher(sessions, config(tmp_path / "data", admins), clock=_reader(clock))
    try:
        yield Desk(dispatcher, sessions, clock)
    finally:
        await engine.dispose()


def _reader(clock: list[datetime]) -> Callable[[], datetime]:
    return lambda: clock[0]


def at(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


async def test_on_friday_afternoon_the_next_runs_are_next_week(desk: Desk) -> None:
    async with desk.sessions() as session:
        bound_chats.bind(session, "telegram", "-100600", "Ban Chỉ đạo CĐS", NOW)
        await session.commit()
    desk.clock[0] = at(2026, 11, 27, 16, 50)  # Friday, the office closed, the last scan done
    text = await desk.ask("/lich")

    assert "bây giờ: Thứ Sáu 27/11/2026 16:50, múi giờ Asia/Ho_Chi_Minh" in text
    assert "Giờ làm việc: 07:30–11:30, 13:30–16:30" in text
    assert "giờ làm việc tiếp theo: Thứ Hai 30/11/2026 07:30" in text
    assert "15 phút một lần, từ 07:00 đến 16:45" in text
    assert "Lần quét tới: Thứ Hai 30/11/2026 07:00." in text
    assert "gửi từ 07:30" in text
    assert "trước hạn 7, 3 và 1 ngày làm việc" in text
    assert "cứ 2 ngày làm việc" in text and "quá hạn 5 ngày làm việc" in text
    # Today's digest went at 15:00: the next is next Friday's, to the one bound group.
    assert "Thứ Sáu hằng tuần lúc 15:00, gửi 1 nhóm" in text
    assert "Lần tới: Thứ Sáu 04/12/2026 15:00." in text
    assert "ngày nghỉ (" not in text
    assert "đề nghị báo cáo Thứ Năm 10/12/2026, hạn Thứ Ba 15/12/2026" in text
    assert "báo nhóm Ban Chỉ đạo Thứ Tư 16/12/2026" in text
    assert "- Thứ Sáu 01/01/2027: Tết Dương lịch" in text

    desk.clock[0] = at(2026, 11, 27, 14, 0)  # the same Friday, before the digest
    text = await desk.ask("/lich")
    assert "Hiện đang trong giờ làm việc." in text
    assert "Lần quét tới: Thứ Sáu 27/11/2026 14:00." in text
    assert "Lần tới: Thứ Sáu 27/11/2026 15:00." in text


async def test_on_the_eve_of_tet_2023_the_digest_waits_and_the_scan_resumes_after(
    desk: Desk,
) -> None:
    async with desk.sessions() as session:
        for day, working, note in (
            (date(2023, 1, 27), False, "nghỉ thêm theo công văn"),
            (date(2023, 2, 4), True, "bù ngày 27/01"),
        ):
            await holidays.add(
                session, Override(day, working, note), replace=False, now=NOW, actor="test"
            )
        await session.commit()
    desk.clock[0] = at(2023, 1, 19, 17, 0)  # Thursday, the last working day before Tết
    text = await desk.ask("/lich")

    # Tết (20–26/01) and the extra day off: nothing is decided before Monday 30/01.
    assert "Lần quét tới: Thứ Hai 30/01/2023 07:00." in text
    assert "giờ làm việc tiếp theo: Thứ Hai 30/01/2023 07:30" in text
    # Friday's digest falls on 29 Tết: made on time, sent when the office reopens.
    assert "Lần tới: Thứ Sáu 20/01/2023 15:00." in text
    assert "ngày nghỉ (29 Tết)" in text and "gửi lúc Thứ Hai 30/01/2023 07:30" in text
    assert "Chưa có nhóm nào được gắn: gửi /ganhom" in text
    assert "đề nghị báo cáo Thứ Sáu 10/02/2023, hạn Thứ Tư 15/02/2023" in text
    days_off = [line for line in text.splitlines() if line.startswith("- Th") or "Chủ Nhật" in line]
    assert days_off == [
        "- Thứ Sáu 20/01/2023: 29 Tết",
        "- Thứ Bảy 21/01/2023: Giao thừa Tết Nguyên Đán",
        "- Chủ Nhật 22/01/2023: Tết Nguyên Đán",
        "- Thứ Hai 23/01/2023: Mùng hai Tết Nguyên Đán",
        "- Thứ Ba 24/01/2023: Mùng ba Tết Nguyên Đán",
        "- Thứ Tư 25/01/2023: Mùng bốn Tết Nguyên Đán",
        "- Thứ Năm 26/01/2023: Mùng năm Tết Nguyên Đán",
        "- Thứ Sáu 27/01/2023: nghỉ thêm theo công văn",
        "- Thứ Bảy 04/02/2023: làm việc bù (bù ngày 27/01)",
    ]


async def test_only_an_admin_reads_the_schedule(desk: Desk) -> None:
    assert (await desk.ask("/lich", sender=OFFICER)).startswith(t("vi", "permission_denied"))
