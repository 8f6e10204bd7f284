"""A small typed client for the Zalo Bot Platform over aiohttp.

Every method is `POST <base>/bot<TOKEN>/<method>` with a JSON body, answered by
`{"ok": true, "result": …}` or `{"ok": false, "error_code": N, "description": "…"}`
(../shared/zalo-api.md). Failures come out as one of four errors, so a delivery loop can
decide without reading descriptions: wait (`ZaloRetryAfter`), retry (`ZaloTransient`), give up
on this chat (`ZaloForbidden`) or give up on this message (`ZaloPermanent`). The token is part
of every URL, so no URL is ever put in an error or a log line, and errors do not chain the
aiohttp exception that would carry it.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

import aiohttp

from bot.channels.zalo_events import millis_to_utc

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://bot-api.zaloplatforms.com"
DEFAULT_TIMEOUT = 10.0
DEFAULT_RETRY_AFTER = 5.0  # the platform publishes no limits and rarely says how long to wait
MAX_RETRY_AFTER = 3600.0
POLL_MARGIN = 10.0  # a long poll may take its full timeout; the socket waits a little more
EMPTY_POLL = 408
DOWNLOAD_CHUNK = 64 * 1024
_QUOTA = re.compile(
    r"quota|rate.?limit|too many requests|limit(ed)? (is )?exceeded|exceed(ed|s)? .{0,20}limit",
    re.IGNORECASE,
)
_UNREACHABLE = re.compile(
    r"block|forbidden|not (a )?friend|chat not found|user not found|"
    r"(user|chat|recipient) (does not|doesn't|not) exist",
    re.IGNORECASE,
)


class ZaloError(Exception):
    """A call that did not succeed; `code` is the platform's error_code (or the HTTP status)."""

    def __init__(self, method: str, code: int | None, description: str) -> None:
        super().__init__(f"{method}: {code if code is not None else '-'} {description}".strip())
        self.method = method
        self.code = code
        self.description = description


class ZaloRetryAfter(ZaloError):
    """Too many calls (429, or a description saying a quota or limit is exceeded): wait."""

    def __init__(self, method: str, code: int | None, description: str, retry_after: float):
        super().__init__(method, code, description)
        self.retry_after = retry_after


class ZaloTransient(ZaloError):
    """A fault that may pass: HTTP 5xx, a body that is not the API's JSON, network, timeout."""


class ZaloPermanent(ZaloError):
    """Refused for good (a bad request, a text too long): retrying the same call is useless."""


class ZaloForbidden(ZaloPermanent):
    """This chat cannot be reached: the user blocked the bot, or the chat does not exist."""


class ZaloUnauthorized(ZaloPermanent):
    """The token was refused: nothing will work until the configuration is fixed."""


@dataclass(frozen=True)
class ZaloBot:
    """What getMe says about the bot's account."""

    id: str
    account_name: str
    account_type: str
    can_join_groups: bool


@dataclass(frozen=True)
class ZaloSent:
    """The message the platform stored: its id and, when given, its time (aware, UTC)."""

    message_id: str
    date: datetime | None


