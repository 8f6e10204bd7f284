"""The one way out: an event handled, its answer rendered, sent and marked, for every channel.

handle → deliver → mark delivered, in that order, so a crash in between resends the answer
when the event comes again (the dispatcher's once-only record keeps it) and never repeats the
step itself. Rendering keeps within what the channel can show (`Abilities`): buttons or
numbered lines, edits or new messages, documents or signed links, and its text limit. Passing
faults are retried with back-off; a person who blocked the bot is marked unreachable; a flood
limit holds that chat's answers only (written down first, so a shutdown loses nothing) while
every other chat goes on.

`render` is the one rendering of a reply for a channel: the answers above and the outbox's
messages (`OutboxSender`, used by scheduler.outbox_dispatcher) both go through it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, TypeVar

from bot.channels.base import Channel, ChatFlooded, Message, Transient, Unreachable
from bot.channels.chat_holds import ChatHolds, Wait
from bot.channels.files import FileLinks
from bot.channels.text_split import split_text
from handlers import notices
from handlers.dispatcher import Dispatcher, utc_now
from handlers.events import Incoming, Reply
from handlers.i18n import t
from scheduler.outbox_dispatcher import (
    DELIVERED,
    Flooded,
    Gone,
    Outcome,
    Passing,
    Refused,
)
from storage.repositories import inbox

log = logging.getLogger(__name__)
T = TypeVar("T")
SEND_ATTEMPTS = 4
Raw = Callable[[], dict[str, Any]]


async def with_retries(call: Callable[[], Awaitable[T]], attempts: int = SEND_ATTEMPTS) -> T:
    """`call()`, tried again after a `Transient` fault with a growing, jittered pause."""
    for attempt in range(1, attempts):
        try:
            return await call()
        except Transient as exc:
            pause = 0.2 * 2**attempt + random.random() * 0.2
            log.info("send failed (%s); retrying in %.1fs", exc, pause)
            await asyncio.sleep(pause)
    return await call()


@dataclass(frozen=True)
class Outgoing:
    """An event's answer on its way: where it goes, what remains to send, how to close it."""

    chat_id: str
    replies: list[Reply]
    message_id: str | None
    person: str | None  # set in a private chat: who is unreachable if the bot is blocked
    delivery_key: str | None
    update_key: str | None


class Delivery:
    """Handles a channel's events through the dispatcher and delivers the answers."""

    def __init__(
        self, channel: Channel, dispatcher: Dispatcher, links: FileLinks | None = None
    ) -> None:
        self.channel, self.dispatcher, self.links = channel, dispatcher, links
        self.holds: ChatHolds[Outgoing] = ChatHolds(self._send_held)

    async def handle(self, event: Incoming, raw: Raw | None = None, resumed: bool = False) -> bool:
        """Handle one event fully; raises only if it must be retried (nothing was lost).

        Returns False when the answer was held for a flood limit: it is written down (`raw`
        is the platform's payload, to rebuild the event after a restart) and goes out when
        the chat may be written to again, or after a restart.
        """
        handled = await self.dispatcher.handle(event)
        out = Outgoing(
            event.chat_id,
            handled.replies,
            event.message_id,
            event.sender_id if event.chat_type == "private" else None,
            handled.delivery_key,
            event.update_key,
        )
        forget = resumed or self.channel.inbox_first
        if not out.replies:  # nothing to say (e.g. a redelivery already answered)
            await self._delivered(out, forget=forget)
            return True
        if self.holds.holding(out.chat_id):  # answers to one chat go out in order
            await self._hold(out, raw, 0.0)
            return False
        try:
            await self.deliver(out.chat_id, out.replies, out.message_id, out.person)
        except ChatFlooded as flood:
            await self._hold(replace(out, replies=flood.unsent), raw, flood.seconds)
            return False
        await self._delivered(out, forget=forget)
        return True

    async def resume_held(self) -> None:
        """Handle what a previous run wrote down and did not answer, oldest first."""
        for key, payload in await inbox.pending(self.dispatcher.sessions, self.channel.name):
            try:
                event = self.channel.incoming(payload.get("update") or {})
                if event is None:
                    log.warning("%s inbox row %s holds no event; closed", self.channel.name, key)
                    await self.dispatcher.mark_delivered(None, (self.channel.name, key))
                    continue
                await self.handle(event, partial(dict, payload["update"]), resumed=True)
            except Exception:
                log.exception("a held answer (event %s) could not be sent; kept for later", key)

    async def close(self) -> None:
        """Stop waiting for flood limits; what is held stays written down for the next run."""
        await self.holds.close()

    async def deliver(
        self, chat_id: str, replies: Sequence[Reply], message_id: str | None, person: str | None
    ) -> None:
        """Send each reply in order, each as the messages the channel can show.

        Raises ChatFlooded, naming the replies not sent, when the platform asks this chat to
        wait; a chat that blocked the bot ends the sending and, in a private chat, marks the
        person unreachable on this channel.
        """
        try:
            for index, reply in enumerate(replies):
                try:
                    for message in await self.render(reply, message_id):
                        await with_retries(partial(self.channel.send, chat_id, message))
                except ChatFlooded as flood:
                    flood.unsent = list(replies[index:])
                    raise
        except Unreachable:
            log.info("%s chat %s blocked the bot; marked unreachable", self.channel.name, chat_id)
            if person:
                await self.dispatcher.mark_unreachable(self.channel.name, person)

    async def render(self, reply: Reply, message_id: str | None) -> list[Message]:
        """`reply` as the messages this channel can show, each within its text limit."""
        lang = reply.extras.get("lang") or self.dispatcher.config.default_language
        return await render(self.channel, reply, lang, self.links, message_id)

    async def _hold(self, out: Outgoing, raw: Raw | None, seconds: float) -> None:
        # Written down before the platform is told the event was taken, so a shutdown loses
        # nothing; a channel that writes every event down first has its row already.
        if out.update_key and raw is not None:
            payload = {"chat_id": out.chat_id, "update": raw()}
            await inbox.remember(
                self.dispatcher.sessions, self.channel.name, out.update_key, payload, utc_now()
            )
        name = self.channel.name
        if seconds:
            log.info("%s chat %s is held for %.0fs (flood limit)", name, out.chat_id, seconds)
        else:
            log.info("%s chat %s: an answer queued behind its held ones", name, out.chat_id)
        self.holds.hold(out.chat_id, seconds, out)

    async def _send_held(self, out: Outgoing) -> Wait[Outgoing] | None:
        try:
            await self.deliver(out.chat_id, out.replies, out.message_id, out.person)
        except ChatFlooded as flood:
            return Wait(flood.seconds, replace(out, replies=flood.unsent))
        await self._delivered(out, forget=True)
        return None

    async def _delivered(self, out: Outgoing, *, forget: bool) -> None:
        closing = (self.channel.name, out.update_key) if forget and out.update_key else None
        await self.dispatcher.mark_delivered(out.delivery_key, closing)


