"""The scheduler's messages on Zalo: a reminder to an officer, the weekly digest to the
committee's group, delivered by the outbox dispatcher through the real Zalo channel.

The bot runs as `tiendo run` assembles it (the Zalo service and its long poll, the one outbox
dispatcher sending through the service's sender, the HTTP server serving signed file links)
against the fake Zalo Bot API server, on SQLite and PostgreSQL. "Now" is the story's: the
reminder scan and the digest are run at a moment chosen in office hours, and the dispatcher's
clock reads that moment (moving on as real time does), so what they queued is due at once.

Zalo has no buttons and takes no upload: the reminder's "Báo cáo ngay" is a numbered line,
answered by its number; the digest's text is cut into messages of at most 2,000 characters,
its chart is a photo the platform fetches by URL, its workbook a signed link in the text.
"""

from __future__ import annotations

import asyncio
import io
import re
import socket
import struct
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import open_app
from bot.channels.files import FileLinks
from bot.channels.zalo_polling import poll
from bot.channels.zalo_service import ZaloService
from bot.commands.run import channel_limits
from bot.config import Settings, load_settings
from bot.handler_config import handler_config
from bot.web import build_web_app
from handlers.dispatcher import Dispatcher
from scheduler.digest_send import send_week
from scheduler.jobs import reminder_pass, working_calendar
from scheduler.outbox_dispatcher import OutboxDispatcher, Tuning, new_instance
from scheduler.rate_limit import SystemClock
from storage.models import OutboxMessage
from storage.samples.builder import AppendixGroup
from tests import fake_zalo
from tests.fake_zalo import FakeZalo, Sent
from tests.plan_factory import TZ, T, load_plan, make_invite

OFFICER, ADMIN, GROUP = "b1000000000000000001", "b1000000000000000009", "c0ffee00000000000042"
TEXT_LIMIT = 2_000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment in Hai Phong, as the UTC the bot keeps."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ).astimezone(UTC)


MONDAY = local(date(2026, 12, 7), 9)  # in office hours; Thursday 10/12 is 3 working days on
FRIDAY = local(date(2026, 12, 11), 15)  # the digest's usual moment, the week from 07/12


class StoryClock(SystemClock):
    """The outbox dispatcher's time: the story's moment, moving on with the real clock."""

    def __init__(self, start: datetime) -> None:
        self.start, self.began = start, time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.began)


@dataclass
class ZaloBot:
    fake: FakeZalo
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    clock: StoryClock

    async def ask(self, user: str, text: str, group: str | None = None) -> str:
        """`user` writes `text` (in private, or in `group`); the bot's next message there."""
        chat = group or user
        before = len(self.fake.to(chat))
        await self.fake.push_text(user, text, group=group)
        return (await self.fake.wait_sent(chat, before + 1))[before].text


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def zalo_bot(db_url: str, data_dir: Path, moment: datetime) -> AsyncIterator[ZaloBot]:
    """`tiendo run` on Zalo at `moment`: the service polling the fake, the outbox dispatcher
    sending through the service's sender, the file links served where PUBLIC_BASE_URL says."""
    async with fake_zalo.running() as fake:
        fake.max_poll_seconds = 0.2  # a poll held at the end delays the fake server's stop
        port = free_port()
        settings = load_settings(
            database_url=db_url,
            data_dir=data_dir,
            admins=f"zalo:{ADMIN}",
            zalo_bot_token=fake_zalo.TOKEN,
            zalo_api_base_url=fake.url,
            public_base_url=f"http://127.0.0.1:{port}",
            zalo_seconds_per_chat=0.05,  # the platform's pace is not this story's subject
        )
        clock = StoryClock(moment)
        async with open_app(settings) as app:
            dispatcher = Dispatcher(app.sessions, handler_config(settings), clock=clock.now)
            links = FileLinks.from_settings(settings)
            service = ZaloService(settings, dispatcher, links)
            await service.open()
            outbox = OutboxDispatcher(
                app.sessions,
                {"zalo": service.outbox_sender()},
                channel_limits(settings),
                new_instance(),
                clock=clock,
                tuning=Tuning(poll_seconds=0.1),
            )
            await service.channel.delivery.use(outbox)
            runner = web.AppRunner(build_web_app(None, settings.webhook_secret, links.routes()))
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            stop = asyncio.Event()
            tasks = [
                asyncio.create_task(poll(service.channel, stop, timeout=1)),
                asyncio.create_task(outbox.serve(stop)),
            ]
            try:
                yield ZaloBot(fake, app.sessions, settings, clock)
            finally:
                stop.set()
                await asyncio.wait_for(asyncio.gather(*tasks), 10)
                await service.close()
                await runner.cleanup()