class ZaloClient:
    """The Bot API calls tiendo makes; one connection pool, closed by `close()`."""

    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        pool_size: int = 100,
    ) -> None:
        self._token = token
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"ZaloClient({self._base_url!r}, token={mask(self._token)!r})"

    async def __aenter__(self) -> ZaloClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ---- the methods ---------------------------------------------------------------------

    async def get_me(self) -> ZaloBot:
        """The bot's account; `can_join_groups` is False for accounts that cannot be in groups."""
        result = _object(await self.call("getMe"), "getMe")
        return ZaloBot(
            id=str(result.get("id", "")),
            account_name=str(result.get("account_name") or result.get("display_name") or ""),
            account_type=str(result.get("account_type", "")),
            can_join_groups=result.get("can_join_groups") is not False,
        )

    async def get_updates(self, timeout: int = 30) -> dict[str, Any] | None:
        """One event (the raw `result`), or None when the poll ended empty (error 408).

        The event is gone from the platform once returned: persist it before handling it.
        """
        try:
            result = await self.call(
                "getUpdates", {"timeout": str(timeout)}, read_timeout=timeout + POLL_MARGIN
            )
        except ZaloError as exc:
            if exc.code == EMPTY_POLL and not isinstance(exc, ZaloTransient | ZaloRetryAfter):
                return None
            raise
        if result is None or result == [] or result == {}:
            return None  # an empty answer said without 408: nothing came
        if isinstance(result, list):
            # Documented as one object; a list is taken one event at a time all the same.
            if len(result) > 1:
                log.warning("zalo getUpdates gave %d events at once; only the first", len(result))
            result = result[0]
        return _object(result, "getUpdates")

    async def set_webhook(self, url: str, secret_token: str) -> None:
        """Have the platform deliver events to `url` with `secret_token` in every delivery."""
        await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> bool:
        """Stop webhook deliveries; False when none was set (the platform's 400 or 404)."""
        try:
            await self.call("deleteWebhook")
        except ZaloPermanent as exc:
            if exc.code in (400, 404) and not isinstance(exc, ZaloUnauthorized):
                return False
            raise
        return True

    async def get_webhook_info(self) -> dict[str, Any]:
        """The webhook as the platform knows it (`url` empty or missing when none)."""
        result = await self.call("getWebhookInfo")
        return result if isinstance(result, dict) else {}

    async def send_message(self, chat_id: str, text: str) -> ZaloSent:
        """Send a text of 1 to 2,000 characters (split it first: the platform refuses more)."""
        return _sent(await self.call("sendMessage", {"chat_id": chat_id, "text": text}))

    async def send_photo(
        self, chat_id: str, photo_url: str, caption: str | None = None
    ) -> ZaloSent:
        """Send the photo at `photo_url`, which the platform itself fetches (no upload)."""
        payload = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            payload["caption"] = caption
        return _sent(await self.call("sendPhoto", payload))

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        await self.call("sendChatAction", {"chat_id": chat_id, "action": action})

    async def download(self, url: str, limit: int) -> bytes:
        """The file at `url` (a photo or document a user sent), cut after `limit + 1` bytes.

        More than `limit` bytes back means too big, whatever size the event claimed; no more
        is ever read. The platform's links expire: download as soon as the event arrives.
        """
        session = self._open()
        body = bytearray()
        timeout = aiohttp.ClientTimeout(sock_connect=self._timeout, sock_read=self._timeout * 2)
        try:
            async with session.get(url, timeout=timeout) as response:
                if response.status != 200:
                    error = ZaloTransient if response.status >= 500 else ZaloPermanent
                    raise error("download", response.status, "the file could not be fetched")
                async for chunk in response.content.iter_chunked(DOWNLOAD_CHUNK):
                    body += chunk
                    if len(body) > limit:
                        break  # leaving the block closes the connection: the rest is unread
        except TimeoutError:
            raise ZaloTransient("download", None, "timed out") from None
        except aiohttp.ClientError as exc:
            raise ZaloTransient("download", None, f"aiohttp.{type(exc).__name__}") from None
        return bytes(body[: limit + 1])

    # ---- one call ------------------------------------------------------------------------

    async def call(
        self,
        method: str,
        payload: dict[str, Any] | None = None,
        *,
        read_timeout: float | None = None,
    ) -> Any:
        """POST `payload` to `method` and return its `result`, or raise a ZaloError."""
        session = self._open()
        timeout = aiohttp.ClientTimeout(
            sock_connect=self._timeout, sock_read=read_timeout or self._timeout
        )
        url = f"{self._base_url}/bot{self._token}/{method}"
        try:
            async with session.post(url, json=payload or {}, timeout=timeout) as response:
                status = response.status
                retry_header = response.headers.get("Retry-After")
                raw = await response.read()
        except TimeoutError:
            error: ZaloError = ZaloTransient(method, None, "timed out")
        except aiohttp.ClientError as exc:
            # str(exc) may hold the URL, and with it the token: only the type is told.
            error = ZaloTransient(method, None, f"aiohttp.{type(exc).__name__}")
        else:
            try:
                return _result(method, status, raw, retry_header)
            except ZaloError as refused:
                error = refused
        log.debug("zalo %s failed: %s", method, error)
        raise error from None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size)
            )
        return self._session


def mask(token: str) -> str:
    """The token as it may appear in a log: the bot id before the colon, the secret hidden."""
    bot_id, colon, _ = token.partition(":")
    return f"{bot_id}:***" if colon else "***"


def _result(method: str, status: int, raw: bytes, retry_header: str | None) -> Any:
    """The `result` of an answer, or the ZaloError it stands for."""
    if status >= 500:
        raise ZaloTransient(method, status, f"HTTP {status}")
    try:
        body = _json(raw)
    except ValueError:
        raise ZaloTransient(method, status, f"HTTP {status}, not the API's JSON") from None
    if body.get("ok") is True:
        return body.get("result")
    code = _code(body.get("error_code"), status)
    description = str(body.get("description") or "")[:300]
    if code == 429 or _QUOTA.search(description):
        wait = _retry_after(body.get("parameters"), retry_header)
        raise ZaloRetryAfter(method, code, description, wait)
    if code is not None and code >= 500:
        raise ZaloTransient(method, code, description)
    if code == 401:
        raise ZaloUnauthorized(method, code, description)
    if code == 403 or _UNREACHABLE.search(description):
        raise ZaloForbidden(method, code, description)
    if code == EMPTY_POLL and method != "getUpdates":
        raise ZaloTransient(method, code, description)  # a request timeout, not a refusal
    raise ZaloPermanent(method, code, description)


def _json(raw: bytes) -> dict[str, Any]:
    body = json.loads(raw.decode("utf-8"))
    if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):
        raise ValueError("not an API answer")
    return body


def _code(value: object, status: int) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit() and len(value) < 10:
        return int(value)
    return status if status != 200 else None


def _retry_after(parameters: object, header: str | None) -> float:
    """The wait the platform asked for (Telegram-like `parameters.retry_after` or the
    Retry-After header), bounded; the default when it named none."""
    given: object = parameters.get("retry_after") if isinstance(parameters, dict) else None
    for value in (given, header):
        try:
            seconds = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if math.isfinite(seconds) and seconds > 0:
            return min(seconds, MAX_RETRY_AFTER)
    return DEFAULT_RETRY_AFTER


def _object(result: Any, method: str) -> dict[str, Any]:
    if not isinstance(result, dict):
        raise ZaloTransient(method, None, "the result is not an object")
    return result


def _sent(result: Any) -> ZaloSent:
    """The sent message's id and time; an answer without them still means it was sent."""
    if not isinstance(result, dict):
        return ZaloSent("", None)
    message_id = result.get("message_id")
    return ZaloSent(
        "" if message_id is None else str(message_id), millis_to_utc(result.get("date"))
    )
