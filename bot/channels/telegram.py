"""The Telegram channel: Update → Incoming, Reply → messages with inline keyboards.

A thin translator around python-telegram-bot's Application. Each update is handed to the
dispatcher; its replies are sent, then marked delivered, so a crash in between resends them
when the update comes again, and never repeats the step itself.

A flood limit (429 with `retry_after`) holds that chat's answers only: the update is written
down (bot.channels.inbox) and its answer queued for the chat (bot.channels.chat_holds), so
the poller and every other chat go on; after a restart, `resume_held` sends what was held.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ApplicationBuilder

from bot.channels import inbox
from bot.channels.chat_holds import ChatHolds, Wait
from bot.channels.telegram_http import AiohttpRequest, download
from bot.config import Settings
from handlers.dispatcher import Dispatcher, utc_now
from handlers.events import Incoming, IncomingFile, Reply, clean_text

CHANNEL = "telegram"
MAX_TEXT = 4096
SEND_ATTEMPTS = 4
log = logging.getLogger(__name__)


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    base = settings.telegram_api_base_url.rstrip("/")
    return (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .request(AiohttpRequest())
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .updater(None)
        .build()
    )


async def bot_username(settings: Settings) -> str | None:
    """The bot's @username from getMe, or None without a token or when the API cannot answer."""
    if not settings.telegram_bot_token:
        return None
    base = settings.telegram_api_base_url.rstrip("/")
    bot = Bot(settings.telegram_bot_token, base_url=f"{base}/bot", request=AiohttpRequest())
    try:
        async with bot:
            return (await bot.get_me()).username
    except (NetworkError, InvalidToken, Forbidden) as exc:
        log.warning("getMe failed: %s", type(exc).__name__)
        return None


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` characters, cut at line ends (at spaces for a long line)."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            pieces, current = _flush(pieces, current), ""
            pieces.append(line[:cut])
            line = line[cut:].lstrip(" ")
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces, current = _flush(pieces, current), line
        else:
            current = candidate
    return _flush(pieces, current) or [""]


def _flush(pieces: list[str], current: str) -> list[str]:
    return [*pieces, current] if current else pieces


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.options:
        return None
    columns = max(1, reply.columns)
    buttons = [InlineKeyboardButton(o.label[:64], callback_data=o.id) for o in reply.options]
    rows = [buttons[i : i + columns] for i in range(0, len(buttons), columns)]
    return InlineKeyboardMarkup(rows)


class ChatFlooded(Exception):
    """Telegram refused a call to this chat for `seconds` (a flood limit); `unsent` remains."""

    def __init__(self, seconds: float, unsent: list[Reply] | None = None) -> None:
        super().__init__(f"flood limit: wait {seconds:g}s")
        self.seconds, self.unsent = seconds, unsent or []


@dataclass(frozen=True)
class Outgoing:
    """An update's answer on its way: where it goes, what remains to send, how to close it."""

    chat_id: str
    replies: list[Reply]
    message_id: str | None
    person: str | None  # set in a private chat: who is unreachable if the bot is blocked
    delivery_key: str | None
    update_key: str


class TelegramChannel:
    """Turns updates into events for the dispatcher and delivers its replies."""

    def __init__(self, application: Application, dispatcher: Dispatcher) -> None:  # type: ignore[type-arg]
        self.application = application
        self.bot: Bot = application.bot
        self.dispatcher = dispatcher
        self.holds: ChatHolds[Outgoing] = ChatHolds(self._send_held)

    async def handle_update(self, update: Update, *, resumed: bool = False) -> bool:
        """Handle one update fully; raises only if it must be retried (nothing was lost).

        Returns False when the answer was held for a flood limit: it is written down and
        goes out when the chat may be written to again, or after a restart.
        """
        event = self.to_incoming(update)
        if update.callback_query is not None and not resumed:
            await self._answer_query(update.callback_query)
        if event is None:
            return True
        handled = await self.dispatcher.handle(event)
        out = Outgoing(
            event.chat_id,
            handled.replies,
            event.message_id,
            event.sender_id if event.chat_type == "private" else None,
            handled.delivery_key,
            str(update.update_id),
        )
        if not out.replies:  # nothing to say (e.g. a redelivery already answered)
            await self._delivered(out, forget=resumed)
            return True
        if self.holds.holding(out.chat_id):  # answers to one chat go out in order
            await self._hold(out, update, 0.0)
            return False
        try:
            await self.deliver(out.chat_id, out.replies, out.message_id, out.person)
        except ChatFlooded as flood:
            await self._hold(replace(out, replies=flood.unsent), update, flood.seconds)
            return False
        await self._delivered(out, forget=resumed)
        return True

    async def resume_held(self) -> None:
        """Send the answers a previous run held for a flood limit and could not send."""
        for key, payload in await inbox.pending(self.dispatcher.sessions, CHANNEL):
            try:
                update = Update.de_json(payload["update"], self.bot)
                await self.handle_update(update, resumed=True)
            except Exception:
                log.exception("a held answer (update %s) could not be sent; kept for later", key)

    async def close(self) -> None:
        """Stop waiting for flood limits; what is held stays written down for the next run."""
        await self.holds.close()

    async def _answer_query(self, query: CallbackQuery) -> None:
        try:
            await self._call(self.bot.answer_callback_query, query.id)
        except BadRequest as exc:  # a query too old to answer still carries its choice
            log.info("could not answer callback query: %s", exc)
        except ChatFlooded:  # only the button's spinner: not worth holding anything for
            log.info("callback query left unanswered: flood limit")

    async def _hold(self, out: Outgoing, update: Update, seconds: float) -> None:
        # Written down before the poller confirms the update, so a shutdown loses nothing.
        payload = {"chat_id": out.chat_id, "update": update.to_dict()}
        now = utc_now()
        await inbox.remember(self.dispatcher.sessions, CHANNEL, out.update_key, payload, now)
        if seconds:
            log.info("telegram chat %s is held for %.0fs (flood limit)", out.chat_id, seconds)
        else:
            log.info("telegram chat %s: an answer queued behind its held ones", out.chat_id)
        self.holds.hold(out.chat_id, seconds, out)

    async def _send_held(self, out: Outgoing) -> Wait[Outgoing] | None:
        try:
            await self.deliver(out.chat_id, out.replies, out.message_id, out.person)
        except ChatFlooded as flood:
            return Wait(flood.seconds, replace(out, replies=flood.unsent))
        await self._delivered(out, forget=True)
        return None

    async def _delivered(self, out: Outgoing, *, forget: bool) -> None:
        if out.delivery_key:
            await self.dispatcher.mark_delivered(out.delivery_key)
        if forget:
            await inbox.forget(self.dispatcher.sessions, CHANNEL, out.update_key, utc_now())

    def to_incoming(self, update: Update) -> Incoming | None:
        if update.callback_query is not None:
            return self._from_query(update, update.callback_query)
        message = update.message
        if message is None or message.from_user is None:
            return None
        base = self._base(update, message)
        # Cleaned before it is split, so a control character cannot hide a command's end.
        text = clean_text(message.text or message.caption or "")
        if message.text and text.startswith("/"):
            head, *args = text.split()
            command = head[1:].split("@", 1)[0].lower()
            return Incoming(**base, text=text, command=command, args=tuple(args))
        return Incoming(**base, text=text or None, files=self._files(message))

    def _base(self, update: Update, message: Message) -> dict[str, Any]:
        user = message.from_user
        assert user is not None
        return {
            "channel": CHANNEL,
            "chat_id": str(message.chat.id),
            "sender_id": str(user.id),
            "sender_name": user.full_name,
            "received_at": _utc(message.date),
            "chat_type": "private" if message.chat.type == "private" else "group",
            "update_key": str(update.update_id),
            "message_id": str(message.message_id),
        }

    def _from_query(self, update: Update, query: CallbackQuery) -> Incoming | None:
        message = query.message
        if message is None or not query.data:
            return None
        return Incoming(
            channel=CHANNEL,
            chat_id=str(message.chat.id),
            sender_id=str(query.from_user.id),
            sender_name=query.from_user.full_name,
            received_at=datetime.now(UTC),
            chat_type="private" if message.chat.type == "private" else "group",
            option_id=query.data,
            update_key=str(update.update_id),
            message_id=str(message.message_id),
        )

    def _files(self, message: Message) -> tuple[IncomingFile, ...]:
        if message.document is not None:
            doc = message.document
            return (
                IncomingFile(
                    doc.file_name or f"tep_{doc.file_unique_id}",
                    doc.mime_type or "",
                    doc.file_size,
                    self._reader(doc.file_id),
                ),
            )
        if message.photo:
            photo = message.photo[-1]
            return (
                IncomingFile(
                    f"anh_{photo.file_unique_id}.jpg",
                    "image/jpeg",
                    photo.file_size,
                    self._reader(photo.file_id),
                ),
            )
        return ()

    def _reader(self, file_id: str) -> Callable[[], Awaitable[bytes]]:
        limit = self.dispatcher.config.max_file_bytes

        async def read() -> bytes:
            file = await self.bot.get_file(file_id)
            if not file.file_path:
                raise BadRequest("the Bot API gave no path for this file")
            # Streamed and cut after the limit: `file_size` may be missing or wrong.
            return await download(file.file_path, limit)

        return read

    async def deliver(
        self, chat_id: str, replies: list[Reply], message_id: str | None, person: str | None
    ) -> None:
        """Send each reply; the dialog's prompt is edited in place when a button was pressed.

        Raises ChatFlooded, naming the replies not sent, when Telegram asks this chat to wait.
        """
        try:
            for index, reply in enumerate(replies):
                try:
                    await self._send_one(chat_id, reply, message_id)
                except ChatFlooded as flood:
                    flood.unsent = replies[index:]
                    raise
        except Forbidden:
            log.info("telegram chat %s blocked the bot; marked unreachable", chat_id)
            if person:
                await self.dispatcher.mark_unreachable(CHANNEL, person)

    async def _send_one(self, chat_id: str, reply: Reply, message_id: str | None) -> None:
        pieces = split_text(reply.text)
        markup = keyboard(reply)
        if reply.replace_prompt and message_id and len(pieces) == 1:
            try:
                await self._call(
                    self.bot.edit_message_text,
                    pieces[0],
                    chat_id=chat_id,
                    message_id=int(message_id),
                    reply_markup=markup,
                )
                return
            except BadRequest as exc:
                if "not modified" in str(exc).lower():
                    return
                log.info("could not edit message %s (%s); sending anew", message_id, exc)
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            await self._call(
                self.bot.send_message, chat_id, piece, reply_markup=markup if last else None
            )
        for file in reply.files:
            await self._call(self.bot.send_document, chat_id, file.content, filename=file.file_name)

    async def _call(self, method: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        """Call the Bot API, retrying passing network faults; a flood limit is ChatFlooded."""
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                return await method(*args, **kwargs)
            except RetryAfter as exc:
                # Never waited for here: that would hold up whoever shares this task.
                raise ChatFlooded(_seconds(exc.retry_after)) from exc
            except (TimedOut, NetworkError) as exc:
                if isinstance(exc, BadRequest | Forbidden) or attempt == SEND_ATTEMPTS:
                    raise
                await asyncio.sleep(0.2 * 2**attempt + random.random() * 0.2)
        raise TimedOut("gave up after retries")


def _seconds(wait: float | timedelta) -> float:
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
