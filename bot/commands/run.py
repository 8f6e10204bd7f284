"""`tiendo run`: every channel whose token is set (Telegram, Zalo, or both in one process),
each by long polling or, with WEBHOOK_URL, by webhook, on one HTTP server; beside them the
outbox dispatcher, which sends what the bot decided to say through those same channels."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import signal
from collections.abc import Sequence
from contextlib import suppress
from datetime import timedelta
from typing import Any

from aiohttp import web

from bot.app import open_app
from bot.channels.base import Service
from bot.channels.files import FileLinks
from bot.channels.telegram_service import TelegramService
from bot.channels.zalo_service import ZaloService
from bot.config import Settings
from bot.errors import UserError
from bot.handler_config import handler_config
from bot.logging_filters import hide_secrets
from bot.startup_freeze import freeze_startup_objects
from bot.web import build_web_app
from handlers import broadcast
from handlers.dispatcher import Dispatcher
from handlers.i18n import t
from scheduler import broadcast_done
from scheduler.jobs import Jobs
from scheduler.outbox_dispatcher import OutboxDispatcher, Tuning, new_instance
from scheduler.rate_limit import ChannelLimits
from storage import migrate

log = logging.getLogger(__name__)
# How long a stop waits for webhook requests in flight: a few seconds, whatever is pending.
SHUTDOWN_SECONDS = 3.0


def register(subparsers: Any, lang: str) -> None:
    parser = subparsers.add_parser("run", help=t(lang, "cli_run_help"))
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if not (settings.telegram_bot_token or settings.zalo_bot_token):
        raise UserError(t(settings.default_language, "cli_run_no_token"))
    hide_secrets(
        settings.telegram_bot_token,
        settings.zalo_bot_token,
        settings.webhook_secret,
        settings.webhook_url,
        settings.file_link_secret,
    )
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        dispatcher = Dispatcher(app.sessions, handler_config(settings))
        links = FileLinks.from_settings(settings)
        links.purge()
        services: list[TelegramService | ZaloService] = []
        if settings.telegram_bot_token:
            services.append(TelegramService(settings, dispatcher, links))
        if settings.zalo_bot_token:
            services.append(ZaloService(settings, dispatcher, links))
        try:
            for service in services:
                await service.open()
            senders = {service.channel.name: service.outbox_sender() for service in services}
            tuning = Tuning(lease=timedelta(seconds=settings.outbox_lease_seconds))
            outbox = OutboxDispatcher(
                app.sessions,
                senders,
                channel_limits(settings),
                instance(),
                tuning=tuning,
                on_settled={broadcast.KIND: broadcast_done.settled},
            )
            for service in services:  # replies too: one way out, one pace per channel
                await service.channel.delivery.use(outbox)
            jobs = Jobs(app.sessions, settings)  # the reminder scan and the weekly digest
            if settings.scheduler_enabled:
                jobs.start()
            log.debug("start-up objects frozen: %d", freeze_startup_objects())
            try:
                await _serve(settings, services, links, outbox)
            finally:
                if settings.scheduler_enabled:
                    await jobs.stop()
        finally:
            for service in services:
                await service.close()
    log.info("tiendo stopped")
    return 0


def channel_limits(settings: Settings) -> dict[str, ChannelLimits]:
    """Each platform's pace, as configured."""
    return {
        "telegram": ChannelLimits(
            settings.telegram_messages_per_second,
            settings.telegram_seconds_per_chat,
            settings.telegram_group_messages_per_minute or None,
        ),
        "zalo": ChannelLimits(
            settings.zalo_messages_per_second,
            settings.zalo_seconds_per_chat,
            settings.zalo_group_messages_per_minute or None,
        ),
    }


def instance() -> str:
    """This process's name on the outbox rows it holds: unique across machines and restarts."""
    return new_instance()


async def _serve(
    settings: Settings, services: Sequence[Service], links: FileLinks, outbox: OutboxDispatcher
) -> None:
    """The HTTP server, then every channel and the outbox until a signal stops them all (or
    one fails)."""
    routes = list(links.routes())
    if settings.webhook_url:
        for service in services:
            routes += service.routes()
    runner = await _start_web(settings, routes)
    stop = _stop_event()

    async def serve(service: Service) -> None:
        try:
            await service.serve(stop)
        finally:
            stop.set()  # one channel ending (a refused token) ends the process, cleanly

    async def dispatch() -> None:
        try:
            await outbox.serve(stop)  # once stopped: in flight finished or given back
        finally:
            stop.set()

    try:
        await asyncio.gather(dispatch(), *(serve(service) for service in services))
    finally:
        await runner.cleanup()


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def _start_web(settings: Settings, routes: list[web.RouteDef]) -> web.AppRunner:
    """The HTTP server started; a port already taken is a UserError naming it."""
    runner = web.AppRunner(build_web_app(None, settings.webhook_secret, routes))
    await runner.setup()
    site = web.TCPSite(
        runner, settings.http_host, settings.http_port, shutdown_timeout=SHUTDOWN_SECONDS
    )
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        lang = settings.default_language
        raise UserError(
            t(
                lang,
                "cli_run_port_refused",
                host=settings.http_host,
                port=settings.http_port,
                problem=_port_problem(exc, lang),
            )
        ) from None
    return runner


def _port_problem(exc: OSError, lang: str) -> str:
    if exc.errno == errno.EADDRINUSE:
        return t(lang, "cli_run_port_in_use")
    if exc.errno == errno.EACCES:
        return t(lang, "cli_run_port_denied")
    reason = exc.strerror or type(exc).__name__
    return t(lang, "cli_run_port_error", number=exc.errno, reason=reason)