async def render(
    channel: Channel,
    reply: Reply,
    lang: str,
    links: FileLinks | None = None,
    message_id: str | None = None,
) -> list[Message]:
    """`reply` as the messages `channel` can show, each within its text limit: options as
    buttons or numbered lines, files as documents or signed links, the prompt a button
    belonged to (`message_id`) edited in place where the channel can."""
    abilities = channel.abilities
    lines = [reply.text]
    if reply.options and not abilities.buttons:
        lines += channel.option_lines(reply, lang)
    documents = reply.files
    if documents and not abilities.documents:
        lines += await _links(channel, reply, lang, links)
        documents = ()
    text = "\n".join(lines)
    pieces = split_text(text, abilities.text_limit) or [text]
    options = reply.options if abilities.buttons else ()
    messages = [Message(piece) for piece in pieces[:-1]]
    messages.append(Message(pieces[-1], options, reply.columns))
    if abilities.edits and reply.replace_prompt and message_id and len(pieces) == 1:
        messages[0] = replace(messages[0], edit_of=message_id)
    return messages + [Message("", document=file) for file in documents]


async def _links(channel: Channel, reply: Reply, lang: str, links: FileLinks | None) -> list[str]:
    if links is None:
        log.warning("%s cannot take files and no link service is set", channel.name)
        return []
    lines = []
    for file in reply.files:
        url = await links.publish(file, utc_now())
        lines.append(t(lang, "zalo_file_link", name=file.file_name, url=url))
    return lines


# Refusals that say the chat is gone, whatever error carried them (Telegram answers "chat not
# found" as a bad request, not as a 403).
_GONE = re.compile(r"chat not found|user not found|bot was kicked|user is deactivated", re.I)


class OutboxSender:
    """A channel as the outbox dispatcher uses it: a row's payload rendered by the one
    `render` above, one message sent, the answer named as an outcome. No retries here: the
    dispatcher has the one retry policy and the channel's pace."""

    def __init__(
        self,
        channel: Channel,
        links: FileLinks | None,
        default_language: str,
        is_group: Callable[[str], bool] = lambda chat_id: False,
    ) -> None:
        self.channel, self.links, self.default_language = channel, links, default_language
        self._is_group = is_group

    async def prepare(self, chat_id: str, payload: Mapping[str, Any]) -> list[Message]:
        reply = notices.reply_of(dict(payload))
        lang = reply.extras.get("lang") or self.default_language
        return await render(self.channel, reply, lang, self.links)

    async def send(self, chat_id: str, message: Any) -> Outcome:
        try:
            await self.channel.send(chat_id, message)
        except ChatFlooded as flood:
            return Flooded(flood.seconds, str(flood))
        except Unreachable as exc:
            return Gone(str(exc) or type(exc).__name__)
        except Transient as exc:
            return Passing(str(exc) or type(exc).__name__)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            return Gone(reason) if _GONE.search(reason) else Refused(reason)
        return DELIVERED

    def is_group(self, chat_id: str) -> bool:
        return self._is_group(chat_id)
