"""The console channel: the same dialogs in a terminal, options as numbered lines."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bot.channels.base import Abilities, Message
from bot.channels.delivery import Delivery
from handlers.dispatcher import Dispatcher
from handlers.events import Incoming, IncomingFile, Reply
from handlers.i18n import t

CHANNEL = "console"


def render(reply: Reply) -> str:
    """A reply as terminal text: options numbered unless the answer is a number itself."""
    return "\n".join([reply.text, *option_lines(reply)])


def option_lines(reply: Reply) -> list[str]:
    if not reply.options:
        return []
    if reply.extras.get("numbered", "1") == "1":
        return [f"  {i}. {option.label}" for i, option in enumerate(reply.options, start=1)]
    return ["  " + " · ".join(option.label for option in reply.options)]


class ConsoleChannel:
    """The terminal as a channel: one person, options as numbered lines, no edits or files."""

    name = CHANNEL
    abilities = Abilities(text_limit=1_000_000, buttons=False, edits=False, documents=False)
    inbox_first = False

    def __init__(self, stdout: TextIO) -> None:
        self.stdout = stdout

    def incoming(self, raw: dict[str, Any]) -> Incoming | None:
        return None  # nothing typed here is kept for later

    def option_lines(self, reply: Reply, lang: str) -> list[str]:
        return option_lines(reply)

    async def send(self, chat_id: str, message: Message) -> None:
        print(message.text + "\n", file=self.stdout, flush=True)


def parse(line: str, sender_id: str, name: str, now: datetime) -> Incoming:
    """A typed line as an event: "/cmd args", "@path/to/file.pdf" to attach a file, or text."""
    text = line.strip()
    base: dict[str, Any] = {
        "channel": CHANNEL,
        "chat_id": sender_id,
        "sender_id": sender_id,
        "sender_name": name,
        "received_at": now,
    }
    if text.startswith("/") and len(text) > 1:
        command, *args = text[1:].split()
        return Incoming(**base, text=text, command=command.lower(), args=tuple(args))
    path = Path(text[1:]).expanduser() if text.startswith("@") else None
    if path is not None and path.is_file():
        return Incoming(**base, files=(_file(path),))
    return Incoming(**base, text=text)


def missing_file(line: str) -> Path | None:
    """The path of an "@path" line that names no file, else None."""
    text = line.strip()
    if not text.startswith("@") or len(text) < 2:
        return None
    path = Path(text[1:]).expanduser()
    return None if path.is_file() else path


def _file(path: Path) -> IncomingFile:
    async def read() -> bytes:
        return await asyncio.to_thread(path.read_bytes)

    return IncomingFile(path.name, "", path.stat().st_size, read)


async def chat(
    dispatcher: Dispatcher,
    sender_id: str,
    name: str,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    clock: Callable[[], datetime] | None = None,
    greeting: str = "",
    language: str = "vi",
) -> None:
    """Read lines until end of input, answering each as the bot would; an "@path" to no file
    is answered here, since there is nothing to send."""
    now = clock or (lambda: datetime.now(UTC))
    # The same way out as the messengers' (outbox rows, sent at once), at no pace.
    delivery = Delivery(ConsoleChannel(stdout), dispatcher)
    if greeting:
        print(greeting, file=stdout, flush=True)
    try:
        while True:
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                return
            if not line.strip():
                continue
            missing = missing_file(line)
            if missing is not None:
                said = t(language, "console_file_missing", path=missing)
                print(said + "\n", file=stdout, flush=True)
                continue
            await delivery.handle(parse(line, sender_id, name, now()))
    finally:
        await delivery.close()
