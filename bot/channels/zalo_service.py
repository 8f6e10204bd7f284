"""Zalo as `tiendo run` starts it: long polling, or the webhook when WEBHOOK_URL is set."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.channels import zalo_webhook
from bot.channels.base import webhook_url_for
from bot.channels.delivery import OutboxSender
from bot.channels.files import FileLinks
from bot.channels.zalo import ZaloChannel
from bot.channels.zalo_api import ZaloClient, ZaloError, ZaloUnauthorized
from bot.channels.zalo_outbox import ZaloOutboxSender
from bot.channels.zalo_polling import poll
from bot.config import Settings
from bot.errors import UserError
from handlers.dispatcher import Dispatcher
from handlers.i18n import t

log = logging.getLogger(__name__)


class ZaloService:
    label = "Zalo"

    def __init__(self, settings: Settings, dispatcher: Dispatcher, links: FileLinks) -> None:
        self.settings = settings
        self.client = ZaloClient(settings.zalo_bot_token, settings.zalo_api_base_url)
        self.links = links
        self.channel = ZaloChannel(self.client, dispatcher, links)

    async def open(self) -> None:
        try:
            me = await self.client.get_me()
        except ZaloUnauthorized:
            raise UserError(self._say("cli_run_token_refused", variable="ZALO_BOT_TOKEN")) from None
        except ZaloError as exc:
            reason = exc.description
            raise UserError(self._say("cli_run_api_unreachable", reason=reason)) from None
        log.info("Zalo bot: %s (%s)", me.account_name or me.id, me.account_type or "?")
        if not me.can_join_groups:
            log.warning(self._say("cli_run_zalo_no_groups", name=str(me.account_name or me.id)))
            dispatcher = self.channel.dispatcher  # so that /ganhom can tell an admin on Zalo
            dispatcher.config = dispatcher.config.without_groups(self.channel.name)

    def outbox_sender(self) -> OutboxSender:
        """This channel as the outbox dispatcher sends through it: pictures (the digest's
        chart) as photos by a signed link, other files as links in the text."""
        config = self.channel.dispatcher.config
        return ZaloOutboxSender(
            self.channel, self.links, config.default_language, data_dir=config.data_dir
        )

    def _say(self, key: str, **values: str) -> str:
        return t(self.settings.default_language, key, channel="Zalo", **values)

    def routes(self) -> list[web.RouteDef]:
        return zalo_webhook.routes(self.channel, self.settings.webhook_secret)

    async def serve(self, stop: asyncio.Event) -> None:
        if self.settings.webhook_url:
            url = webhook_url_for(self.settings.webhook_url, zalo_webhook.PATH)
            await self.channel.resume()  # queued first: each chat keeps its order
            await self.client.set_webhook(url, self.settings.webhook_secret)
            log.info("tiendo is running (Zalo webhook)")
            await stop.wait()
            return
        await self.client.delete_webhook()  # getUpdates does not work while one is set
        log.info("tiendo is running (Zalo long polling)")
        await self.channel.resume()
        await poll(self.channel, stop)

    async def close(self) -> None:
        await self.channel.close()
        await self.client.close()
