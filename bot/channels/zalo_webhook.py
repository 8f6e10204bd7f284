"""Zalo's webhook: deliveries checked against the secret header, then written down and handled.

The body is the event, bare (`{event_name, message}`) or wrapped (`{ok, result}`); both are
read. A delivery without the right `X-Bot-Api-Secret-Token` is refused with 403 (compared in
constant time), a body that is not one event with 400, and a failure to handle it with 500 so
that the platform delivers it again (the inbox and the once-only record make that harmless).
"""

from __future__ import annotations

import asyncio
import json
import logging

from aiohttp import web

from bot.channels.stoppable import secret_matches
from bot.channels.zalo import ZaloChannel

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Bot-Api-Secret-Token"
PATH = "/zalo/webhook"


def routes(channel: ZaloChannel, secret: str) -> list[web.RouteDef]:
    """The webhook's route; a delivery without the right secret is refused with 403."""

    async def receive(request: web.Request) -> web.Response:
        if not secret_matches(request, SECRET_HEADER, secret):
            log.warning("zalo webhook delivery refused: missing or wrong secret header")
            return web.Response(status=403, text="forbidden")
        try:
            payload = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            payload = None
        taken = channel.accept(payload) if isinstance(payload, dict) else None
        if taken is None:
            log.warning("zalo webhook delivery refused: the body is not one event")
            return web.Response(status=400, text="bad event")
        try:
            await asyncio.shield(taken)  # a client gone away does not stop the handling
        except Exception:
            return web.Response(status=500, text="retry")  # logged by the channel
        return web.Response(text="ok")

    return [web.post(PATH, receive)]
