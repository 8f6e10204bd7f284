"""A small Zalo Bot Platform server on 127.0.0.1 that speaks the shapes of zalo-api.md.

Tests push what users do (texts, photos, documents, stickers) and read what the bot sent.
As on the platform, getUpdates answers ONE event per call, with no offset: an event fetched
is gone; an empty poll answers `ok: false, error_code: 408` after its timeout. While a webhook
is set, getUpdates is refused and each pushed event is POSTed to the webhook with the
`X-Bot-Api-Secret-Token` header. sendMessage keeps to 1-2,000 characters, and sendPhoto
fetches its URL as the platform does. Failures (429 or a quota description, 403, HTTP 5xx, a
body that is not JSON) can be injected for the next call, globally or for one chat. The same
`Gate` as the fake Bot API's can hold the bot to limits (in all, per chat, per group for the
chats in `groups`) and flood one chat, answering 429 with retry_after (body and header).
Every payload can be sent in each shape the record shows (`Shape`): with or without
`event_name`, ids as strings or numbers, `display_name` or `first_name`, wrapped or bare.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
from aiohttp import web

from tests.fake_telegram import Gate

TOKEN = "1234567890123456789:zalo-TEST-secret-for-the-fake-server"
BOT_ID = "1234567890123456789"
SECRET_HEADER = "X-Bot-Api-Secret-Token"
TEXT_LIMIT = 2_000
DEFAULT_NAME = "Nguyễn Văn An"
_REGISTERED = object()  # deliver(): use the secret given to setWebhook


@dataclass(frozen=True)
class Shape:
    """How the fake writes events; the defaults are the shape of the platform's docs."""

    event_name: bool = True  # False: `result` holds only `message`
    numeric_ids: bool = False  # True: digit ids are sent as JSON numbers
    name_field: str = "display_name"  # or "first_name"
    wrapped: bool = False  # webhook bodies as {ok, result} instead of the bare event


@dataclass(frozen=True)
class Fetched:
    """What sendPhoto got when it fetched its URL (status 0: the URL could not be reached)."""

    url: str
    status: int
    content_type: str
    body: bytes


@dataclass
class Sent:
    method: str
    chat_id: str
    message_id: str
    text: str = ""  # the text, or a photo's caption
    photo: str | None = None
    fetched: Fetched | None = None
    sticker: str | None = None


@dataclass
class _Failure:
    method: str
    chat_id: str | None
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


