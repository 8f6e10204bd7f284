"""The Zalo channel: a Zalo Bot Platform event → Incoming, one rendered message → sendMessage.

Zalo forgets an event once it handed it over (no offset), so each event is written to the
inbox with its message id before it is handled: a crash loses nothing (the next run takes up
what is still open) and a repeat is ignored. Events are taken in order per chat, chats side by
side. Zalo has no buttons, edits or document uploads: options are numbered lines (answered by
"2", "2.", "số 2" or their words), every prompt is a new message, and files go out as signed
links (bot.channels.files), pictures from the outbox as photos by such a link
(bot.channels.zalo_outbox). Photos and documents a person sends are downloaded at once, since
the platform's links expire, and capped while streaming.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from bot.channels import zalo_render
from bot.channels.base import Abilities, ChatFlooded, Message, Transient, Unreachable
from bot.channels.chat_order import ChatOrder
from bot.channels.delivery import Delivery
from bot.channels.files import FileLinks
from bot.channels.inbox import Inbox
from bot.channels.zalo_api import (
    ZaloClient,
    ZaloError,
    ZaloForbidden,
    ZaloPermanent,
    ZaloRetryAfter,
    ZaloTransient,
)
from bot.channels.zalo_events import ZaloEvent, millis_to_utc, parse_event
from bot.channels.zalo_outbox import Photo
from handlers.dispatcher import Dispatcher
from handlers.events import Incoming, IncomingFile, Reply, command_of
from storage.repositories import inbox
from storage.repositories.inbox import Seen

CHANNEL = "zalo"
log = logging.getLogger(__name__)
UNREADABLE = ("sticker", "voice", "unsupported")
# How long a stop lets the events in hand finish; the rest is taken up after a restart.
STOP_GRACE = 3.0
# A failing event is tried this often before it waits for the next run.
HANDLE_ATTEMPTS = 3


class ZaloChannel:
    """Turns Zalo events into events for the core and sends one message at a time."""

    name = CHANNEL
    abilities = Abilities(
        text_limit=zalo_render.TEXT_LIMIT, buttons=False, edits=False, documents=False
    )
    inbox_first = True

    def __init__(
        self, client: ZaloClient, dispatcher: Dispatcher, links: FileLinks | None = None
    ) -> None:
        self.client, self.dispatcher = client, dispatcher
        self.delivery = Delivery(self, dispatcher, links)
        self.inbox = Inbox(dispatcher.sessions, CHANNEL)
        self.order = ChatOrder()

    def accept(
        self, raw: object, received_at: datetime | None = None
    ) -> asyncio.Future[Any] | None:
        """Take one event as the platform gave it: queued behind its chat's earlier events, to
        be written down and then handled. None (logged) when it is not a usable event."""
        now = received_at or datetime.now(UTC)
        event = parse_event(raw, now)
        if event is None:
            log.warning("zalo: an event that could not be read was set aside")
            return None
        # Kept with the time it came, which stands in for a `date` the event may lack.
        update = {"event": raw, "received_at": int(now.timestamp() * 1000)}
        payload = {"chat_id": event.chat_id, "update": update}
        taken = self.order.submit(event.chat_id, partial(self._take, event, payload))
        taken.add_done_callback(partial(_log_failure, event.message_id))
        return taken

    async def resume(self) -> None:
        """Take up again what a previous run wrote down and did not answer, oldest first
        (queued ahead of anything new, so each chat keeps its order)."""
        for key, payload in await inbox.pending(self.dispatcher.sessions, CHANNEL):
            update = payload.get("update") or {}
            taken = self.accept(update.get("event"), millis_to_utc(update.get("received_at")))
            if taken is None:
                await self.dispatcher.close_inbox(CHANNEL, [key])

    async def close(self) -> None:
        """Finish the events in hand (briefly), then the channel's own outbox dispatcher."""
        await self.order.close(STOP_GRACE)
        await self.delivery.close()

    def incoming(self, raw: dict[str, Any]) -> Incoming | None:
        """The event kept in the inbox (without its files: see `_take`)."""
        event = parse_event(raw.get("event"), millis_to_utc(raw.get("received_at")))
        return None if event is None else self.to_incoming(event)

    def option_lines(self, reply: Reply, lang: str) -> list[str]:
        return zalo_render.option_lines(reply, lang)

    async def send(self, chat_id: str, message: Message) -> None:
        try:
            if isinstance(message, Photo):
                await self._send_photo(chat_id, message)
            else:
                await self.client.send_message(chat_id, message.text)
        except ZaloRetryAfter as exc:
            raise ChatFlooded(exc.retry_after) from None
        except ZaloForbidden as exc:
            raise Unreachable(str(exc)) from None
        except ZaloTransient as exc:
            raise Transient(str(exc)) from None
        # A ZaloPermanent goes on as it is: the outbox marks the message failed with its
        # reason (the chat's later messages still go out).

    async def _send_photo(self, chat_id: str, photo: Photo) -> None:
        """The picture by its URL; its link as text when the platform would not show it (it
        could not fetch the URL, say), so the file still reaches the chat."""
        try:
            await self.client.send_photo(chat_id, photo.url)
        except (ZaloForbidden, ZaloRetryAfter, ZaloTransient):
            raise
        except ZaloPermanent as exc:
            log.warning("zalo: a photo was refused (%s); its link is sent instead", exc.code)
            await self.client.send_message(chat_id, photo.text)

    async def _take(self, event: ZaloEvent, payload: dict[str, Any]) -> bool:
        """Write the event down, then handle it; a failure is tried again a few times (its
        chat waits meanwhile), then left written down for the next run."""
        seen = await self.inbox.remember(event.message_id, payload)
        if seen is Seen.HANDLED:
            log.info("zalo: event %s came again; already answered", event.message_id)
            return True
        for attempt in range(1, HANDLE_ATTEMPTS + 1):
            try:
                incoming = await self._with_files(event, self.to_incoming(event))
                return await self.delivery.handle(incoming)
            except Exception:
                if attempt == HANDLE_ATTEMPTS:
                    raise
                log.exception("zalo event %s failed (attempt %d)", event.message_id, attempt)
                await asyncio.sleep(0.5 * 2**attempt)
        return False

    def to_incoming(self, event: ZaloEvent) -> Incoming:
        """The channel-neutral event; a file's bytes are read by `_with_files`."""
        base: dict[str, Any] = {
            "channel": CHANNEL,
            "chat_id": event.chat_id,
            "sender_id": event.sender_id,
            "sender_name": event.sender_name,
            "received_at": event.date,
            "chat_type": event.chat_type,
            "update_key": event.message_id,
            "message_id": event.message_id,
        }
        if event.kind in UNREADABLE:
            return Incoming(**base, unsupported=True)
        if event.kind == "text":
            text = event.text or ""
            command = command_of(text)
            if command is not None:
                return Incoming(**base, text=text, command=command[0], args=command[1])
            return Incoming(**base, text=text)
        return Incoming(**base, text=event.caption, files=(self._file(event, None),))

    async def _with_files(self, event: ZaloEvent, incoming: Incoming) -> Incoming:
        """The event with its file downloaded now: the platform's links expire."""
        if not incoming.files or event.file_url is None or incoming.chat_type != "private":
            return incoming  # a group's photos are not evidence: never fetched
        limit = self.dispatcher.config.max_file_bytes
        if event.file_size is not None and event.file_size > limit:
            return incoming  # refused by its size; nothing to fetch
        try:
            content: bytes | ZaloError = await self.client.download(event.file_url, limit)
        except ZaloError as exc:
            content = exc  # said to the person by the dialog, when it wants the file
        return replace(incoming, files=(self._file(event, content),))

    def _file(self, event: ZaloEvent, content: bytes | ZaloError | None) -> IncomingFile:
        if event.kind == "image":
            mime = event.mime_type or "image/jpeg"
            suffix = ".png" if mime == "image/png" else ".jpg"
            name = event.file_name or f"anh_{event.message_id}{suffix}"
        else:
            mime = event.mime_type or ""
            name = event.file_name or f"tep_{event.message_id}"

        async def read() -> bytes:
            if isinstance(content, bytes):
                return content
            if content is None:
                raise Transient("the file was not downloaded")
            raise content

        return IncomingFile(name, mime, event.file_size, read)


def _log_failure(key: str, taken: asyncio.Future[Any]) -> None:
    if not taken.cancelled() and taken.exception() is not None:
        log.error(
            "zalo event %s could not be handled; kept for the next run",
            key,
            exc_info=taken.exception(),
        )
