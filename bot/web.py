"""The HTTP side: Telegram's webhook (secret-checked) and a health check."""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web
from telegram import Update

from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TELEGRAM_PATH = "/telegram/webhook"


def build_web_app(telegram: TelegramChannel | None, secret: str) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_get("/healthz", _health)
    if telegram is not None:
        app.router.add_post(TELEGRAM_PATH, _telegram_webhook(telegram, secret))
    return app


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def _telegram_webhook(telegram: TelegramChannel, secret: str):  # type: ignore[no-untyped-def]
    expected = secret.encode()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not secret or not hmac.compare_digest(given, expected):
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

    return receive


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
