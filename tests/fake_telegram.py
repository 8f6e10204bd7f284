"""A small Telegram Bot API server on 127.0.0.1 that speaks the documented shapes.

Tests push what users do (messages, documents, button presses) and read what the bot sent.
Updates stay until confirmed by a later getUpdates offset, as on the real server, so a bot
killed mid-update gets it again. Failures (429, 403) and a held sendMessage can be injected,
also for one chat only; files are served as a stream, and what was served is counted.
A `Gate` can hold the bot to the platform's limits (in all, per chat, per group), answering
429 with retry_after when one is exceeded, and can flood one chat (a 429 with retry_after, and
every call to that chat refused until then); it records when each send arrived, by its clock
(a test may give it a faster one). Chats in `blocked` answer 403 as a user who blocked the bot.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

TOKEN = "123456:TEST-token-for-the-fake-server"
BOT = {
    "id": 123456,
    "is_bot": True,
    "first_name": "tiendo",
    "username": "tiendo_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}

# Calls that put a message in a chat: the ones a platform's limits count.
SENDS = frozenset({"sendMessage", "sendDocument", "sendPhoto", "editMessageText"})


@dataclass
class Sent:
    method: str
    chat_id: str
    message_id: int
    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Enforced:
    """Limits a fake platform holds the bot to; None: not enforced."""

    per_second: int | None = None  # sends in any one second, all chats together
    chat_seconds: float | None = None  # the shortest time between two sends to one chat
    group_per_minute: int | None = None  # sends to one group in any 60 seconds


@dataclass(frozen=True)
class Refusal:
    chat_id: str
    at: float
    retry_after: int
    why: str  # "flood", "held", "all", "chat" or "group"


class Gate:
    """Each send admitted (and its arrival recorded) or refused with a retry_after, as a
    platform's rate limits do."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.limits = Enforced()
        self.arrivals: dict[str, list[float]] = {}  # per chat, every admitted send
        self.refused: list[Refusal] = []
        self._recent: deque[float] = deque()  # admitted in the last second, all chats
        self._held: dict[str, float] = {}
        self._floods: dict[str, tuple[float, int]] = {}  # retry_after, from which send

    def flood(self, chat_id: object, retry_after: float, after: int = 0) -> None:
        """The next send to `chat_id` (after `after` more are admitted) answers 429 with
        `retry_after`, and so does every send to it until that time is over."""
        chat = str(chat_id)
        self._floods[chat] = (retry_after, len(self.arrivals.get(chat, ())) + after)

    def admit(self, chat_id: object, group: bool = False) -> Refusal | None:
        chat, now = str(chat_id), self.clock()
        wait, why = self._wait(chat, group, now)
        if wait > 0:
            refusal = Refusal(chat, now, max(1, math.ceil(wait)), why)
            self.refused.append(refusal)
            return refusal
        self.arrivals.setdefault(chat, []).append(now)
        self._recent.append(now)
        return None

    def _wait(self, chat: str, group: bool, now: float) -> tuple[float, str]:
        seconds, from_send = self._floods.get(chat, (0.0, 0))
        if seconds and len(self.arrivals.get(chat, ())) >= from_send:
            del self._floods[chat]
            self._held[chat] = now + seconds
            return seconds, "flood"
        if self._held.get(chat, now) > now:
            return self._held[chat] - now, "held"
        limits, before = self.limits, self.arrivals.get(chat, [])
        while self._recent and self._recent[0] <= now - 1.0:
            self._recent.popleft()
        if limits.per_second and len(self._recent) >= limits.per_second:
            return self._recent[0] + 1.0 - now, "all"
        if limits.chat_seconds and before and now - before[-1] < limits.chat_seconds:
            return before[-1] + limits.chat_seconds - now, "chat"
        cap = limits.group_per_minute
        if group and cap and len(before) >= cap and before[-cap] > now - 60.0:
            return before[-cap] + 60.0 - now, "group"
        return 0.0, ""