async def outbox_rows(sessions: async_sessionmaker[AsyncSession], kind: str) -> list[OutboxMessage]:
    async with sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        return list((await session.scalars(query)).all())


async def settled(sessions: async_sessionmaker[AsyncSession], kind: str) -> list[OutboxMessage]:
    """The rows of `kind` once none is waiting any more (sent, or failed for good)."""
    for _ in range(100):
        rows = await outbox_rows(sessions, kind)
        if rows and all(row.state in ("sent", "failed") for row in rows):
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError(f"{kind}: {[(row.key, row.state) for row in rows]}")


# --- a reminder ----------------------------------------------------------------------------


def reminder_plan() -> list[AppendixGroup]:
    return [
        AppendixGroup(
            "I",
            "Phát triển dữ liệu",
            [
                T(1, "Kho dữ liệu dùng chung", "Sở TT&TT", "", "10/12/2026"),
                T(2, "Số hóa sổ hộ tịch", "Sở Tư pháp", "", "31/12/2027"),
            ],
        )
    ]


async def officer_on_zalo(bot: ZaloBot, folder: Path) -> None:
    """Sở TT&TT's contact officer joins on Zalo with an invite code."""
    await load_plan(bot.sessions, folder, reminder_plan(), plan="Kế hoạch dữ liệu năm 2026")
    code = await make_invite(bot.sessions, "Sở TT&TT", expires=timedelta(days=60))
    assert "Chào" in await bot.ask(OFFICER, f"/start {code}")


async def reminder_delivered(bot: ZaloBot) -> Sent:
    """The scan at Monday 09:00 queues the reminder; the dispatcher delivers it."""
    before = len(bot.fake.to(OFFICER))
    done = await reminder_pass(bot.sessions, bot.settings, MONDAY)
    assert [(d.rule, d.channel, d.chat_id) for d, new in done.written if new] == [
        ("before", "zalo", OFFICER)
    ]
    (row,) = await settled(bot.sessions, "reminder")
    assert row.state == "sent" and row.attempts == 0
    sent = await bot.fake.wait_sent(OFFICER, before + 1)
    assert len(sent) == before + 1  # one message: the reminder and its option together
    return sent[before]


async def test_a_reminder_reaches_the_officer_on_zalo_with_a_numbered_option(
    tmp_path: Path, db_url: str
) -> None:
    async with zalo_bot(db_url, tmp_path / "data", MONDAY) as bot:
        await officer_on_zalo(bot, tmp_path)
        reminder = await reminder_delivered(bot)

    assert reminder.method == "sendMessage"
    assert reminder.text.splitlines() == [
        "🔔 NHẮC HẠN NHIỆM VỤ",
        "I.1 — Kho dữ liệu dùng chung",
        "Đơn vị chủ trì: Sở Thông tin và Truyền thông",
        "Thời hạn: 10/12/2026 — còn 3 ngày làm việc.",
        "Đề nghị đơn vị khẩn trương thực hiện và báo cáo kết quả.",
        "1. Báo cáo ngay",  # no buttons on Zalo: the option is a numbered line
        "Trả lời 1",
    ]


