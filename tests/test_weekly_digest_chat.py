"""The admin sends the week's digest from the phone: /baocaotuan puts it in the outbox once per
bound committee group and week (a second ask the same week writes nothing and says when it was
queued), holds it to office hours, and with no group bound says how to bind one; /baocaotuan
xem shows the admin the text, the chart and the workbook without sending anything.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.dispatcher import Dispatcher
from handlers.events import Incoming, Reply
from handlers.i18n import t
from storage.db import create_engine, session_factory
from storage.models import AuditLog, OutboxMessage
from tests.plan_factory import TZ, config, load_plan

ADMIN, GUEST = "7000", "9000"
GROUPS = {"-100600": "Ban Chỉ đạo CĐS", "-100700": "Tổ giúp việc"}
# The clock reads UTC, as the bot's does (SQLite keeps stored times without their zone).
FRIDAY_MORNING = datetime(2026, 11, 27, 10, 0, tzinfo=TZ).astimezone(UTC)
_updates = itertools.count(1)


@dataclass
class Admin:
    """The admin, in a private chat with the bot or in a group, at a moment the test chooses."""

    dispatcher: Dispatcher
    sessions: async_sessionmaker[AsyncSession]
    data_dir: Path
    clock: list[datetime]

    async def send(self, text: str, chat: str = ADMIN, sender: str = ADMIN) -> list[Reply]:
        name, *args = text.lstrip("/").split()
        event = Incoming(
            channel="telegram",
            chat_id=chat,
            sender_id=sender,
            sender_name="Quản trị",
            received_at=self.clock[0],
            chat_type="private" if chat == sender else "group",
            text=text,
            command=name,
            args=tuple(args),
            update_key=f"w{next(_updates)}",
        )
        return (await self.dispatcher.handle(event)).replies

    async def say(self, text: str, chat: str = ADMIN, sender: str = ADMIN) -> str:
        return "\n".join(reply.text for reply in await self.send(text, chat, sender))

    async def bind_groups(self) -> None:
        for chat, title in GROUPS.items():
            assert "Đã gắn nhóm này" in await self.say(f"/ganhom {title}", chat=chat)


async def _admin(url: str, folder: Path) -> AsyncIterator[Admin]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    await load_plan(sessions, folder)
    clock = [FRIDAY_MORNING]
    admins = frozenset({("telegram", ADMIN)})
    data_dir = folder / "data"
    dispatcher = Dispatcher(sessions, config(data_dir, admins), clock=_reader(clock))
    try:
        yield Admin(dispatcher, sessions, data_dir, clock)
    finally:
        await engine.dispose()


def _reader(clock: list[datetime]) -> Callable[[], datetime]:
    return lambda: clock[0]


@pytest.fixture
async def admin(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Admin]:
    async for found in _admin(sqlite_url, tmp_path):
        yield found


@pytest.fixture
async def admin_any_engine(db_url: str, tmp_path: Path) -> AsyncIterator[Admin]:
    async for found in _admin(db_url, tmp_path):
        yield found


async def digest_rows(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == "digest")
        return list((await session.scalars(query.order_by(OutboxMessage.key))).all())


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def test_two_groups_get_the_week_once_however_often_the_admin_asks(
    admin_any_engine: Admin,
) -> None:
    admin = admin_any_engine
    await admin.bind_groups()

    text = await admin.say("/baocaotuan")
    assert "Tổng hợp tuần 2026-W48 (từ 23/11/2026 đến 27/11/2026)" in text
    assert "✅ Telegram — Ban Chỉ đạo CĐS: đã xếp gửi." in text
    assert "✅ Telegram — Tổ giúp việc: đã xếp gửi." in text
    assert "Tổng hợp đang được gửi đi." in text  # Friday 10:00: the office is open
    rows = await digest_rows(admin.sessions)
    assert [row.key for row in rows] == [
        "digest:2026-W48:telegram:-100600",
        "digest:2026-W48:telegram:-100700",
    ]
    for row in rows:
        assert row.payload["text"].startswith("TỔNG HỢP TUẦN TỪ 23/11/2026 ĐẾN 27/11/2026")
        assert _utc(row.not_before) == FRIDAY_MORNING
        for attached in row.payload["files"]:
            assert (admin.data_dir / attached["path"]).stat().st_size > 0

    admin.clock[0] = FRIDAY_MORNING + timedelta(hours=1)
    again = await admin.say("/baocaotuan")
    assert "✅" not in again
    assert "Ban Chỉ đạo CĐS: tổng hợp tuần này đã được xếp gửi lúc 27/11/2026 10:00" in again
    assert "đang chờ gửi, gửi từ 27/11/2026 10:00" in again
    assert "Không gửi lại: mỗi nhóm chỉ nhận tổng hợp tuần 2026-W48 một lần." in again
    assert [row.id for row in await digest_rows(admin.sessions)] == [row.id for row in rows]
    async with admin.sessions() as session:
        sent = await session.scalars(select(AuditLog).where(AuditLog.action == "digest.sent"))
        entries = list(sent.all())
    assert [(e.entity_id, e.details["groups"]) for e in entries] == [
        ("2026-W48", ["telegram:-100600", "telegram:-100700"])
    ]


async def test_after_office_hours_the_digest_waits_for_monday(admin: Admin) -> None:
    await admin.bind_groups()
    admin.clock[0] = datetime(2026, 11, 27, 17, 30, tzinfo=TZ).astimezone(UTC)
    text = await admin.say("/baocaotuan")
    assert "ngoài giờ làm việc: tổng hợp sẽ được gửi lúc 30/11/2026 07:30" in text
    monday = datetime(2026, 11, 30, 7, 30, tzinfo=TZ)
    assert [_utc(row.not_before) for row in await digest_rows(admin.sessions)] == [monday] * 2


async def test_with_no_group_bound_the_admin_is_told_how_to_bind_one(admin: Admin) -> None:
    text = await admin.say("/baocaotuan")
    assert text == t("vi", "weekly_digest_no_groups")
    assert "/ganhom" in text
    assert await digest_rows(admin.sessions) == []


async def test_the_preview_goes_to_the_admin_alone(admin: Admin) -> None:
    await admin.bind_groups()
    replies = await admin.send("/baocaotuan xem")
    assert replies[0].text.startswith("TỔNG HỢP TUẦN TỪ 23/11/2026 ĐẾN 27/11/2026")
    files = {f.file_name: f for f in replies[-1].files}
    assert set(files) == {"tinh-hinh-2026-W48.png", "tong-hop-2026-W48.xlsx"}
    assert Image.open(io.BytesIO(files["tinh-hinh-2026-W48.png"].content)).format == "PNG"
    workbook = load_workbook(io.BytesIO(files["tong-hop-2026-W48.xlsx"].content))
    assert len(workbook.sheetnames) == 2
    assert await digest_rows(admin.sessions) == []
    assert "/baocaotuan xem" in await admin.say("/baocaotuan gui ngay")  # unknown: the usage


async def test_only_the_admin_and_only_in_private(admin: Admin) -> None:
    await admin.bind_groups()
    refused = await admin.say("/baocaotuan", chat=GUEST, sender=GUEST)
    assert refused.startswith(t("vi", "permission_denied"))
    in_group = await admin.say("/baocaotuan", chat="-100600")
    assert in_group == t("vi", "private_chat_only", command="baocaotuan")
    assert await digest_rows(admin.sessions) == []
