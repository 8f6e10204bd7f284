"""The Zalo channel's building blocks, each against real HTTP on 127.0.0.1.

The client talks to the fake Zalo Bot Platform (tests/fake_zalo.py) as it would to the real
one; the event parser reads every shape the public record shows and refuses hostile ones
without raising; the renderer and the shared splitter keep every message within 2,000
characters without cutting a word.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import random
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from aiohttp import web

from bot.channels.text_split import split_text, units
from bot.channels.zalo_api import (
    DEFAULT_RETRY_AFTER,
    ZaloClient,
    ZaloForbidden,
    ZaloPermanent,
    ZaloRetryAfter,
    ZaloTransient,
    ZaloUnauthorized,
    mask,
)
from bot.channels.zalo_events import ZaloEvent, parse_event
from bot.channels.zalo_render import FileLink, render
from handlers.context import Ctx
from handlers.events import Option, Reply
from handlers.steps import NUMBERED, OFFERED, resolve
from storage.models import Conversation
from tests.fake_zalo import SECRET_HEADER, TOKEN, FakeZalo, Shape

USER = "e4ea2cd5189df1c3a88c"
OTHER = "7a1f00b2c3d4e5f60718"
GROUP = "g9b8c7d6e5f4a3b2c1d0"
SECRET = TOKEN.split(":", 1)[1]


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    """A fake Zalo Bot Platform on 127.0.0.1 for this test."""
    server = FakeZalo()
    await server.start()
    server.max_poll_seconds = 0.5
    yield server
    await server.stop()


@pytest.fixture
async def client(zalo: FakeZalo) -> AsyncIterator[ZaloClient]:
    async with ZaloClient(TOKEN, zalo.url, timeout=3) as api:
        yield api


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    """`app` on a free port of 127.0.0.1; the runner (to clean up) and the base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    return runner, f"http://127.0.0.1:{sock.getsockname()[1]}"


# ---- the client against the fake platform ----------------------------------------------------


async def test_get_me_tells_whether_the_bot_can_join_groups(zalo: FakeZalo) -> None:
    async with ZaloClient(TOKEN, zalo.url) as api:
        bot = await api.get_me()
        assert (bot.id, bot.account_type, bot.can_join_groups) == (
            "1234567890123456789",
            "BASIC",
            True,
        )
        zalo.can_join_groups = False
        assert (await api.get_me()).can_join_groups is False


async def test_a_text_is_sent_and_the_platform_gives_its_id_and_time(
    zalo: FakeZalo, client: ZaloClient
) -> None:
    sent = await client.send_message(USER, "Chào anh An — báo cáo tiến độ tuần này")
    assert zalo.texts(USER) == ["Chào anh An — báo cáo tiến độ tuần này"]
    assert sent.message_id == zalo.to(USER)[0].message_id
    assert sent.date is not None and sent.date.tzinfo is UTC
    assert abs((datetime.now(UTC) - sent.date).total_seconds()) < 60


async def test_texts_beyond_2000_characters_or_empty_are_refused_for_good(
    zalo: FakeZalo, client: ZaloClient
) -> None:
    await client.send_message(USER, "ạ" * 2000)
    with pytest.raises(ZaloPermanent) as too_long:
        await client.send_message(USER, "ạ" * 2001)
    with pytest.raises(ZaloPermanent):
        await client.send_message(USER, "")
    assert too_long.value.code == 400 and not isinstance(too_long.value, ZaloForbidden)
    assert [len(t) for t in zalo.texts(USER)] == [2000]


async def test_a_poll_takes_one_event_which_is_then_gone(
    zalo: FakeZalo, client: ZaloClient
) -> None:
    first = await zalo.push_text(USER, "/start ABC123")
    await zalo.push_text(OTHER, "Xin chào")
    event = await client.get_updates(timeout=1)
    assert event is not None and event["message"]["message_id"] == first
    assert event["event_name"] == "message.text.received"
    assert len(zalo.events) == 1 and zalo.fetched == [event]
    second = await client.get_updates(timeout=1)
    assert second is not None and second["message"]["text"] == "Xin chào"
    assert zalo.events == []


