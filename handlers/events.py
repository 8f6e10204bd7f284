"""The channel-neutral language between channel adapters and the dialogs.

An adapter turns its platform's update into an `Incoming`, hands it to the dispatcher, and
renders the `Reply` list it gets back: options as inline keyboards on Telegram, numbered lines
on Zalo and the console.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

ChatType = Literal["private", "group"]


@dataclass(frozen=True)
class IncomingFile:
    """A file the user sent; `read` downloads its bytes only when the dialog accepts it."""

    file_name: str
    mime_type: str
    size: int | None
    read: Callable[[], Awaitable[bytes]]


@dataclass(frozen=True)
class Incoming:
    """One thing a person did: typed text, a command, a chosen option or sent files."""

    channel: str
    chat_id: str
    sender_id: str
    sender_name: str
    received_at: datetime
    chat_type: ChatType = "private"
    text: str | None = None
    command: str | None = None  # lower case, without the slash and without @botname
    args: tuple[str, ...] = ()
    option_id: str | None = None  # the opaque id of a chosen Option (callback data)
    files: tuple[IncomingFile, ...] = ()
    update_key: str | None = None  # unique per platform update, for handling it once
    message_id: str | None = None  # the message a chosen option belongs to


@dataclass(frozen=True)
class Option:
    """A choice offered to the user; `id` is opaque and re-checked when it comes back."""

    id: str
    label: str


@dataclass(frozen=True)
class OutgoingFile:
    file_name: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Reply:
    """Something to show: text, optional options, optional files.

    `replace_prompt` asks the adapter to edit the dialog's previous prompt in place where the
    platform can (Telegram), and to send a new message where it cannot (Zalo, console).
    """

    text: str
    options: tuple[Option, ...] = ()
    files: tuple[OutgoingFile, ...] = ()
    replace_prompt: bool = False
    columns: int = 1
    extras: dict[str, str] = field(default_factory=dict)
