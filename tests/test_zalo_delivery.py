"""What comes in and goes out on Zalo: the webhook's secret, repeated events, long texts,
flood limits, blocked people, and files given as signed links that expire."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import aiohttp
from sqlalchemy import select

from bot.channels import zalo_webhook
from bot.channels.files import FileLinks
from handlers import replies
from handlers.events import Incoming, Option, OutgoingFile, Reply
from storage.models import ChannelIdentity, InboxEvent, OutboxMessage, ProcessedUpdate
from storage.repositories import inbox, outbox
from tests.fake_zalo import with_shape
from tests.test_zalo_journey import (
    USER,
    count_rows,
    fake_zalo,
    join,
    running_zalo,
    said,
    serving,
)

SECRET = "zalo-webhook-secret-123"
OTHER = "0a0b0c0d0e0f10111213"
XLSX = b"PK\x03\x04 a spreadsheet"


async def get(url: str) -> tuple[int, bytes, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return (
            response.status,
            await response.read(),
            response.headers.get("Content-Disposition", ""),
        )


async def test_the_webhook_takes_only_deliveries_with_its_secret(
    tmp_path: Path, db_url: str
) -> None:
    async with (
        fake_zalo() as fake,
        running_zalo(fake, db_url, tmp_path / "data", polling=False) as bot,
        serving(zalo_webhook.routes(bot.channel, SECRET)) as base,
    ):
        url = base + zalo_webhook.PATH
        await bot.channel.client.set_webhook(url, SECRET)
        event = fake.text_event(USER, "/trogiup")

        assert (await fake.deliver(url, event, secret=None))[0] == 403
        assert (await fake.deliver(url, event, secret="wrong-secret-456"))[0] == 403
        assert (await fake.deliver(url, event, secret=SECRET[:-1]))[0] == 403
        assert fake.sent == [] and await count_rows(bot.sessions, InboxEvent) == 0

        bodies: list[object] = [[], "x", None, {"ok": True, "result": []}, {"message": {}}]
        for body in bodies:
            assert (await fake.deliver(url, body, wrapped=False))[0] == 400  # type: ignore[arg-type]

        assert await fake.deliver(url, event, wrapped=False) == (200, "ok")
        assert "/start" in await said(fake, 1)
        # The same event again (a redelivery), then wrapped as {ok, result}: answered once.
        assert (await fake.deliver(url, event, wrapped=True))[0] == 200
        assert (await fake.deliver(url, event, wrapped=False))[0] == 200
        assert len(fake.to(USER)) == 1
        await fake.push(fake.text_event(USER, "/trogiup"))  # a new event, wrapped by default
        fake.shape = with_shape(fake, wrapped=True)
        await fake.push(fake.text_event(USER, "/huy"))
        assert len(await fake.wait_sent(USER, 3)) == 3
        # Each event's closed inbox row is its record as handled: no second record per step.
        async with bot.sessions() as session:
            closed = await session.scalars(select(InboxEvent.handled_at))
            assert len([at for at in closed if at is not None]) == 3
        assert await count_rows(bot.sessions, ProcessedUpdate) == 0


async def test_the_same_event_polled_twice_is_handled_once(tmp_path: Path, db_url: str) -> None:
    async with fake_zalo() as fake, running_zalo(fake, db_url, tmp_path / "data") as bot:
        await join(bot, tmp_path)
        event = fake.text_event(USER, "/baocao VII.3")
        await fake.push(event)
        await said(fake, 2)
        await fake.push(event)  # the platform hands the same event over again
        await fake.push_text(USER, "/huy")
        assert "huỷ" in (await said(fake, 3)).lower()
        await asyncio.sleep(0.3)  # a second answer would arrive by now
        assert len(fake.to(USER)) == 3
        for _ in range(100):  # the closing note of the last event follows its answer
            async with bot.sessions() as session:
                rows = (await session.scalars(select(InboxEvent))).all()
            if all(row.handled_at is not None for row in rows):
                break
            await asyncio.sleep(0.05)
        assert len(rows) == 3 and all(row.handled_at is not None for row in rows)


async def test_an_event_taken_by_two_steps_at_once_is_answered_once(
    tmp_path: Path, db_url: str
) -> None:
    """The closed inbox row is the event's once-only record: of two steps racing on one event
    (a redelivery to a second instance, say), the one that finds it closed is a repeat."""
    async with fake_zalo() as fake, running_zalo(fake, db_url, tmp_path / "data") as bot:
        now = datetime.now(UTC)
        event = Incoming(
            "zalo", USER, USER, "An", now, text="/trogiup", command="trogiup", update_key="ev-1"
        )
        await inbox.remember(bot.sessions, "zalo", "ev-1", {"chat_id": USER}, now)
        dispatcher = bot.channel.dispatcher
        both = await asyncio.gather(*(dispatcher.handle(event, close_inbox=True) for _ in "ab"))
        assert sorted(len(handled.rows) for handled in both) == [0, 1]
        async with bot.sessions() as session:
            assert await session.scalar(select(InboxEvent.handled_at)) is not None
        assert await count_rows(bot.sessions, ProcessedUpdate) == 0
        assert await count_rows(bot.sessions, OutboxMessage) == 1


async def test_long_texts_are_split_and_files_go_out_as_signed_links(
    tmp_path: Path, sqlite_url: str
) -> None:
    async with fake_zalo() as fake, running_zalo(fake, sqlite_url, tmp_path / "data") as bot:
        lines = [f"Dòng {n}: nhiệm vụ đang thực hiện, đã đạt {n % 100}%" for n in range(150)]
        export = OutgoingFile("Báo cáo tiến độ.xlsx", XLSX)
        reply = Reply(
            "\n".join(lines),
            (Option("a", "Đồng ý"), Option("b", "Không")),
            files=(export,),
            extras={"lang": "vi"},
        )
        event = Incoming("zalo", USER, USER, "An", datetime.now(UTC), update_key="export-1")
        delivery = bot.channel.delivery
        async with bot.sessions() as session:  # as a step writes its replies
            drafts = replies.drafts(event, [reply], tmp_path / "data")
            rows = await outbox.add_claimed(
                session, drafts, delivery.outbox.holder, event.received_at
            )
            await session.commit()
        assert await delivery.outbox.send_now(rows)

        texts = fake.texts(USER)
        assert len(texts) == 4 and all(0 < len(text) <= 2000 for text in texts)
        assert "\n".join(texts).splitlines()[:150] == lines  # cut at line ends, nothing lost
        assert texts[-1].splitlines()[-3:-1] == ["1. Đồng ý  2. Không", "Trả lời 1 hoặc 2"]
        link = texts[-1].splitlines()[-1]
        assert link.startswith(f"Tải tệp Báo cáo tiến độ.xlsx: {bot.base_url}/files/")
        url = link.split(": ", 1)[1]

        status, body, disposition = await get(url)
        assert (status, body) == (200, XLSX)
        assert quote("Báo cáo tiến độ.xlsx") in disposition
        file_id, expires, signature, name = url.rsplit("/", 4)[1:]
        forged = url.replace(signature, ("A" if signature[0] != "A" else "B") + signature[1:])
        renamed = url.replace(name, quote("khác.xlsx"))
        longer = url.replace(f"/{expires}/", f"/{int(expires) + 86400}/")
        for bad in (forged, renamed, longer, url.replace(file_id, "x" * 16)):
            assert (await get(bad))[0] == 404


async def test_a_signed_link_expires(tmp_path: Path) -> None:
    now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    clock = [now]
    links = FileLinks(
        tmp_path / "links", "http://x", b"k" * 32, timedelta(days=7), lambda: clock[0]
    )
    async with serving(links.routes()) as base:
        links.base_url = base
        url = await links.publish(OutgoingFile("bang.xlsx", XLSX), now)
        assert (await get(url))[:2] == (200, XLSX)
        clock[0] = now + timedelta(days=6, hours=23)
        assert (await get(url))[0] == 200
        clock[0] = now + timedelta(days=7)
        assert (await get(url))[0] == 404  # expired: the same answer as a forged link
        assert links.purge() == 1 and not any((tmp_path / "links").iterdir())


async def test_a_flood_limit_holds_one_zalo_chat_and_a_block_marks_unreachable(
    tmp_path: Path, sqlite_url: str
) -> None:
    async with fake_zalo() as fake, running_zalo(fake, sqlite_url, tmp_path / "data") as bot:
        await join(bot, tmp_path)
        fake.fail_next("sendMessage", 429, "Too Many Requests", chat_id=USER, retry_after=2)
        began = asyncio.get_running_loop().time()
        await fake.push_text(USER, "/trogiup")
        await fake.push_text(OTHER, "/trogiup")
        assert "/start" in await said(fake, 1, OTHER)
        assert len(fake.to(USER)) == 1  # held, while the other chat was answered
        assert "/baocao" in await said(fake, 2)
        assert asyncio.get_running_loop().time() - began >= 2

        fake.blocked.add(USER)
        await fake.push_text(USER, "/trogiup")
        for _ in range(100):
            async with bot.sessions() as session:
                reachable = await session.scalar(
                    select(ChannelIdentity.reachable).where(ChannelIdentity.external_id == USER)
                )
            if reachable is False:
                break
            await asyncio.sleep(0.05)
        assert reachable is False


async def test_transient_faults_are_retried(tmp_path: Path, sqlite_url: str) -> None:
    async with fake_zalo() as fake, running_zalo(fake, sqlite_url, tmp_path / "data"):
        fake.fail_next_raw("getUpdates", 502)
        fake.fail_next_raw("sendMessage", 503)
        fake.fail_next_raw("sendMessage", 200, b"not json", "text/plain")
        await fake.push_text(USER, "/trogiup")
        assert "/start" in await said(fake, 1)
        assert len(fake.to(USER)) == 1


async def test_a_message_refused_for_good_does_not_stall_its_chat(
    tmp_path: Path, sqlite_url: str
) -> None:
    async with fake_zalo() as fake, running_zalo(fake, sqlite_url, tmp_path / "data") as bot:
        fake.fail_next("sendMessage", 400, "Bad Request: text is invalid", chat_id=USER)
        await fake.push_text(USER, "/trogiup")  # its answer is refused, and dropped
        await fake.push_text(USER, "/huy")
        assert "Không có thao tác nào đang dở" in await said(fake, 1)
        assert len(fake.to(USER)) == 1
        for _ in range(100):  # the closing note follows the message itself
            async with bot.sessions() as session:
                rows = (await session.scalars(select(InboxEvent))).all()
            if all(row.handled_at is not None for row in rows):
                break
            await asyncio.sleep(0.05)
        assert len(rows) == 2 and all(row.handled_at is not None for row in rows)