class FakeTelegram:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.updates: list[dict[str, Any]] = []
        self.sent: list[Sent] = []
        self._by_chat: dict[str, list[Sent]] = {}
        self._waiters: dict[str, list[tuple[int, asyncio.Future[None]]]] = {}
        self.calls: list[str] = []
        self.files: dict[str, tuple[str, bytes]] = {}
        self.uploads: list[tuple[str, bytes]] = []  # files the bot sent: name, content
        self.failures: list[tuple[str, int, str, dict[str, Any]]] = []
        # Failures for one chat's calls only: (chat_id, method, code, description, parameters).
        self.chat_failures: list[tuple[str, str, int, str, dict[str, Any]]] = []
        # Per file path: bytes written to the bot so far, and whether the whole file went out.
        self.served: dict[str, int] = {}
        self.served_whole: set[str] = set()
        self.download_chunk = 256 * 1024
        self.download_pause = 0.0  # seconds between chunks: a slow link, so buffers stay small
        self._sizeless: set[str] = set()
        self.hold_sends = asyncio.Event()
        self.hold_sends.set()
        self.send_started = asyncio.Event()
        self.webhook: dict[str, Any] = {"url": ""}
        self.gate = Gate()
        self.blocked: set[str] = set()  # chats whose users blocked the bot: 403 every time
        self._ids = itertools.count(1)
        self._messages = itertools.count(1000)
        self._new_update = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    # ---- what users do -------------------------------------------------------------------

    def _user(self, user_id: int, name: str) -> dict[str, Any]:
        first, _, last = name.partition(" ")
        user = {"id": user_id, "is_bot": False, "first_name": first, "language_code": "vi"}
        if last:
            user["last_name"] = last
        return user

    def _message(
        self, user_id: int, name: str, group: int | None = None, **content: Any
    ) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": user_id, "type": "private", "first_name": name}
        if group is not None:
            chat = {"id": group, "type": "group", "title": "Nhóm chuyển đổi số"}
        return {
            "message_id": next(self._messages),
            "date": int(time.time()),
            "chat": chat,
            "from": self._user(user_id, name),
            **content,
        }

    async def _push(self, update: dict[str, Any]) -> int:
        update_id = next(self._ids)
        self.updates.append({"update_id": update_id, **update})
        async with self._new_update:
            self._new_update.notify_all()
        return update_id

    async def push_text(
        self, user_id: int, text: str, name: str = "Nguyễn Văn An", group: int | None = None
    ) -> int:
        """A text from `user_id`, in their private chat or, with `group`, in that group."""
        message = self._message(user_id, name, group, text=text)
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return await self._push({"message": message})

    async def push_document(
        self,
        user_id: int,
        file_name: str,
        content: bytes,
        mime_type: str = "application/pdf",
        name: str = "Nguyễn Văn An",
        gone: bool = False,
        sized: bool = True,
    ) -> int:
        """A document; `gone` makes getFile refuse it, as for a file no longer on the server;
        `sized=False` leaves `file_size` out of the update and of getFile (it is optional)."""
        file_id = f"doc{next(self._ids)}"
        if not gone:
            self.files[file_id] = (f"documents/{file_name}", content)
        document: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": file_name,
            "mime_type": mime_type,
        }
        if sized:
            document["file_size"] = len(content)
        else:
            self._sizeless.add(file_id)
        return await self._push({"message": self._message(user_id, name, document=document)})

    async def press(
        self, user_id: int, data: str, message_id: int, name: str = "Nguyễn Văn An"
    ) -> int:
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private"},
            "from": BOT,
            "text": "…",
        }
        query = {
            "id": f"cb{next(self._ids)}",
            "from": self._user(user_id, name),
            "chat_instance": "ci",
            "data": data,
            "message": message,
        }
        return await self._push({"callback_query": query})

    def fail_next(self, method: str, code: int, description: str, **parameters: Any) -> None:
        self.failures.append((method, code, description, parameters))

    def fail_next_to(
        self, chat_id: int, method: str, code: int, description: str, **parameters: Any
    ) -> None:
        """Fail the next `method` call for `chat_id` only; other chats are served."""
        self.chat_failures.append((str(chat_id), method, code, description, parameters))

    def _failure(self, method: str, params: dict[str, Any]) -> web.Response | None:
        for index, (name, code, description, extra) in enumerate(self.failures):
            if name == method:
                del self.failures[index]
                return _error(code, description, extra)
        chat = str(params.get("chat_id", ""))
        for index, (target, name, code, description, extra) in enumerate(self.chat_failures):
            if name == method and target == chat:
                del self.chat_failures[index]
                return _error(code, description, extra)
        return None

    def _limited(self, method: str, params: dict[str, Any]) -> web.Response | None:
        """A send to a chat that blocked the bot, or over the gate's limits, is refused."""
        if method not in SENDS:
            return None
        chat = str(params.get("chat_id", ""))
        if chat in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user", {})
        refusal = self.gate.admit(chat, group=chat.startswith("-"))
        if refusal is None:
            return None
        wait = refusal.retry_after
        return _error(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})

    # ---- what the bot sent ---------------------------------------------------------------

    def to(self, chat_id: int) -> list[Sent]:
        return list(self._by_chat.get(str(chat_id), ()))

    async def wait_sent(self, chat_id: int, count: int, timeout: float = 10) -> list[Sent]:
        """Wait until `count` messages went to `chat_id` (edits count as messages)."""
        chat = str(chat_id)
        if len(self._by_chat.get(chat, ())) < count:
            # One waiter per chat, woken only by its own chat's messages: with hundreds of users
            # waiting at once, a shared condition would wake them all for every message.
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.setdefault(chat, []).append((count, waiter))
            try:
                await asyncio.wait_for(waiter, timeout)
            except TimeoutError:
                texts = [s.text[:60] for s in self.to(chat_id)]
                raise AssertionError(
                    f"waited for {count} messages to {chat_id}, got {texts}"
                ) from None
            finally:
                waiters = self._waiters.get(chat, [])
                if (count, waiter) in waiters:
                    waiters.remove((count, waiter))
        return self.to(chat_id)

    def confirmed_all(self) -> bool:
        return not self.updates

    # ---- the API -------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        if request.content_type.startswith("multipart/"):
            params: dict[str, Any] = {}
            async for part in await request.multipart():
                if not isinstance(part, BodyPartReader):  # no nested multiparts in the Bot API
                    continue
                content = bytes(await part.read())
                if part.filename is None:
                    params[part.name or ""] = content.decode("utf-8", "replace")
                else:
                    params[part.name or ""] = part.filename
                    self.uploads.append((part.filename, content))
            return params
        if request.can_read_body:
            return dict(await request.post())
        return dict(request.query)

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        self.calls.append(method)
        params = await self._params(request)
        params["_request"] = request
        failure = self._failure(method, params) or self._limited(method, params)
        if failure is not None:
            return failure
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
                status=404,
            )
        result = await handler(params)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    async def _m_getMe(self, params: dict[str, Any]) -> Any:
        return BOT

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        timeout = min(float(params.get("timeout") or 0), 5.0)
        if not self.updates and timeout:
            async with self._new_update:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._new_update.wait(), timeout)
        limit = int(params.get("limit") or 100)
        return self.updates[:limit]

    def _record(self, method: str, params: dict[str, Any], message_id: int) -> dict[str, Any]:
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        buttons = [
            (b["text"], b.get("callback_data", ""))
            for row in (markup or {}).get("inline_keyboard", [])
            for b in row
        ]
        text = str(params.get("text") or params.get("caption") or "")
        self._add(Sent(method, str(params["chat_id"]), message_id, text, buttons))
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "text": text,
            "chat": {"id": int(params["chat_id"]), "type": "private"},
            "from": BOT,
        }

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        if len(str(params.get("text", ""))) > 4096:
            return web.json_response(
                {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"},
                status=400,
            )
        self.send_started.set()
        await self.hold_sends.wait()
        request = params["_request"]
        if request.transport is None or request.transport.is_closing():
            return web.Response(status=499)  # the bot died while we held its message
        return self._record("sendMessage", params, next(self._messages))

    async def _m_editMessageText(self, params: dict[str, Any]) -> Any:
        message_id = int(params["message_id"])
        chat = str(params["chat_id"])
        previous = [s for s in self._by_chat.get(chat, ()) if s.message_id == message_id]
        probe = self._record("editMessageText", params, message_id)
        edited = self.sent[-1]
        if previous and previous[-1].text == edited.text and previous[-1].buttons == edited.buttons:
            self.sent.pop()
            self._by_chat[edited.chat_id].pop()
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: message is not modified: specified new "
                    "message content and reply markup are exactly the same",
                },
                status=400,
            )
        return probe

    def _add(self, sent: Sent) -> None:
        self.sent.append(sent)
        self._by_chat.setdefault(sent.chat_id, []).append(sent)
        arrived = len(self._by_chat[sent.chat_id])
        for count, waiter in list(self._waiters.get(sent.chat_id, ())):
            if arrived >= count and not waiter.done():
                waiter.set_result(None)

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_sendDocument(self, params: dict[str, Any]) -> Any:
        return self._record("sendDocument", params, next(self._messages))

    async def _m_getFile(self, params: dict[str, Any]) -> Any:
        file_id = str(params["file_id"])
        if file_id not in self.files:
            return web.json_response(
                {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"},
                status=400,
            )
        path, content = self.files[file_id]
        found: dict[str, Any] = {"file_id": file_id, "file_unique_id": f"u{file_id}"}
        if file_id not in self._sizeless:
            found["file_size"] = len(content)
        return {**found, "file_path": path}

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """The file in chunks, counting what was written, until done or the bot hangs up."""
        wanted = request.match_info["path"]
        content = next((c for path, c in self.files.values() if path == wanted), None)
        if content is None:
            return web.Response(status=404)
        response = web.StreamResponse()
        response.content_length = len(content)
        await response.prepare(request)
        self.served[wanted] = 0
        try:
            for start in range(0, len(content), self.download_chunk):
                if request.transport is None or request.transport.is_closing():
                    return response  # the bot stopped reading
                chunk = content[start : start + self.download_chunk]
                await response.write(chunk)
                self.served[wanted] += len(chunk)
                await asyncio.sleep(self.download_pause)
            await response.write_eof()
        except ConnectionError:
            return response
        self.served_whole.add(wanted)
        return response

    async def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {"url": params.get("url", ""), "secret": params.get("secret_token", "")}
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {"url": ""}
        return True

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }


def _error(code: int, description: str, parameters: dict[str, Any]) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)
