"""The Zalo channel as the outbox dispatcher sends through it: a picture among a message's files
(the weekly digest's chart) is shown as a photo, every other file stays a signed link.

Zalo takes no upload: `sendPhoto` is given a URL that the platform fetches itself
(../shared/zalo-api.md). So a picture is stored behind a signed, expiring link of the bot's own
HTTP server (bot.channels.files) when the row is prepared, and sent as a `Photo` after the
text. The link is kept in the `Photo` as a line of text too: should the platform fail to fetch
the picture (a PUBLIC_BASE_URL it cannot reach), the committee still gets the link.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.channels.base import Message
from bot.channels.delivery import OutboxSender
from handlers import notices
from handlers.dispatcher import utc_now
from handlers.events import OutgoingFile
from handlers.i18n import t

# What Zalo shows as a photo; any other picture format goes as a link like other files.
PHOTO_TYPES = ("image/png", "image/jpeg")


@dataclass(frozen=True)
class Photo(Message):
    """A picture shown by URL; its `text` is the same link as a line, sent in its place when
    the platform cannot fetch the picture."""

    url: str = ""


class ZaloOutboxSender(OutboxSender):
    """An outbox row's messages for Zalo: the text (files other than pictures as links in
    it), then each picture as a `Photo`."""

    async def prepare(self, chat_id: str, payload: Mapping[str, Any]) -> list[Message]:
        kept = list(payload.get("files") or [])
        pictures = [f for f in kept if f.get("mime_type") in PHOTO_TYPES] if self.links else []
        others = [f for f in kept if f not in pictures]
        messages = await super().prepare(chat_id, {**payload, "files": others})
        if not pictures:
            return messages
        lang = notices.reply_of(dict(payload)).extras.get("lang") or self.default_language
        return messages + [await self._photo(file, lang) for file in pictures]

    async def _photo(self, kept: Mapping[str, str], lang: str) -> Photo:
        if self.data_dir is None or self.links is None:
            raise ValueError("a picture to show and no data folder or link service")
        content = await asyncio.to_thread((self.data_dir / kept["path"]).read_bytes)
        name = kept["file_name"]
        url = await self.links.publish(OutgoingFile(name, content, kept["mime_type"]), utc_now())
        return Photo(t(lang, "zalo_file_link", name=name, url=url), url=url)
