"""Telegram as `tiendo run` starts it: long polling, or the webhook when WEBHOOK_URL is set."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from aiohttp import web
from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application

from bot.channels import telegram_webhook
from bot.channels.base import webhook_url_for
from bot.channels.delivery import OutboxSender
from bot.channels.files import FileLinks
from bot.channels.telegram import TelegramChannel, build_application
from bot.channels.telegram_polling import poll
from bot.config import Settings
from bot.errors import UserError
from handlers.dispatcher import Dispatcher
from handlers.i18n import t

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "callback_query"]


class TelegramService:
    label = "Telegram"

    def __init__(self, settings: Settings, dispatcher: Dispatcher, links: FileLinks) -> None:
        self.settings, self.dispatcher, self.links = settings, dispatcher, links
        self.application: Application | None = None  # type: ignore[type-arg]
        self._channel: TelegramChannel | None = None

    @property
    def channel(self) -> TelegramChannel:
        assert self._channel is not None, "open() first"
        return self._channel

    async def open(self) -> None:
        application = build_application(self.settings)
        try:
            await application.initialize()
        except InvalidToken:
            refused = self._say("cli_run_token_refused", variable="TELEGRAM_BOT_TOKEN")
            raise UserError(refused) from None
        except NetworkError as exc:
            reason = type(exc).__name__
            raise UserError(self._say("cli_run_api_unreachable", reason=reason)) from None
        self.application = application
        self._channel = TelegramChannel(application, self.dispatcher, self.links)
        if application.bot.username:  # so that /moi can give the invite's deep link
            config = self.dispatcher.config
            self.dispatcher.config = replace(config, telegram_username=application.bot.username)

    def outbox_sender(self) -> OutboxSender:
        """This channel as the outbox dispatcher sends through it (after `open`); groups and
        supergroups are the chats with negative ids."""
        return self.channel.delivery.sender(lambda chat: chat.startswith("-"))

    def _say(self, key: str, **values: str) -> str:
        return t(self.settings.default_language, key, channel="Telegram", **values)

    def routes(self) -> list[web.RouteDef]:
        return telegram_webhook.routes(self.channel, self.settings.webhook_secret)

    async def serve(self, stop: asyncio.Event) -> None:
        bot = self.channel.bot
        if self.settings.webhook_url:
            url = webhook_url_for(self.settings.webhook_url, telegram_webhook.PATH)
            await bot.set_webhook(
                url, secret_token=self.settings.webhook_secret, allowed_updates=ALLOWED_UPDATES
            )
            log.info("tiendo is running (Telegram webhook) as @%s", bot.username)
            await stop.wait()
            return
        log.info("tiendo is running (Telegram long polling) as @%s", bot.username)
        await bot.delete_webhook()
        await poll(self.channel, stop)

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
        if self.application is not None:
            await self.application.shutdown()
