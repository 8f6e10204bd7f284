"""`tiendo run`: the Telegram bot, by long polling or, with WEBHOOK_URL, by webhook."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import signal
from contextlib import suppress
from typing import Any

from aiohttp import web
from telegram.error import InvalidToken, NetworkError

from bot.app import open_app
from bot.channels.telegram import TelegramChannel, build_application
from bot.channels.telegram_polling import poll
from bot.config import Settings
from bot.errors import UserError
from bot.handler_config import handler_config
from bot.logging_filters import hide_secrets
from bot.web import TELEGRAM_PATH, build_web_app
from handlers.dispatcher import Dispatcher
from storage import migrate

log = logging.getLogger(__name__)
# How long a stop waits for webhook requests in flight: a few seconds, whatever is pending.
SHUTDOWN_SECONDS = 3.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run", help="chạy bot Telegram (long polling, hoặc webhook khi có WEBHOOK_URL)"
    )
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.telegram_bot_token:
        raise UserError(
            "Chưa có TELEGRAM_BOT_TOKEN: hãy đặt token của bot (lấy từ @BotFather) "
            "trong biến môi trường hoặc tệp .env."
        )
    hide_secrets(settings.telegram_bot_token, settings.webhook_secret, settings.webhook_url)
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        application = build_application(settings)
        try:
            await application.initialize()
        except InvalidToken:
            raise UserError("TELEGRAM_BOT_TOKEN không hợp lệ (Telegram từ chối token).") from None
        except NetworkError as exc:
            raise UserError(f"Không kết nối được Telegram Bot API: {type(exc).__name__}.") from None
        channel = TelegramChannel(application, Dispatcher(app.sessions, handler_config(settings)))
        stop = _stop_event()
        try:
            if settings.webhook_url:
                await _serve_webhook(settings, channel, stop)
            else:
                await _serve_polling(settings, channel, stop)
        finally:
            await channel.close()
            await application.shutdown()
    log.info("tiendo stopped")
    return 0


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def _serve_polling(settings: Settings, channel: TelegramChannel, stop: asyncio.Event) -> None:
    web_runner = await _start_web(settings, None)
    log.info("tiendo is running (Telegram long polling) as @%s", channel.bot.username)
    try:
        await channel.bot.delete_webhook()
        await channel.resume_held()
        await poll(channel, stop)
    finally:
        await web_runner.cleanup()


async def _serve_webhook(settings: Settings, channel: TelegramChannel, stop: asyncio.Event) -> None:
    runner = await _start_web(settings, channel)
    url = settings.webhook_url.rstrip("/")
    if not url.endswith(TELEGRAM_PATH):
        url += TELEGRAM_PATH
    await channel.bot.set_webhook(
        url, secret_token=settings.webhook_secret, allowed_updates=["message", "callback_query"]
    )
    log.info("tiendo is running (Telegram webhook) as @%s", channel.bot.username)
    try:
        await channel.resume_held()
        await stop.wait()
    finally:
        await runner.cleanup()


async def _start_web(settings: Settings, channel: TelegramChannel | None) -> web.AppRunner:
    """The HTTP server started; a port already taken is a UserError naming it."""
    runner = web.AppRunner(build_web_app(channel, settings.webhook_secret))
    await runner.setup()
    site = web.TCPSite(
        runner, settings.http_host, settings.http_port, shutdown_timeout=SHUTDOWN_SECONDS
    )
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise UserError(
            f"Không mở được cổng HTTP {settings.http_host}:{settings.http_port}: "
            f"{_port_problem(exc)}. Hãy dừng chương trình đang dùng cổng đó "
            "hoặc đặt HTTP_PORT khác."
        ) from None
    return runner


def _port_problem(exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return "cổng này đang được một chương trình khác dùng"
    if exc.errno == errno.EACCES:
        return "không có quyền mở cổng này"
    return f"lỗi hệ thống {exc.errno} ({exc.strerror or type(exc).__name__})"
