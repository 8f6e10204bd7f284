"""A dispatcher in a process of its own, for the crash and two-instance stories:
`python -m tests.outbox_child DATABASE_URL API_URL DATA_DIR RATE [LEASE_SECONDS]` (stopped by
SIGTERM, or killed)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from datetime import timedelta

from bot.app import open_app
from bot.channels.files import FileLinks
from bot.channels.telegram_service import TelegramService
from bot.commands.run import channel_limits
from bot.config import load_settings
from bot.handler_config import handler_config
from handlers.dispatcher import Dispatcher
from scheduler.outbox_dispatcher import OutboxDispatcher, Tuning
from tests.fake_telegram import TOKEN

# Short, so that a dead process's rows come back within the story.
LEASE = timedelta(seconds=3)


async def serve(url: str, api: str, folder: str, rate: float, lease: timedelta = LEASE) -> None:
    settings = load_settings(
        database_url=url,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=api,
        data_dir=folder,
        telegram_messages_per_second=rate,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with open_app(settings) as app:
        links = FileLinks.from_settings(settings)
        service = TelegramService(
            settings, Dispatcher(app.sessions, handler_config(settings)), links
        )
        await service.open()
        try:
            dispatcher = OutboxDispatcher(
                app.sessions,
                {"telegram": service.outbox_sender()},
                channel_limits(settings),
                f"child:{os.getpid()}",
                None,
                Tuning(lease=lease, poll_seconds=0.2),
            )
            print("ready", flush=True)
            await dispatcher.serve(stop)
        finally:
            await service.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    url, api, folder, rate = sys.argv[1:5]
    lease = timedelta(seconds=float(sys.argv[5])) if len(sys.argv) > 5 else LEASE
    asyncio.run(serve(url, api, folder, float(rate), lease))
