"""What a channel is, seen from the core: a platform's events in, one rendered message out.

An adapter (Telegram, Zalo, the console) turns its platform's update into an `Incoming`,
says what it can show (`Abilities`) and sends one `Message`; everything between (the outbox
rows, splitting, retries, flood holds, unreachable people) is bot.channels.delivery's and the
outbox dispatcher's, written once for all of them. A send ends in one of four ways: done,
`ChatFlooded` (this chat must wait), `Unreachable` (the person blocked the bot), `Transient`
(try again soon); any other exception is a refusal that retrying would not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from handlers.events import Incoming, Option, OutgoingFile, Reply


@dataclass(frozen=True)
class Abilities:
    """What a platform can show; the core renders a reply within these."""

    text_limit: int  # the longest text one message may carry
    buttons: bool  # options as buttons; otherwise as numbered lines of text
    edits: bool  # a prompt can be replaced in place
    documents: bool  # files can be uploaded; otherwise they go out as signed links


@dataclass(frozen=True)
class Message:
    """One message as the platform will show it: a text, or a document."""

    text: str
    options: tuple[Option, ...] = ()  # as buttons (only where Abilities.buttons)
    columns: int = 1
    edit_of: str | None = None  # the message this one replaces, where Abilities.edits
    document: OutgoingFile | None = None


class ChatFlooded(Exception):
    """The platform refused a call to this chat for `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"flood limit: wait {seconds:g}s")
        self.seconds = seconds


class Unreachable(Exception):
    """The chat cannot be written to (the person blocked the bot, or left)."""


class Transient(Exception):
    """A fault that may pass (network, timeout, a server error): the same call may succeed."""


class Channel(Protocol):
    """The small interface every adapter offers to the core."""

    name: str
    abilities: Abilities
    # True when every event is written to the inbox before it is handled (a platform without
    # offsets, such as Zalo): the row is closed in the step's transaction (its answer is then
    # in the outbox).
    inbox_first: bool

    def incoming(self, raw: dict[str, Any]) -> Incoming | None:
        """The event in a platform payload kept in the inbox, or None if it holds none."""
        ...

    def option_lines(self, reply: Reply, lang: str) -> list[str]:
        """A reply's options as lines of text, for a platform without buttons."""
        ...

    async def send(self, chat_id: str, message: Message) -> str | None:
        """Send one message; raises ChatFlooded, Unreachable, Transient or a refusal. Returns
        the platform's id of the message (the one edited, for an edit), or None where the
        platform gives none (an adapter may simply return nothing)."""
        ...


# Each channel's webhook path on the one HTTP server; WEBHOOK_URL may name any of them.
WEBHOOK_PATHS = ("/telegram/webhook", "/zalo/webhook")


def webhook_url_for(webhook_url: str, path: str) -> str:
    """WEBHOOK_URL with `path` as its path's end (any other channel's path replaced)."""
    url = webhook_url.rstrip("/")
    for known in WEBHOOK_PATHS:
        if url.endswith(known):
            url = url[: -len(known)]
            break
    return url + path


class Service(Protocol):
    """A channel as `tiendo run` starts it: connect, receive until stopped, close."""

    label: str

    async def open(self) -> None:
        """Connect to the platform and say who the bot is; UserError if it cannot."""
        ...

    def routes(self) -> list[Any]:
        """The aiohttp routes this channel serves in webhook mode."""
        ...

    async def serve(self, stop: Any) -> None:
        """Receive and answer events until `stop` (an asyncio.Event) is set."""
        ...

    async def close(self) -> None: ...
