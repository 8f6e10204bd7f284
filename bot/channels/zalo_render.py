"""A channel-neutral `Reply` as the texts Zalo can show: no buttons, no edits, no uploads.

Options become numbered lines with a hint ("Trả lời 1, 2 hoặc 3"), or one line when they are
short ("1. Gửi  2. Sửa  3. Huỷ"); the officer answers with the number or the option's words,
which handlers.steps.resolve understands on every channel. Files go out as links the adapter
made (Zalo takes no document), and texts over 2,000 characters are split at line ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.channels.text_split import split_text, units
from handlers.events import Option, Reply
from handlers.i18n import t

TEXT_LIMIT = 2_000  # sendMessage and sendPhoto captions: 1 to 2,000 characters
ONE_LINE = 40  # options whose line fits this stay on one line, as a confirmation's do
LISTED_NUMBERS = 5  # up to this many options the hint names each number


@dataclass(frozen=True)
class FileLink:
    """A file the bot gives, as the signed, expiring link that serves it."""

    name: str
    url: str


def render(
    reply: Reply, lang: str, links: Sequence[FileLink] = (), limit: int = TEXT_LIMIT
) -> list[str]:
    """The messages to send for `reply`, each 1 to `limit` characters, in order.

    `links` are the reply's files as served links, one per file of `reply.files`: Zalo
    cannot receive a document, so the adapter stores each file and passes its link here.
    """
    if len(links) != len(reply.files):
        raise ValueError(f"{len(reply.files)} files to give but {len(links)} links")
    lines = [reply.text] if reply.text.strip() else []
    lines += option_lines(reply, lang)
    lines += [t(lang, "zalo_file_link", name=link.name, url=link.url) for link in links]
    return split_text("\n".join(lines), limit)


def option_lines(reply: Reply, lang: str) -> list[str]:
    """The options as lines of text: numbered with a hint, or listed when a number is the
    answer itself (a percent), where numbering them would make "2" ambiguous."""
    options = reply.options
    if not options:
        return []
    if reply.extras.get("numbered", "1") != "1":
        return [" · ".join(option.label for option in options)]
    numbered = [f"{index}. {option.label}" for index, option in enumerate(options, start=1)]
    together = "  ".join(numbered)
    body = [together] if units(together) <= ONE_LINE else numbered
    return [*body, hint(options, lang)]


def hint(options: Sequence[Option], lang: str) -> str:
    """How to answer: "Trả lời 1", "Trả lời 1, 2 hoặc 3", or a range for a long list."""
    count = len(options)
    if count == 1:
        return t(lang, "zalo_answer_one")
    if count > LISTED_NUMBERS:
        return t(lang, "zalo_answer_range", last=count)
    numbers = ", ".join(str(number) for number in range(1, count))
    return t(lang, "zalo_answer_some", numbers=numbers, last=count)
