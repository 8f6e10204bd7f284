"""The Telegram channel: Update → Incoming, and one rendered message → a Bot API call.

A thin translator around python-telegram-bot's Application. Everything between an update and
its answer (handling, the outbox rows, splitting, retries, flood holds, unreachable people) is
the core's (bot.channels.delivery, scheduler.outbox_dispatcher); this adapter adds what only
Telegram has: buttons, edits of the prompt a button belonged to, the callback query's spinner,
and file downloads.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram import (
    Message as TelegramMessage,
)
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ApplicationBuilder

from bot.channels import text_split
from bot.channels.base import Abilities, ChatFlooded, Message, Transient, Unreachable
from bot.channels.delivery import Delivery, with_retries
from bot.channels.files import FileLinks
from bot.channels.telegram_http import AiohttpRequest, download
from bot.config import Settings
from handlers.dispatcher import Dispatcher
from handlers.events import Incoming, IncomingFile, Option, Reply, clean_text, command_of

CHANNEL = "telegram"
MAX_TEXT = 4096
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
    return text_split.split_text(text, limit) or [text]


def keyboard(options: Sequence[Option], columns: int = 1) -> InlineKeyboardMarkup | None:
    if not options:
        return None
    columns = max(1, columns)
    buttons = [InlineKeyboardButton(o.label[:64], callback_data=o.id) for o in options]
    rows = [buttons[i : i + columns] for i in range(0, len(buttons), columns)]
    return InlineKeyboardMarkup(rows)


class TelegramChannel:
    """Turns updates into events for the core and sends one rendered message at a time."""

    name = CHANNEL
    abilities = Abilities(text_limit=MAX_TEXT, buttons=True, edits=True, documents=True)
    inbox_first = False  # the polling offset keeps an update until its turn is done

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        dispatcher: Dispatcher,
        links: FileLinks | None = None,
    ) -> None:
        self.application = application
        self.bot: Bot = application.bot
        self.dispatcher = dispatcher
        self.delivery = Delivery(self, dispatcher, links)

    async def handle_update(self, update: Update) -> bool:
        """Handle one update fully; raises only if it must be retried (nothing was lost).

        Returns False when an answer must wait for a flood limit: it is in the outbox and
        goes out when the chat may be written to again, after its chat's earlier answers.
        """
        event = self.to_incoming(update)
        if update.callback_query is not None:
            await self._answer_query(update.callback_query)
        if event is None:
            return True
        return await self.delivery.handle(event)

    async def close(self) -> None:
        """Stop the channel's own outbox dispatcher, if it has one (see Delivery)."""
        await self.delivery.close()

    def incoming(self, raw: dict[str, Any]) -> Incoming | None:
        return self.to_incoming(Update.de_json(raw, self.bot))

    def option_lines(self, reply: Reply, lang: str) -> list[str]:
        return []  # options are buttons here

    async def _answer_query(self, query: CallbackQuery) -> None:
        try:
            await with_retries(partial(self._call, self.bot.answer_callback_query, query.id))
        except BadRequest as exc:  # a query too old to answer still carries its choice
            log.info("could not answer callback query: %s", exc)
        except (ChatFlooded, Unreachable) as exc:  # only the button's spinner: let it be
            log.info("callback query left unanswered: %s", type(exc).__name__)

    def to_incoming(self, update: Update) -> Incoming | None:
        if update.callback_query is not None:
            return self._from_query(update, update.callback_query)
        message = update.message
        if message is None or message.from_user is None:
            return None
        base = self._base(update, message)
        # Cleaned before it is split, so a control character cannot hide a command's end.
        text = clean_text(message.text or message.caption or "")
        command = command_of(text) if message.text else None
        if command is not None:
            return Incoming(**base, text=text, command=command[0], args=command[1])
        return Incoming(**base, text=text or None, files=self._files(message))

    def _base(self, update: Update, message: TelegramMessage) -> dict[str, Any]:
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

    def _files(self, message: TelegramMessage) -> tuple[IncomingFile, ...]:
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

    async def send(self, chat_id: str, message: Message) -> str:
        """Send one message, a prompt edited in place when a button was pressed; the id
        Telegram gave it (an edited message keeps its id)."""
        if message.document is not None:
            doc = message.document
            sent = await self._call(
                self.bot.send_document, chat_id, doc.content, filename=doc.file_name
            )
            return str(sent.message_id)
        markup = keyboard(message.options, message.columns)
        if message.edit_of is not None:
            try:
                await self._call(
                    self.bot.edit_message_text,
                    message.text,
                    chat_id=chat_id,
                    message_id=int(message.edit_of),
                    reply_markup=markup,
                )
                return message.edit_of
            except BadRequest as exc:
                if "not modified" in str(exc).lower():
                    return message.edit_of
                log.info("could not edit message %s (%s); sending anew", message.edit_of, exc)
        sent = await self._call(self.bot.send_message, chat_id, message.text, reply_markup=markup)
        return str(sent.message_id)

    async def _call(self, method: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        """Call the Bot API once, its faults named as the core knows them."""
        try:
            return await method(*args, **kwargs)
        except RetryAfter as exc:
            # Never waited for here: that would hold up whoever shares this task.
            raise ChatFlooded(_seconds(exc.retry_after)) from exc
        except Forbidden as exc:
            raise Unreachable(str(exc)) from exc
        except BadRequest:
            raise
        except (TimedOut, NetworkError) as exc:
            raise Transient(f"{type(exc).__name__}: {exc}") from exc


def _seconds(wait: float | timedelta) -> float:
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
