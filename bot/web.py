"""The HTTP side: each channel's webhook, signed file links, and a health check."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from bot.channels import telegram_webhook
from bot.channels.telegram import TelegramChannel

SECRET_HEADER = telegram_webhook.SECRET_HEADER
TELEGRAM_PATH = telegram_webhook.PATH
# Deliveries are single events; a larger body is not one of them.
MAX_BODY = 1024 * 1024


def build_web_app(
    telegram: TelegramChannel | None, secret: str, routes: Iterable[web.RouteDef] = ()
) -> web.Application:
    """The application: /healthz, Telegram's webhook when given, and the `routes` other
    channels and services contribute (Zalo's webhook, file links)."""
    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_get("/healthz", _health)
    if telegram is not None:
        app.add_routes(telegram_webhook.routes(telegram, secret))
    app.add_routes(list(routes))
    return app


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})