async def test_answering_the_reminders_number_opens_the_report_on_that_task(
    tmp_path: Path, db_url: str
) -> None:
    async with zalo_bot(db_url, tmp_path / "data", MONDAY) as bot:
        await officer_on_zalo(bot, tmp_path)
        await reminder_delivered(bot)

        asked = await bot.ask(OFFICER, "1")

    assert asked.startswith("Nhiệm vụ I.1: Kho dữ liệu dùng chung")
    assert "Tình trạng thực hiện hiện nay?" in asked
    assert "Trả lời" in asked  # the statuses, numbered: the report dialog, past its task step


# --- the weekly digest ---------------------------------------------------------------------

UNITS = (
    "Sở TT&TT",
    "Sở Nội vụ",
    "Sở Tư pháp",
    "Sở KH&ĐT",
    "Sở Tài chính",
    "Sở Y tế",
    "Sở GD&ĐT",
    "VP UBND TP",
    "Sở TN&MT",
    "Sở Xây dựng",
    "UBND quận Hồng Bàng",
    "UBND huyện Vĩnh Bảo",
)
GROUPS = (
    "Công tác tuyên truyền, nâng cao nhận thức",
    "Công tác xây dựng thể chế, cơ chế chính sách",
    "Phát triển nền tảng, hạ tầng số",
    "Phát triển dữ liệu",
    "Bảo đảm quốc phòng, an ninh, an toàn thông tin mạng",
    "Phát triển nguồn nhân lực",
    "Phát triển chính quyền số",
    "Phát triển kinh tế số",
    "Phát triển xã hội số",
)
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX")
# Overdue for months, due within the week, or due in a year: the digest lists the first two.
DUE = ("Quý I/2026", "15/12/2026", "Năm 2027")


def programme() -> list[AppendixGroup]:
    """The nine groups of the programme, three tasks each, led by a dozen units: the digest of
    such a plan is longer than one Zalo message."""
    groups = []
    for g, (roman, name) in enumerate(zip(ROMAN, GROUPS, strict=True)):
        tasks = [
            T(
                n,
                f"Triển khai nhiệm vụ số {g * 3 + n} thuộc nhóm {roman}: xây dựng, vận hành "
                "và khai thác hệ thống thông tin",
                UNITS[(g * 3 + n) % len(UNITS)],
                "",
                DUE[n - 1],
            )
            for n in (1, 2, 3)
        ]
        groups.append(AppendixGroup(roman, name, tasks))
    return groups


async def committee_group_on_zalo(bot: ZaloBot, folder: Path) -> None:
    """The admin binds the committee's Zalo group with /ganhom (the bot may join groups)."""
    await load_plan(bot.sessions, folder, programme(), plan="Chương trình chuyển đổi số")
    bound = await bot.ask(ADMIN, "/ganhom Ban Chỉ đạo CĐS", group=GROUP)
    assert "Đã gắn nhóm này làm nhóm Ban Chỉ đạo" in bound


async def digest_delivered(bot: ZaloBot) -> tuple[OutboxMessage, list[Sent]]:
    """`send_week` at Friday 15:00 queues the digest; the dispatcher delivers it."""
    before = len(bot.fake.to(GROUP))
    async with bot.sessions() as session:
        calendar = await working_calendar(session, bot.settings)
        week = await send_week(session, FRIDAY, calendar, lang="vi", data_dir=bot.settings.data_dir)
        await session.commit()
    assert [(q.channel, q.chat_id, q.new) for q in week.queued] == [("zalo", GROUP, True)]
    (row,) = await settled(bot.sessions, "digest")
    assert row.state == "sent", row.last_error
    return row, bot.fake.to(GROUP)[before:]


async def download(url: str) -> tuple[int, str, bytes]:
    async with aiohttp.ClientSession() as client, client.get(url) as response:
        return response.status, response.content_type, await response.read()


