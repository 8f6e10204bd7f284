"""Telegram's webhook: deliveries checked against the secret header, then handled."""

from __future__ import annotations

import json
import logging

from aiohttp import web
from telegram import Update

from bot.channels.stoppable import secret_matches
from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PATH = "/telegram/webhook"


def routes(telegram: TelegramChannel, secret: str) -> list[web.RouteDef]:
    """The webhook's route; a delivery without the right secret is refused with 403."""

    async def receive(request: web.Request) -> web.Response:
        if not secret_matches(request, SECRET_HEADER, secret):
            log.warning("webhook delivery refused: missing or wrong secret header")
            return web.Response(status=403, text="forbidden")
        update = await _one_update(request, telegram)
        if update is None:
            return web.Response(status=400, text="bad update")
        try:
            await telegram.handle_update(update)
        except Exception:
            # Telegram delivers again after a failure; the dispatcher makes that harmless.
            log.exception("webhook update %s failed", update.update_id)
            return web.Response(status=500, text="retry")
        return web.Response(text="ok")

    return [web.post(PATH, receive)]


async def _one_update(request: web.Request, telegram: TelegramChannel) -> Update | None:
    """The body as one update object, or None for anything else (never an exception)."""
    try:
        payload = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        return None
    # A list, a string, a number or null is valid JSON and still no update.
    update_id = payload.get("update_id") if isinstance(payload, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        log.warning("webhook delivery refused: the body is not one update object")
        return None
    try:
        return Update.de_json(payload, telegram.bot)
    except (ValueError, TypeError, KeyError, AttributeError):
        log.warning("webhook delivery refused: the update does not parse")
        return None