@pytest.mark.parametrize("http_status", [200, 408])
async def test_an_empty_poll_answers_408_after_its_timeout_and_is_no_error(
    zalo: FakeZalo, client: ZaloClient, http_status: int
) -> None:
    zalo.empty_poll_status = http_status
    started = asyncio.get_running_loop().time()
    assert await client.get_updates(timeout=30) is None  # the fake holds 0.5 s at most
    assert asyncio.get_running_loop().time() - started >= 0.4


async def test_a_waiting_poll_returns_as_soon_as_a_user_writes(
    zalo: FakeZalo, client: ZaloClient
) -> None:
    zalo.max_poll_seconds = 5
    poll = asyncio.create_task(client.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    started = asyncio.get_running_loop().time()
    await zalo.push_text(USER, "Báo cáo")
    event = await poll
    assert event is not None and event["message"]["text"] == "Báo cáo"
    assert asyncio.get_running_loop().time() - started < 1


async def test_429_is_a_wait_with_the_delay_asked_or_a_default(
    zalo: FakeZalo, client: ZaloClient
) -> None:
    zalo.fail_next("sendMessage", 429, "Too Many Requests", retry_after=3)
    with pytest.raises(ZaloRetryAfter) as asked:
        await client.send_message(USER, "một")
    zalo.fail_next("sendMessage", 429, "Too Many Requests")
    with pytest.raises(ZaloRetryAfter) as unsaid:
        await client.send_message(USER, "hai")
    assert (asked.value.retry_after, unsaid.value.retry_after) == (3, DEFAULT_RETRY_AFTER)
    await client.send_message(USER, "ba")
    assert zalo.texts(USER) == ["ba"]


@pytest.mark.parametrize(
    ("code", "description"),
    [(400, "Daily quota exceeded"), (-216, "Rate limit exceeded for this app"), (403, "Quota")],
)
async def test_a_description_saying_the_quota_is_exceeded_is_a_wait(
    zalo: FakeZalo, client: ZaloClient, code: int, description: str
) -> None:
    zalo.fail_next("sendMessage", code, description)
    with pytest.raises(ZaloRetryAfter) as wait:
        await client.send_message(USER, "một")
    assert wait.value.retry_after == DEFAULT_RETRY_AFTER and wait.value.code == code


async def test_a_failure_for_one_chat_leaves_the_others_served(
    zalo: FakeZalo, client: ZaloClient
) -> None:
    zalo.fail_next("sendMessage", 429, "Too Many Requests", chat_id=USER, retry_after=1)
    await client.send_message(OTHER, "cho anh Bình")
    with pytest.raises(ZaloRetryAfter):
        await client.send_message(USER, "cho anh An")
    await client.send_message(USER, "cho anh An")
    assert (zalo.texts(OTHER), zalo.texts(USER)) == (["cho anh Bình"], ["cho anh An"])


async def test_5xx_and_bodies_that_are_not_json_are_transient(
    zalo: FakeZalo, client: ZaloClient
) -> None:
    zalo.fail_next_raw("sendMessage", 502)
    zalo.fail_next_raw("sendMessage", 200, b"<html>maintenance</html>")
    zalo.fail_next("sendMessage", 500, "Internal error")
    zalo.fail_next_raw("getUpdates", 200, b'["ok"]', "application/json")
    for _ in range(3):
        with pytest.raises(ZaloTransient):
            await client.send_message(USER, "thử")
    with pytest.raises(ZaloTransient):
        await client.get_updates(timeout=1)
    await client.send_message(USER, "thử")
    assert zalo.texts(USER) == ["thử"]


async def test_a_blocked_chat_is_forbidden_and_a_wrong_token_unauthorized(
    zalo: FakeZalo, client: ZaloClient
) -> None:
    zalo.blocked.add(USER)
    with pytest.raises(ZaloForbidden):
        await client.send_message(USER, "nhắc việc")
    async with ZaloClient("1234567890123456789:wrong-secret", zalo.url) as wrong:
        with pytest.raises(ZaloUnauthorized) as refused:
            await wrong.get_me()
    assert "wrong-secret" not in str(refused.value)


async def test_network_faults_and_timeouts_are_transient_and_never_show_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    closed_port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    async with ZaloClient(TOKEN, f"http://127.0.0.1:{closed_port}") as api:
        with pytest.raises(ZaloTransient) as refused:
            await api.send_message(USER, "a")

    async def silent(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({"ok": True, "result": {}})

    app = web.Application()
    app.router.add_post("/{tail:.*}", silent)
    runner, url = await serve(app)
    try:
        async with ZaloClient(TOKEN, url, timeout=0.2) as api:
            with pytest.raises(ZaloTransient) as slow:
                await api.send_message(USER, "a")
    finally:
        await runner.cleanup()
    for error in (refused.value, slow.value):
        assert SECRET not in str(error) and error.__cause__ is None
        assert error.__suppress_context__
    ours = [r for r in caplog.records if r.name != "aiohttp.access"]  # the server's own log
    assert ours and all(SECRET not in record.getMessage() for record in ours)
    assert SECRET not in repr(api) and mask(TOKEN) in repr(api)


async def test_a_webhook_is_set_checked_and_removed(zalo: FakeZalo, client: ZaloClient) -> None:
    with pytest.raises(ZaloPermanent):
        await client.set_webhook("https://tiendo.example/zalo", "short")
    with pytest.raises(ZaloPermanent):
        await client.set_webhook("https://tiendo.example/zalo", "x" * 257)
    await client.set_webhook("https://tiendo.example/zalo", "s" * 8)
    assert (await client.get_webhook_info())["url"] == "https://tiendo.example/zalo"
    with pytest.raises(ZaloPermanent):
        await client.get_updates(timeout=1)  # never both ways at once
    assert await client.delete_webhook() is True
    assert await client.delete_webhook() is False  # none set: tolerated
    assert (await client.get_webhook_info())["url"] == ""
    assert await client.get_updates(timeout=1) is None


async def test_a_photo_goes_out_as_a_url_the_platform_fetches(
    zalo: FakeZalo, client: ZaloClient
) -> None:
    chart = b"\x89PNG\r\n\x1a\n a chart of the week"
    hits: list[str] = []

    async def signed(request: web.Request) -> web.Response:
        hits.append(request.path)
        if request.match_info["name"] != "chart.png":
            return web.Response(status=404)
        return web.Response(body=chart, content_type="image/png")

    app = web.Application()
    app.router.add_get("/files/{name}", signed)
    runner, url = await serve(app)
    try:
        sent = await client.send_photo(USER, f"{url}/files/chart.png", "Tiến độ tuần 12")
        with pytest.raises(ZaloPermanent):
            await client.send_photo(USER, f"{url}/files/expired.png")
    finally:
        await runner.cleanup()
    [photo] = zalo.to(USER)
    assert photo.message_id == sent.message_id and photo.text == "Tiến độ tuần 12"
    assert photo.fetched is not None
    assert (photo.fetched.status, photo.fetched.content_type, photo.fetched.body) == (
        200,
        "image/png",
        chart,
    )
    assert hits == ["/files/chart.png", "/files/expired.png"]


async def test_chat_actions_are_sent(zalo: FakeZalo, client: ZaloClient) -> None:
    await client.send_chat_action(USER)
    assert zalo.actions == [(USER, "typing")]


async def test_a_file_a_user_sent_is_downloaded_and_cut_after_the_limit(
    zalo: FakeZalo, client: ZaloClient
) -> None:
    url = zalo.host(b"%PDF-1.4 minh chung" * 1000, "application/pdf", "pdf")
    assert await client.download(url, 10**6) == b"%PDF-1.4 minh chung" * 1000
    assert len(await client.download(url, 100)) == 101  # more than the limit: too big
    zalo.expire(url)
    with pytest.raises(ZaloPermanent):
        await client.download(url, 10**6)


# ---- webhook deliveries, as the platform makes them -------------------------------------------


async def test_deliveries_carry_the_secret_header_in_both_body_shapes(zalo: FakeZalo) -> None:
    received: list[ZaloEvent | None] = []

    async def webhook(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), b"webhook-secret-123"):
            return web.Response(status=403)
        received.append(parse_event(await request.json()))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/zalo", webhook)
    runner, url = await serve(app)
    try:
        async with ZaloClient(TOKEN, zalo.url) as api:
            await api.set_webhook(f"{url}/zalo", "webhook-secret-123")
        await zalo.push_text(USER, "bare")
        zalo.shape = Shape(wrapped=True)
        await zalo.push_text(USER, "wrapped")
        event = zalo.text_event(USER, "forged")
        assert (await zalo.deliver(f"{url}/zalo", event, secret="wrong-secret"))[0] == 403
        assert (await zalo.deliver(f"{url}/zalo", event, secret=None))[0] == 403
        assert (await zalo.deliver(f"{url}/zalo", event, wrapped=False))[0] == 200
    finally:
        await runner.cleanup()
    assert [status for status, _ in zalo.deliveries] == [200, 200]
    assert [e.text if e else None for e in received] == ["bare", "wrapped", "forged"]
    assert zalo.events == []  # while the webhook is set, nothing waits for a poll


# ---- parsing one event ---------------------------------------------------------------------

SAMPLE: dict[str, Any] = {
    "event_name": "message.text.received",
    "message": {
        "message_id": "16f6366b3f02645a3d15",
        "date": 1766619597466,
        "chat": {"id": "e4ea2cd5189df1c3a88c", "chat_type": "PRIVATE"},
        "from": {"id": "e4ea2cd5189df1c3a88c", "display_name": "Nguyễn Văn A", "is_bot": False},
        "text": "Xin chào",
    },
}
SAMPLE_DATE = datetime(2025, 12, 24, 23, 39, 57, 466000, tzinfo=UTC)


def sample(event_name: Any = "message.text.received", **changes: Any) -> dict[str, Any]:
    """The platform's own sample with `changes` to its message (None removes a field)."""
    message = {**SAMPLE["message"], **changes}
    message = {key: value for key, value in message.items() if value is not None}
    return (
        {"message": message}
        if event_name is None
        else {"event_name": event_name, "message": message}
    )


def test_the_platforms_own_sample_is_read_whole() -> None:
    event = parse_event(SAMPLE)
    assert event == ZaloEvent(
        kind="text",
        message_id="16f6366b3f02645a3d15",
        date=SAMPLE_DATE,
        chat_id="e4ea2cd5189df1c3a88c",
        chat_type="private",
        sender_id="e4ea2cd5189df1c3a88c",
        sender_name="Nguyễn Văn A",
        text="Xin chào",
        event_name="message.text.received",
    )


IMAGE = "https://f1.zdn.vn/photo/abc.jpg"
VALID: list[tuple[str, object, dict[str, Any]]] = [
    ("wrapped", {"ok": True, "result": SAMPLE}, {"kind": "text", "text": "Xin chào"}),
    ("without event_name", sample(None), {"kind": "text", "event_name": None}),
    (
        "wrapped, only the message",
        {"ok": True, "result": sample(None)},
        {"kind": "text", "text": "Xin chào"},
    ),
    (
        "numeric ids",
        sample(
            chat={"id": 5550001, "chat_type": "PRIVATE"},
            **{"from": {"id": 5550001, "first_name": "An"}},
            message_id=987654321,
        ),
        {"chat_id": "5550001", "sender_id": "5550001", "message_id": "987654321"},
    ),
    (
        "first and last name",
        sample(**{"from": {"id": USER, "first_name": "Văn", "last_name": "An"}}),
        {"sender_name": "Văn An"},
    ),
    (
        "group",
        sample(chat={"id": GROUP, "chat_type": "GROUP"}),
        {"chat_type": "group", "chat_id": GROUP, "sender_id": USER},
    ),
    (
        "unknown chat type is read as a group",
        sample(chat={"id": GROUP, "chat_type": "COMMUNITY"}),
        {"chat_type": "group"},
    ),
    (
        "missing chat type, sender is the chat",
        sample(chat={"id": USER}, **{"from": {"id": USER}}),
        {"chat_type": "private", "sender_name": ""},
    ),
    (
        "private chat without a sender",
        sample(**{"from": None}),
        {"sender_id": USER, "chat_type": "private"},
    ),
    (
        "image by name",
        sample("message.image.received", text=None, photo_url=IMAGE, caption="Ảnh hiện trường"),
        {"kind": "image", "file_url": IMAGE, "caption": "Ảnh hiện trường", "text": None},
    ),
    (
        "image without a name, photo as a list of sizes",
        sample(None, text=None, photo=[{"url": "https://x/s.jpg"}, {"url": IMAGE}]),
        {"kind": "image", "file_url": IMAGE},
    ),
    (
        "document with its facts",
        sample(
            "message.document.received",
            text=None,
            document={
                "url": "https://f1.zdn.vn/doc/1",
                "file_name": "bien\x00ban\r\n.pdf",
                "mime_type": "Application/PDF",
                "file_size": "20480",
            },
        ),
        {
            "kind": "document",
            "file_url": "https://f1.zdn.vn/doc/1",
            "file_name": "bienban .pdf",
            "mime_type": "application/pdf",
            "file_size": 20480,
        },
    ),
    (
        "document url without a name",
        sample(None, text=None, document_url="https://f1.zdn.vn/doc/2", file_name="kh.xlsx"),
        {"kind": "document", "file_name": "kh.xlsx", "mime_type": None},
    ),
    ("sticker", sample("message.sticker.received", text=None, sticker="abc"), {"kind": "sticker"}),
    ("sticker without a name", sample(None, text=None, sticker={"id": "1"}), {"kind": "sticker"}),
    (
        "voice",
        sample("message.voice.received", text=None, voice={"url": "https://v/1.aac"}),
        {"kind": "voice", "file_url": "https://v/1.aac"},
    ),
    ("unsupported", sample("message.unsupported.received", text=None), {"kind": "unsupported"}),
    ("an unknown event name", sample("message.location.received"), {"kind": "unsupported"}),
    ("a text event without text", sample(text=None), {"kind": "unsupported"}),
    ("a text that is a number", sample(text=5), {"kind": "unsupported", "text": None}),
    ("a blank text", sample(text=" \x00 "), {"kind": "unsupported"}),
    ("a name in capitals", sample("Message.Text.Received"), {"kind": "text"}),
    (
        "control characters dropped, new lines and tabs kept",
        sample(
            text="Kết\x00 quả\x1b[31m\r\nđạt\t80%\u202e",
            **{"from": {"id": USER, "display_name": "Trần\x07\nThị\x00 B"}},
        ),
        {"text": "Kết quả[31m\nđạt\t80%\u202e", "sender_name": "Trần Thị B"},
    ),
    ("a date in seconds", sample(date=1766619597), {"date": SAMPLE_DATE.replace(microsecond=0)}),
    ("a date as digits", sample(date="1766619597466"), {"date": SAMPLE_DATE}),
    (
        "a photo url with a bad scheme is no photo",
        sample(None, text=None, photo_url="file:///etc/passwd"),
        {"kind": "unsupported", "file_url": None},
    ),
    ("a huge text is cut", sample(text="a" * 100_000), {"text": "a" * 8000}),
]


@pytest.mark.parametrize(("payload", "expected"), [v[1:] for v in VALID], ids=[v[0] for v in VALID])
def test_every_listed_shape_is_read(payload: object, expected: dict[str, Any]) -> None:
    event = parse_event(payload)
    assert event is not None
    assert {key: getattr(event, key) for key in expected} == expected
    assert event.date.tzinfo is not None


def test_a_missing_date_is_the_time_of_arrival() -> None:
    now = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    event = parse_event(sample(date=None), received_at=now)
    assert event is not None and event.date == now
    assert parse_event(sample(date=None)) is None


HOSTILE: list[tuple[str, object]] = [
    ("None", None),
    ("a list", [SAMPLE]),
    ("a string", '{"event_name": "message.text.received"}'),
    ("a number", 408),
    ("empty", {}),
    ("the empty poll", {"ok": False, "error_code": 408, "description": "timeout"}),
    ("ok false with a result", {"ok": False, "result": SAMPLE}),
    ("a list result", {"ok": True, "result": [SAMPLE]}),
    ("message null", {"event_name": "message.text.received", "message": None}),
    ("message a list", {"message": [1, 2]}),
    ("no chat", sample(chat=None)),
    ("chat a string", sample(chat="e4ea2cd5189df1c3a88c")),
    ("chat id null", sample(chat={"id": None, "chat_type": "PRIVATE"})),
    ("chat id a list", sample(chat={"id": ["a"], "chat_type": "PRIVATE"})),
    ("chat id an object", sample(chat={"id": {"$gt": ""}, "chat_type": "PRIVATE"})),
    ("chat id with spaces", sample(chat={"id": "a b", "chat_type": "PRIVATE"})),
    ("chat id too long", sample(chat={"id": "a" * 101, "chat_type": "PRIVATE"})),
    ("chat id negative", sample(chat={"id": -5, "chat_type": "PRIVATE"})),
    ("chat id a float", sample(chat={"id": 1.5, "chat_type": "PRIVATE"})),
    ("chat id true", sample(chat={"id": True, "chat_type": "PRIVATE"})),
    (
        "a group without a sender",
        sample(chat={"id": GROUP, "chat_type": "GROUP"}, **{"from": None}),
    ),
    ("no message id", sample(message_id=None)),
    ("a huge message id", sample(message_id=10**400)),
    ("a message id with a NUL", sample(message_id="abc\x00def")),
    ("a negative date", sample(date=-1766619597466)),
    ("a date as words", sample(date="yesterday")),
    ("a date too far", sample(date=10**30)),
    ("a date true", sample(date=True)),
    ("a date infinite", sample(date=float("inf"))),
    ("a date not a number", sample(date=float("nan"))),
    ("a date a list", sample(date=[1766619597466])),
    ("a date in 1990", sample(date=631152000000)),
    ("from a bot", sample(**{"from": {"id": USER, "is_bot": True}})),
]


@pytest.mark.parametrize("payload", [h[1] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_what_is_not_a_usable_event_is_none(payload: object) -> None:
    assert parse_event(payload) is None


def test_mangled_events_never_raise() -> None:
    """Thousands of payloads with fields swapped for hostile values: None or a clean event."""
    nasty: list[object] = [
        None, True, -1, 0, 10**400, 1e308, float("nan"), "", "\x00" * 50, "a" * 10_000,
        [], [None], {}, {"id": {}}, {"url": ["x"]}, "https://x/\x00", "💥" * 3000,
    ]  # fmt: skip
    keys = ["message_id", "date", "chat", "from", "text", "photo_url", "photo", "document",
            "caption", "sticker", "voice", "chat_type", "id", "display_name",
            "file_name"]  # fmt: skip
    rng = random.Random(10)
    for _ in range(3000):
        payload: dict[str, Any] = {
            "event_name": rng.choice(["message.text.received", None, 5, "message..received"]),
            "message": {
                **SAMPLE["message"],
                "chat": dict(SAMPLE["message"]["chat"]),
                "from": dict(SAMPLE["message"]["from"]),
            },
        }
        for _ in range(rng.randint(1, 4)):
            message = payload["message"]
            parts = [message, message.get("chat"), message.get("from")]
            target = rng.choice([part for part in parts if isinstance(part, dict)])
            target[rng.choice(keys)] = rng.choice(nasty)
        event = parse_event(rng.choice([payload, {"ok": True, "result": payload}]))
        if event is not None:
            for value in (event.text, event.caption, event.sender_name, event.file_name):
                assert value is None or ("\x00" not in value and len(value) <= 8000)
            assert event.chat_id and event.sender_id and event.message_id
            assert 2000 <= event.date.year < 2100


@pytest.mark.parametrize(
    "shape",
    [
        Shape(),
        Shape(event_name=False),
        Shape(numeric_ids=True, name_field="first_name"),
        Shape(event_name=False, numeric_ids=True, wrapped=True),
    ],
    ids=["documented", "no event_name", "numbers, first_name", "all variants"],
)
async def test_what_the_fake_sends_in_each_shape_is_read_the_same(
    zalo: FakeZalo, client: ZaloClient, shape: Shape
) -> None:
    zalo.shape = shape
    await zalo.push_text("5550001", "/start ABC123", name="Lê Văn C")
    await zalo.push_image("5550001", caption="Ảnh")
    await zalo.push_document("5550001", "bao_cao.pdf", b"%PDF-1.4", group=GROUP)
    await zalo.push_sticker("5550001")
    await zalo.push_unsupported("5550001")
    events = [parse_event(await client.get_updates(timeout=1)) for _ in range(5)]
    assert [e.kind if e else None for e in events] == [
        "text",
        "image",
        "document",
        "sticker",
        "unsupported",
    ]
    text, image, document = events[0], events[1], events[2]
    assert text is not None and image is not None and document is not None
    assert (text.text, text.sender_id, text.sender_name) == ("/start ABC123", "5550001", "Lê Văn C")
    assert image.caption == "Ảnh" and image.file_url is not None
    assert await client.download(image.file_url, 1000) == b"\xff\xd8\xff\xe0 a JPEG"
    assert (document.chat_type, document.chat_id, document.file_name) == (
        "group",
        GROUP,
        "bao_cao.pdf",
    )
    assert (document.mime_type, document.file_size) == ("application/pdf", 8)


# ---- answering a numbered choice -------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "chosen"),
    [("1", "c:send"), ("1.", "c:send"), ("số 2", "c:edit"), ("Số 2", "c:edit"), (" 3 ", "c:cancel"),
     ("2)", "c:edit"), ("Huỷ", "c:cancel"), ("gui", "c:send"), ("4", None), ("số", None)],
)  # fmt: skip
def test_the_shared_resolver_reads_the_answers_zalo_users_give(
    typed: str, chosen: str | None
) -> None:
    """handlers.steps.resolve already reads numbered answers: Zalo needs no parser of its own."""
    offered = [["c:send", "Gửi"], ["c:edit", "Sửa"], ["c:cancel", "Huỷ"]]
    state = Conversation(data={OFFERED: offered, NUMBERED: True})
    ctx = Ctx(cast(Any, None), cast(Any, None), cast(Any, None), SAMPLE_DATE, None, state)
    assert resolve(ctx, None, typed) == chosen


# ---- rendering replies -----------------------------------------------------------------------

CONFIRM = (Option("c:send", "Gửi"), Option("c:edit", "Sửa"), Option("c:cancel", "Huỷ"))


def test_a_confirmation_is_one_short_line_with_its_hint() -> None:
    assert render(Reply("Gửi báo cáo này?", CONFIRM, columns=3), "vi") == [
        "Gửi báo cáo này?\n1. Gửi  2. Sửa  3. Huỷ\nTrả lời 1, 2 hoặc 3"
    ]
    assert render(Reply("Send it?", CONFIRM[:2]), "en") == [
        "Send it?\n1. Gửi  2. Sửa\nReply 1 or 2"
    ]
    assert render(Reply("Chọn", CONFIRM[:1]), "vi") == ["Chọn\n1. Gửi\nTrả lời 1"]


def test_long_options_are_numbered_lines_and_many_get_a_range() -> None:
    tasks = tuple(
        Option(f"t:{i}", f"VII.{i} Xây dựng cơ sở dữ liệu chuyên ngành số {i}") for i in range(1, 8)
    )
    [text] = render(Reply("Chọn nhiệm vụ:", tasks), "vi")
    lines = text.split("\n")
    assert lines[1] == "1. VII.1 Xây dựng cơ sở dữ liệu chuyên ngành số 1"
    assert lines[7].startswith("7. VII.7") and lines[8] == "Trả lời một số từ 1 đến 7"
    [four] = render(Reply("Chọn:", tasks[:4]), "en")
    assert four.endswith("\nReply 1, 2, 3 or 4")


def test_options_answered_by_a_number_itself_are_not_numbered() -> None:
    percents = tuple(Option(f"p:{v}", f"{v}%") for v in (0, 25, 50, 75, 100))
    reply = Reply("Tỷ lệ hoàn thành?", percents, extras={"numbered": "0"})
    assert render(reply, "vi") == ["Tỷ lệ hoàn thành?\n0% · 25% · 50% · 75% · 100%"]


def test_files_are_given_as_links_one_per_file() -> None:
    from handlers.events import OutgoingFile

    reply = Reply("Bảng tổng hợp", files=(OutgoingFile("tong_hop.xlsx", b"PK"),))
    link = FileLink("tong_hop.xlsx", "https://tiendo.example/f/abc")
    assert render(reply, "vi", [link]) == [
        "Bảng tổng hợp\nTải tệp tong_hop.xlsx: https://tiendo.example/f/abc"
    ]
    with pytest.raises(ValueError):
        render(reply, "vi")


async def test_a_long_summary_is_sent_in_pieces_the_platform_accepts(
    zalo: FakeZalo, client: ZaloClient
) -> None:
    lines = [
        f"{i}. Nhiệm vụ số {i}: đã hoàn thành {i % 100}% khối lượng công việc" for i in range(150)
    ]
    pieces = render(Reply("\n".join(lines), CONFIRM, columns=3), "vi")
    assert len(pieces) > 2
    for piece in pieces:
        await client.send_message(USER, piece)
    sent = zalo.texts(USER)
    assert sent == pieces and all(1 <= len(p) <= 2000 for p in sent)
    assert "\n".join(sent).split("\n") == [*lines, "1. Gửi  2. Sửa  3. Huỷ", "Trả lời 1, 2 hoặc 3"]


# ---- splitting ------------------------------------------------------------------------------


def test_lines_stay_whole_and_in_order() -> None:
    lines = [f"Dòng {i}: " + "chữ " * (i % 40) for i in range(300)]
    text = "\n".join(line.rstrip() for line in lines)
    pieces = split_text(text, 200)
    assert all(units(p) <= 200 for p in pieces)
    assert "\n".join(pieces).split("\n") == text.split("\n")


def test_a_line_too_long_is_cut_between_words_only() -> None:
    words = [f"từ{i}" for i in range(2000)]
    pieces = split_text(" ".join(words), 2000)
    assert all(units(p) <= 2000 for p in pieces)
    assert [w for p in pieces for w in p.split(" ")] == words  # no word cut, none lost
    assert all(p == p.strip() for p in pieces)


def test_only_a_word_longer_than_the_limit_is_cut_inside() -> None:
    assert split_text("a " + "b" * 25 + " c", 10) == ["a", "bbbbbbbbbb", "bbbbbbbbbb", "bbbbb c"]


def test_a_space_right_at_the_limit_is_a_clean_cut() -> None:
    assert split_text("abcde fghij", 5) == ["abcde", "fghij"]


def test_emoji_count_twice_as_the_platforms_count_them() -> None:
    pieces = split_text("😀" * 10, 8)
    assert pieces == ["😀" * 4, "😀" * 4, "😀" * 2]
    assert units("😀a") == 3


def test_blank_texts_give_no_pieces_and_blank_lines_at_a_cut_go() -> None:
    assert split_text("", 10) == [] and split_text(" \n \n", 10) == []
    assert split_text("abc\n\ndef", 100) == ["abc\n\ndef"]
    assert split_text("aaaa\n\n\nbbbb", 5) == ["aaaa", "bbbb"]
    with pytest.raises(ValueError):
        split_text("abc", 1)