class FakeZalo:
    def __init__(self, token: str = TOKEN, can_join_groups: bool = True) -> None:
        self.token = token
        self.can_join_groups = can_join_groups
        self.shape = Shape()
        self.events: list[dict[str, Any]] = []  # waiting to be fetched by getUpdates
        self.fetched: list[dict[str, Any]] = []  # handed out by getUpdates, gone from here
        self.sent: list[Sent] = []
        self.actions: list[tuple[str, str]] = []  # sendChatAction: chat, action
        self.calls: list[str] = []
        self.deliveries: list[tuple[int, str]] = []  # webhook answers: status, body
        self.webhook: dict[str, Any] = {"url": "", "secret_token": "", "updated_at": 0}
        self.blocked: set[str] = set()  # chats whose users blocked the bot: 403 every time
        self.gate = Gate()  # the platform's limits (none unless set) and floods
        self.groups: set[str] = set()  # chat ids the gate counts as groups
        self.max_poll_seconds = 2.0  # a long poll never holds longer, whatever it asked
        self.empty_poll_status = 200  # the HTTP status of the 408 answer (clients disagree)
        self.hold_sends = asyncio.Event()  # cleared: sendMessage waits, as on a slow link
        self.hold_sends.set()
        self.send_started = asyncio.Event()
        self._failures: list[_Failure] = []
        self._by_chat: dict[str, list[Sent]] = {}
        self._waiters: dict[str, list[tuple[int, asyncio.Future[None]]]] = {}
        self._media: dict[str, tuple[bytes, str]] = {}
        self._ids = itertools.count(1)
        self._new_event = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/media/{name}", self._serve_media)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self.url

    async def stop(self) -> None:
        if self._client:
            await self._client.close()
        if self._runner:
            await self._runner.cleanup()

    # ---- events, as users make them -------------------------------------------------------

    def event(
        self,
        user_id: str,
        name: str = DEFAULT_NAME,
        group: str | None = None,
        kind: str = "text",
        shape: Shape | None = None,
        **content: Any,
    ) -> dict[str, Any]:
        """A `message.<kind>.received` event from `user_id`, in private or in `group`."""
        shape = shape or self.shape
        chat_id = group if group is not None else user_id
        sender: dict[str, Any] = {"id": self._id(user_id, shape), "is_bot": False}
        sender[shape.name_field] = name
        message = {
            "message_id": f"{next(self._ids):020x}",
            "date": int(time.time() * 1000),
            "chat": {
                "id": self._id(chat_id, shape),
                "chat_type": "PRIVATE" if group is None else "GROUP",
            },
            "from": sender,
            **content,
        }
        if not shape.event_name:
            return {"message": message}
        return {"event_name": f"message.{kind}.received", "message": message}

    def text_event(self, user_id: str, text: str, **kw: Any) -> dict[str, Any]:
        return self.event(user_id, kind="text", text=text, **kw)

    def image_event(
        self, user_id: str, photo_url: str, caption: str | None = None, **kw: Any
    ) -> dict[str, Any]:
        extra: dict[str, Any] = {"caption": caption} if caption is not None else {}
        return self.event(user_id, kind="image", photo_url=photo_url, **extra, **kw)

    def document_event(
        self, user_id: str, url: str, file_name: str, mime_type: str, size: int, **kw: Any
    ) -> dict[str, Any]:
        document = {"url": url, "file_name": file_name, "mime_type": mime_type, "file_size": size}
        return self.event(user_id, kind="document", document=document, **kw)

    def sticker_event(self, user_id: str, **kw: Any) -> dict[str, Any]:
        return self.event(user_id, kind="sticker", sticker="a1b2c3d4", **kw)

    def unsupported_event(self, user_id: str, **kw: Any) -> dict[str, Any]:
        return self.event(user_id, kind="unsupported", **kw)

    def host(self, content: bytes, content_type: str = "image/jpeg", suffix: str = "jpg") -> str:
        """A URL on this server serving `content`, as the platform's CDN serves user media."""
        name = f"m{next(self._ids)}.{suffix}"
        self._media[name] = (content, content_type)
        return f"{self.url}/media/{name}"

    def expire(self, url: str) -> None:
        """The media link stops working (404), as the platform's links do after a while."""
        self._media.pop(url.rsplit("/", 1)[-1], None)

    async def push(self, event: dict[str, Any]) -> str:
        """Queue `event` for getUpdates, or deliver it now while a webhook is set."""
        if self.webhook["url"]:
            self.deliveries.append(await self.deliver(self.webhook["url"], event))
        else:
            self.events.append(event)
            async with self._new_event:
                self._new_event.notify_all()
        return str(event["message"]["message_id"])

    async def push_text(self, user_id: str, text: str, **kw: Any) -> str:
        return await self.push(self.text_event(user_id, text, **kw))

    async def push_image(
        self,
        user_id: str,
        content: bytes = b"\xff\xd8\xff\xe0 a JPEG",
        caption: str | None = None,
        photo_url: str | None = None,
        **kw: Any,
    ) -> str:
        """A photo, served by this server unless `photo_url` names another place."""
        url = photo_url or self.host(content)
        return await self.push(self.image_event(user_id, url, caption, **kw))

    async def push_document(
        self,
        user_id: str,
        file_name: str,
        content: bytes,
        mime_type: str = "application/pdf",
        **kw: Any,
    ) -> str:
        url = self.host(content, mime_type, file_name.rsplit(".", 1)[-1])
        return await self.push(
            self.document_event(user_id, url, file_name, mime_type, len(content), **kw)
        )

    async def push_sticker(self, user_id: str, **kw: Any) -> str:
        return await self.push(self.sticker_event(user_id, **kw))

    async def push_unsupported(self, user_id: str, **kw: Any) -> str:
        return await self.push(self.unsupported_event(user_id, **kw))

    async def deliver(
        self,
        url: str,
        event: dict[str, Any],
        secret: object = _REGISTERED,
        wrapped: bool | None = None,
    ) -> tuple[int, str]:
        """POST `event` to the bot's webhook at `url`; the bot's HTTP status and body.

        `secret`: the one given to setWebhook by default, a wrong string, or None for no
        header at all. `wrapped`: as {ok: true, result: event} (default: `self.shape`).
        """
        headers = {}
        token = self.webhook["secret_token"] if secret is _REGISTERED else secret
        if token is not None:
            headers[SECRET_HEADER] = str(token)
        wrap = self.shape.wrapped if wrapped is None else wrapped
        body = {"ok": True, "result": event} if wrap else event
        assert self._client is not None, "start() the fake first"
        async with self._client.post(url, json=body, headers=headers) as response:
            return response.status, await response.text()

    # ---- failures --------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        code: int = 429,
        description: str = "Too Many Requests",
        chat_id: str | None = None,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        """The next `method` call (for `chat_id` only, if given) answers this API error.

        `retry_after` goes in `parameters.retry_after` and the Retry-After header; `status`
        is the HTTP status (default: `code` when it is one, else 200).
        """
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        headers = {}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
            headers["Retry-After"] = str(retry_after)
        http = status or (code if 400 <= code < 600 else 200)
        raw = json.dumps(body).encode()
        self._failures.append(_Failure(method, chat_id, http, raw, "application/json", headers))

    def fail_next_raw(
        self,
        method: str,
        status: int = 502,
        body: bytes = b"<html><body>502 Bad Gateway</body></html>",
        content_type: str = "text/html",
        chat_id: str | None = None,
    ) -> None:
        """The next `method` call answers a raw body: an HTTP 5xx, or 200 with non-JSON."""
        self._failures.append(_Failure(method, chat_id, status, body, content_type))

    def _failure(self, method: str, params: dict[str, Any]) -> web.Response | None:
        chat = str(params.get("chat_id", ""))
        for index, failure in enumerate(self._failures):
            if failure.method == method and failure.chat_id in (None, chat):
                del self._failures[index]
                return web.Response(
                    status=failure.status,
                    body=failure.body,
                    content_type=failure.content_type,
                    headers=failure.headers,
                )
        if method.startswith("send") and chat in self.blocked:
            return _error(403, "Forbidden: the user has blocked the bot")
        if method.startswith("send") and method != "sendChatAction":
            refusal = self.gate.admit(chat, group=chat in self.groups)
            if refusal is not None:
                wait = refusal.retry_after
                body = {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests",
                    "parameters": {"retry_after": wait},
                }
                return web.json_response(body, status=429, headers={"Retry-After": str(wait)})
        return None

    # ---- what the bot sent -----------------------------------------------------------------

    def to(self, chat_id: str) -> list[Sent]:
        return list(self._by_chat.get(str(chat_id), ()))

    def texts(self, chat_id: str) -> list[str]:
        return [sent.text for sent in self.to(chat_id)]

    async def wait_sent(self, chat_id: str, count: int, timeout: float = 10) -> list[Sent]:
        """Wait until `count` messages (texts, photos, stickers) went to `chat_id`."""
        chat = str(chat_id)
        if len(self._by_chat.get(chat, ())) < count:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.setdefault(chat, []).append((count, waiter))
            try:
                await asyncio.wait_for(waiter, timeout)
            except TimeoutError:
                texts = [s.text[:60] for s in self.to(chat)]
                raise AssertionError(
                    f"waited for {count} messages to {chat}, got {texts}"
                ) from None
            finally:
                with suppress(ValueError):
                    self._waiters.get(chat, []).remove((count, waiter))
        return self.to(chat)

    def _add(self, sent: Sent) -> dict[str, Any]:
        self.sent.append(sent)
        self._by_chat.setdefault(sent.chat_id, []).append(sent)
        arrived = len(self._by_chat[sent.chat_id])
        for count, waiter in list(self._waiters.get(sent.chat_id, ())):
            if arrived >= count and not waiter.done():
                waiter.set_result(None)
        return {"message_id": sent.message_id, "date": int(time.time() * 1000)}

    # ---- the API ---------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized: invalid bot token")
        method = request.match_info["method"]
        self.calls.append(method)
        try:
            params = await request.json() if request.can_read_body else {}
        except ValueError:
            return _error(400, "Bad Request: the body must be JSON")
        if not isinstance(params, dict):
            return _error(400, "Bad Request: the body must be a JSON object")
        failure = self._failure(method, params)
        if failure is not None:
            return failure
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found: no such method")
        result = await handler(params, request)
        if isinstance(result, web.StreamResponse):
            return result
        return web.json_response({"ok": True, "result": result})

    async def _m_getMe(self, params: dict[str, Any], request: web.Request) -> Any:
        return {
            "id": BOT_ID,
            "account_name": "bot.tiendo",
            "account_type": "BASIC",
            "can_join_groups": self.can_join_groups,
        }

    async def _m_getUpdates(self, params: dict[str, Any], request: web.Request) -> Any:
        if self.webhook["url"]:
            return _error(409, "Conflict: getUpdates is not available while a webhook is set")
        try:
            timeout = min(max(float(params.get("timeout") or 0), 0.0), self.max_poll_seconds)
        except (TypeError, ValueError):
            return _error(400, "Bad Request: timeout must be a number")
        deadline = asyncio.get_running_loop().time() + timeout
        async with self._new_event:
            # Several polls may wait at once: each takes one event, the others wait on.
            while not self.events and (left := deadline - asyncio.get_running_loop().time()) > 0:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._new_event.wait(), left)
            if request.transport is None or request.transport.is_closing():
                return web.Response(status=499)  # the bot went away: the event stays here
            if not self.events:
                body = {"ok": False, "error_code": 408, "description": "Request timeout"}
                return web.json_response(body, status=self.empty_poll_status)
            event = self.events.pop(0)
        self.fetched.append(event)
        return event  # as it was made: with or without event_name

    async def _m_setWebhook(self, params: dict[str, Any], request: web.Request) -> Any:
        url, secret = params.get("url"), params.get("secret_token")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            return _error(400, "Bad Request: url is invalid")
        if not isinstance(secret, str) or not 8 <= len(secret) <= 256:
            return _error(400, "Bad Request: secret_token must be 8 to 256 characters")
        self.webhook = {"url": url, "secret_token": secret, "updated_at": _now_ms()}
        return {"url": url, "updated_at": self.webhook["updated_at"]}

    async def _m_deleteWebhook(self, params: dict[str, Any], request: web.Request) -> Any:
        if not self.webhook["url"]:
            return _error(400, "Bad Request: webhook is not set")
        self.webhook = {"url": "", "secret_token": "", "updated_at": _now_ms()}
        return {"url": "", "updated_at": self.webhook["updated_at"]}

    async def _m_getWebhookInfo(self, params: dict[str, Any], request: web.Request) -> Any:
        return {"url": self.webhook["url"], "updated_at": self.webhook["updated_at"]}

    async def _m_sendMessage(self, params: dict[str, Any], request: web.Request) -> Any:
        chat, text = _chat(params), params.get("text")
        if chat is None:
            return _error(400, "Bad Request: chat_id is required")
        if not isinstance(text, str) or not 1 <= len(text) <= TEXT_LIMIT:
            return _error(400, f"Bad Request: text must be 1 to {TEXT_LIMIT} characters")
        self.send_started.set()
        await self.hold_sends.wait()
        if request.transport is None or request.transport.is_closing():
            return web.Response(status=499)  # the bot died while we held its message
        return self._add(Sent("sendMessage", chat, self._message_id(), text))

    async def _m_sendPhoto(self, params: dict[str, Any], request: web.Request) -> Any:
        chat, photo, caption = _chat(params), params.get("photo"), params.get("caption")
        if chat is None:
            return _error(400, "Bad Request: chat_id is required")
        if caption is not None and (not isinstance(caption, str) or len(caption) > TEXT_LIMIT):
            return _error(400, f"Bad Request: caption must be 1 to {TEXT_LIMIT} characters")
        if not isinstance(photo, str) or not photo.startswith(("https://", "http://")):
            return _error(400, "Bad Request: photo must be a URL")
        fetched = await self._fetch(photo)
        if fetched.status != 200:
            return _error(400, f"Bad Request: could not fetch the photo (HTTP {fetched.status})")
        sent = Sent("sendPhoto", chat, self._message_id(), caption or "", photo, fetched)
        return self._add(sent)

    async def _m_sendSticker(self, params: dict[str, Any], request: web.Request) -> Any:
        chat, sticker = _chat(params), params.get("sticker")
        if chat is None or not isinstance(sticker, str) or not sticker:
            return _error(400, "Bad Request: chat_id and sticker are required")
        return self._add(Sent("sendSticker", chat, self._message_id(), sticker=sticker))

    async def _m_sendChatAction(self, params: dict[str, Any], request: web.Request) -> Any:
        chat = _chat(params)
        if chat is None or params.get("action") not in ("typing", "upload_photo"):
            return _error(400, "Bad Request: chat_id and a known action are required")
        self.actions.append((chat, str(params["action"])))
        return True

    async def _fetch(self, url: str) -> Fetched:
        """Fetch `url` as the platform does before showing a photo."""
        assert self._client is not None
        try:
            async with self._client.get(url) as response:
                body = await response.read()
                return Fetched(url, response.status, response.content_type, body)
        except (aiohttp.ClientError, TimeoutError):
            return Fetched(url, 0, "", b"")

    async def _serve_media(self, request: web.Request) -> web.Response:
        found = self._media.get(request.match_info["name"])
        if found is None:
            return web.Response(status=404)
        content, content_type = found
        return web.Response(body=content, content_type=content_type)

    def _id(self, value: str, shape: Shape) -> str | int:
        return int(value) if shape.numeric_ids and value.isdigit() else value

    def _message_id(self) -> str:
        return f"{next(self._ids):020x}"


@asynccontextmanager
async def running(**options: Any) -> AsyncIterator[FakeZalo]:
    """A started FakeZalo for the length of the block."""
    server = FakeZalo(**options)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def with_shape(fake: FakeZalo, **changes: Any) -> Shape:
    """The fake's shape with `changes`, e.g. `with_shape(fake, event_name=False)`."""
    return replace(fake.shape, **changes)


def _chat(params: dict[str, Any]) -> str | None:
    chat = params.get("chat_id")
    if isinstance(chat, bool) or not isinstance(chat, str | int) or chat == "":
        return None
    return str(chat)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _error(code: int, description: str) -> web.Response:
    body = {"ok": False, "error_code": code, "description": description}
    return web.json_response(body, status=code)
