"""The one way out: an event handled, its replies written to the outbox and sent at once.

`Delivery.handle` runs the step (handlers.dispatcher), which writes its replies as outbox rows
in its own transaction, already held by this process's outbox dispatcher; the rows then go
straight to that dispatcher's lane for the chat (`send_now`): no claim, no added latency, and
one retry policy, one rate limiter and one order per chat for replies, notices and digests
alike. A process killed between the commit and the send leaves the rows to whichever process
is alive once their lease runs out; a redelivered update does nothing more.

`render` is the one rendering of a reply for a channel, within what it can show (`Abilities`):
buttons or numbered lines, edits or new messages, documents or signed links, and its text
limit. `OutboxSender` is a channel as the outbox dispatcher sends through it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from bot.channels.base import Channel, ChatFlooded, Message, Transient, Unreachable
from bot.channels.files import FileLinks
from bot.channels.text_split import split_text
from handlers import notices
from handlers.dispatcher import Dispatcher, utc_now
from handlers.events import Incoming, OutgoingFile, Reply
from handlers.i18n import t
from scheduler import rate_limit
from scheduler.outbox_dispatcher import (
    Delivered,
    Flooded,
    Gone,
    OutboxDispatcher,
    Outcome,
    Passing,
    Refused,
    new_instance,
)
from scheduler.rate_limit import ChannelLimits
from storage.repositories.outbox import EDIT_FILES, EDIT_IDS

log = logging.getLogger(__name__)
T = TypeVar("T")
SEND_ATTEMPTS = 4
# The pace of a channel whose own dispatcher a Delivery makes (without `tiendo run`'s): the
# platform's defaults; the console has none.
LIMITS = {"telegram": rate_limit.TELEGRAM, "zalo": rate_limit.ZALO}
NO_LIMIT = ChannelLimits(per_second=1000.0, chat_seconds=0.0)


async def with_retries(call: Callable[[], Awaitable[T]], attempts: int = SEND_ATTEMPTS) -> T:
    """`call()`, tried again after a `Transient` fault with a growing, jittered pause (for a
    call that is not a message, such as a button's spinner)."""
    for attempt in range(1, attempts):
        try:
            return await call()
        except Transient as exc:
            pause = 0.2 * 2**attempt + random.random() * 0.2
            log.info("call failed (%s); retrying in %.1fs", exc, pause)
            await asyncio.sleep(pause)
    return await call()


class Delivery:
    """Handles a channel's events through the dispatcher and sends the replies through the
    outbox dispatcher: `tiendo run`'s (`use`), or else one of its own for this channel that
    only sends what it is handed (tests, benchmarks, the console)."""

    def __init__(
        self, channel: Channel, dispatcher: Dispatcher, links: FileLinks | None = None
    ) -> None:
        self.channel, self.dispatcher, self.links = channel, dispatcher, links
        limits = LIMITS.get(channel.name, NO_LIMIT)
        self.outbox = OutboxDispatcher(
            dispatcher.sessions,
            {channel.name: self.sender()},
            {channel.name: limits},
            new_instance(),
        )
        self._own = True

    def sender(self, is_group: Callable[[str], bool] = lambda chat_id: False) -> OutboxSender:
        """This channel as an outbox dispatcher sends through it."""
        config = self.dispatcher.config
        return OutboxSender(
            self.channel, self.links, config.default_language, is_group, config.data_dir
        )

    async def use(self, outbox: OutboxDispatcher) -> None:
        """Send through `outbox` (the process's one dispatcher) from now on."""
        if self._own:
            await self.outbox.close()
        self.outbox, self._own = outbox, False

    async def handle(self, event: Incoming) -> bool:
        """Handle one event fully; raises only if it must be retried (nothing was lost).

        True once its replies went out (or failed for good); False when one must wait (its
        chat is held by the platform): it goes out later, in order, from the outbox.
        """
        handled = await self.dispatcher.handle(
            event, self.outbox.holder, close_inbox=self.channel.inbox_first
        )
        return await self.outbox.send_now(handled.rows)

    async def close(self) -> None:
        """Stop this channel's own dispatcher (sends in progress finish or are given back)."""
        if self._own:
            await self.outbox.close()


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
    dispatcher has the one retry policy and the channel's pace.

    A payload's ``files`` (see scheduler.digest) are read from `data_dir` and go out as
    documents, or as signed links where the channel takes no documents; ``edit_of`` names the
    prompt a pressed button belonged to (edited in place where the channel can)."""

    def __init__(
        self,
        channel: Channel,
        links: FileLinks | None,
        default_language: str,
        is_group: Callable[[str], bool] = lambda chat_id: False,
        data_dir: Path | None = None,
    ) -> None:
        self.channel, self.links, self.default_language = channel, links, default_language
        self._is_group, self.data_dir = is_group, data_dir

    async def prepare(self, chat_id: str, payload: Mapping[str, Any]) -> list[Message]:
        reply = notices.reply_of(dict(payload))
        files = await self._files(payload.get("files") or [])
        if files:
            reply = replace(reply, files=files)
        lang = reply.extras.get("lang") or self.default_language
        if EDIT_IDS in payload:
            documents = int(payload.get(EDIT_FILES) or 0)
            return await self._edits(reply, lang, payload[EDIT_IDS], documents)
        edit_of = payload.get("edit_of")
        return await render(self.channel, reply, lang, self.links, edit_of and str(edit_of))

    async def _edits(
        self, reply: Reply, lang: str, ids: list[str | None], files: int
    ) -> list[Message]:
        """`reply`'s text written over the text messages of an earlier row (`ids`, of which the
        last `files` were its documents): piece by piece, split as that row's text was, so a
        change in one part edits that part (the others are "not modified", which is fine).
        Cut into as many pieces as there are messages when it is shorter; a piece more than
        there were messages (it grew) goes out as a new message."""
        texts = ids[: len(ids) - files] if self.channel.abilities.documents else ids
        messages = await render(self.channel, replace(reply, files=()), lang, self.links)
        pieces = _spread([m.text for m in messages], len(texts))
        return [
            Message(piece, edit_of=texts[i] if i < len(texts) else None)
            for i, piece in enumerate(pieces)
        ]

    async def _files(self, kept: list[dict[str, str]]) -> tuple[OutgoingFile, ...]:
        if not kept:
            return ()
        if self.data_dir is None:
            raise ValueError("a message with files and no data folder to read them from")
        root = self.data_dir
        contents = [await asyncio.to_thread((root / f["path"]).read_bytes) for f in kept]
        return tuple(
            OutgoingFile(f["file_name"], content, f.get("mime_type") or "application/octet-stream")
            for f, content in zip(kept, contents, strict=True)
        )

    async def send(self, chat_id: str, message: Any) -> Outcome:
        try:
            message_id = await self.channel.send(chat_id, message)
        except ChatFlooded as flood:
            return Flooded(flood.seconds, str(flood))
        except Unreachable as exc:
            return Gone(str(exc) or type(exc).__name__)
        except Transient as exc:
            return Passing(str(exc) or type(exc).__name__)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            return Gone(reason) if _GONE.search(reason) else Refused(reason)
        return Delivered(message_id)

    def is_group(self, chat_id: str) -> bool:
        return self._is_group(chat_id)


def _spread(pieces: list[str], count: int) -> list[str]:
    """`pieces` cut further at line ends, the last piece of several lines in two, until there
    are `count` of them (or no piece has two lines left): a shorter text still fills every
    message it replaces, and the pieces before the cut stay as they were."""
    pieces = list(pieces)
    while len(pieces) < count:
        cuttable = [i for i, piece in enumerate(pieces) if "\n" in piece]
        if not cuttable:
            break
        lines = pieces[cuttable[-1]].split("\n")
        half = len(lines) // 2
        pieces[cuttable[-1] : cuttable[-1] + 1] = ["\n".join(lines[:half]), "\n".join(lines[half:])]
    return pieces
