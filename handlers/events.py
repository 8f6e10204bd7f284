"""The channel-neutral language between channel adapters and the dialogs.

An adapter turns its platform's update into an `Incoming`, hands it to the dispatcher, and
renders the `Reply` list it gets back: options as inline keyboards on Telegram, numbered lines
on Zalo and the console.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

ChatType = Literal["private", "group"]

# C0 and C1 controls (but tab and line feed), DEL, and lone surrogates: invisible in a chat,
# refused by PostgreSQL (NUL) or by any UTF-8 encoder (surrogates), never meant by a person.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"\r\n?")
_ONE_LINE = re.compile(r"[\t\n]+")


def clean_text(text: str) -> str:
    """`text` without control characters; new lines (CR LF and CR become LF) and tabs stay."""
    if text.isprintable():  # the common case, and much cheaper than the substitutions
        return text
    return _CONTROLS.sub("", _LINE_BREAKS.sub("\n", text))


def clean_line(text: str) -> str:
    """A name on one line: control characters dropped, tabs and new lines made spaces."""
    return _ONE_LINE.sub(" ", clean_text(text)).strip()


def command_of(text: str) -> tuple[str, tuple[str, ...]] | None:
    """The command and its arguments in a text such as "/start ABC123" or "/start@bot ABC",
    or None when the text is not a command. Commands are lower case, without the bot's name."""
    if not text.startswith("/") or len(text) < 2 or text[1].isspace():
        return None
    head, *args = text.split()
    return head[1:].split("@", 1)[0].lower(), tuple(args)


@dataclass(frozen=True)
class IncomingFile:
    """A file the user sent; `read` downloads its bytes only when the dialog accepts it."""

    file_name: str
    mime_type: str
    size: int | None
    # A channel that caps downloads returns at most the cap plus one byte: a longer result
    # than the dialog's limit means the file is too big, whatever its real length.
    read: Callable[[], Awaitable[bytes]]

    def __post_init__(self) -> None:
        # Every channel builds its files here, so none can hand a handler a raw name.
        object.__setattr__(self, "file_name", clean_line(self.file_name))


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
    # A kind of message no dialog reads (a sticker, a voice message): answered with a hint.
    unsupported: bool = False

    def __post_init__(self) -> None:
        # Every channel builds its events here, so no handler ever sees a control character:
        # what a person typed is cleaned once, at the edge, whichever channel it came by.
        # (Callback data is left as sent: it is an opaque id that its own parser checks.)
        fields = {
            "sender_name": clean_line(self.sender_name),
            "text": None if self.text is None else clean_text(self.text),
            "command": None if self.command is None else clean_line(self.command),
            "args": tuple(a for a in (clean_line(arg) for arg in self.args) if a),
        }
        for name, value in fields.items():
            object.__setattr__(self, name, value)
        caption = command_of(self.text or "") if self.files and self.command is None else None
        if caption is not None:  # a file sent with a command as its caption ("/nhap" on a file)
            object.__setattr__(self, "command", caption[0])
            object.__setattr__(self, "args", caption[1])


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
