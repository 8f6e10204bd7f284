"""Waiting on a platform call that a shutdown may cut short, and the webhook secret check.

Both receive loops (Telegram, Zalo) long-poll, and both webhooks check a secret header: the
logic is the same, so it is written once here.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable
from typing import TypeVar

from aiohttp import web

T = TypeVar("T")


class Stopped(Exception):
    """The stop event came before the call's answer; the call was cancelled."""


async def unless_stopped(call: Awaitable[T], stop: asyncio.Event) -> T:
    """The call's result, or Stopped when `stop` is set first (nothing fetched is then lost)."""
    fetch = asyncio.ensure_future(call)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        # Also when the caller itself is cancelled: no request is left running unattended.
        stopping.cancel()
        if not fetch.done():
            fetch.cancel()
            await asyncio.gather(fetch, return_exceptions=True)
    if fetch.cancelled():
        raise Stopped
    return fetch.result()


def secret_matches(request: web.Request, header: str, secret: str) -> bool:
    """Whether the delivery carries `secret` in `header`, compared in constant time."""
    given = request.headers.get(header, "").encode()
    return bool(secret) and hmac.compare_digest(given, secret.encode())