def png_size(content: bytes) -> tuple[int, int]:
    """The width and height in a PNG's header (IHDR, the first chunk)."""
    assert content[:8] == PNG_MAGIC
    assert content[12:16] == b"IHDR"
    width, height = struct.unpack(">II", content[16:24])
    return width, height


def tampered(url: str) -> str:
    """`url` with one character of its signature changed."""
    head, signature, name = url.rsplit("/", 2)
    changed = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{head}/{changed}/{name}"


async def test_the_weekly_digest_reaches_the_committee_group_on_zalo(
    tmp_path: Path, db_url: str
) -> None:
    async with zalo_bot(db_url, tmp_path / "data", FRIDAY) as bot:
        await committee_group_on_zalo(bot, tmp_path)
        row, sent = await digest_delivered(bot)

        texts = [s.text for s in sent if s.method == "sendMessage"]
        photos = [s for s in sent if s.method == "sendPhoto"]
        # The text, cut at line ends into messages the platform takes, then the chart.
        assert [s.method for s in sent] == ["sendMessage"] * len(texts) + ["sendPhoto"]
        assert len(row.payload["text"]) > TEXT_LIMIT and len(texts) >= 2
        assert all(1 <= len(text) <= TEXT_LIMIT for text in texts)
        assert texts[0].startswith("TỔNG HỢP TUẦN TỪ 07/12/2026 ĐẾN 11/12/2026")
        lines = [line for text in texts for line in text.splitlines() if line.strip()]
        wanted = [line for line in row.payload["text"].splitlines() if line.strip()]
        assert lines[:-1] == wanted  # every line, whole and in order; the workbook's link last

        # The chart: a photo by URL, which the platform fetched from the bot's own server.
        (photo,) = photos
        assert photo.photo is not None and photo.fetched is not None
        assert photo.photo.startswith(bot.settings.public_base_url + "/files/")
        assert photo.photo.endswith("/tinh-hinh-2026-W50.png")
        status, kind, chart = await download(photo.photo)
        assert (status, kind) == (200, "image/png")
        assert chart == photo.fetched.body
        width, height = png_size(chart)
        assert width >= 400 and height >= 200
        with Image.open(io.BytesIO(chart)) as image:
            assert image.format == "PNG" and image.size == (width, height)

        # The workbook: a signed link in the text, opened as the committee's secretary would.
        (link,) = re.findall(r"^Tải tệp tong-hop-2026-W50\.xlsx: (\S+)$", lines[-1])
        assert link.startswith(bot.settings.public_base_url + "/files/")
        status, _kind, workbook = await download(link)
        assert status == 200
        book = load_workbook(io.BytesIO(workbook))
        assert book.sheetnames == ["Tổng hợp", "Nhiệm vụ"]
        assert book["Nhiệm vụ"].max_row >= 1 + 27  # a header and the programme's 27 tasks

        # A link whose signature was changed, or that names another file, serves nothing.
        for forged in (tampered(photo.photo), tampered(link), link[:-5] + ".png"):
            assert (await download(forged))[0] in (403, 404), forged


async def test_a_chart_the_platform_cannot_fetch_still_reaches_the_group_as_a_link(
    tmp_path: Path, sqlite_url: str
) -> None:
    async with zalo_bot(sqlite_url, tmp_path / "data", FRIDAY) as bot:
        await committee_group_on_zalo(bot, tmp_path)
        bot.fake.fail_next("sendPhoto", 400, "Bad Request: could not fetch the photo")
        _row, sent = await digest_delivered(bot)  # sent: the link stood in for the photo

        assert [s.method for s in sent].count("sendPhoto") == 0
        last = sent[-1].text
        assert last.startswith("Tải tệp tinh-hinh-2026-W50.png: ")
        status, kind, chart = await download(last.split(": ", 1)[1])
        assert (status, kind) == (200, "image/png") and chart[:8] == PNG_MAGIC
