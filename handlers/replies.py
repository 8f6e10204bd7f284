"""A step's replies as outbox rows (kind "reply"), written in the step's own transaction.

Payload: the notice's fields (handlers.notices.payload) plus ``replace_prompt`` and
``edit_of`` (the message a pressed button belonged to, edited in place where the channel can)
and, for a reply that carries files (an /xuat export), ``files`` as scheduler.digest describes
them: each written under DATA_DIR/outbox-files/<the row's folder>/ before the commit.
Key: ``reply:<channel>:<update key>:<index>``; an event without an update key (the console)
gets a generated one, unique.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from handlers import notices
from handlers.events import Incoming, Reply
from storage.atomic import write_atomically
from storage.outbox_files import FILES_DIR, files_folder
from storage.repositories.outbox import Draft

KIND = "reply"


def drafts(event: Incoming, replies: list[Reply], data_dir: Path) -> list[Draft]:
    """The rows of `replies` to `event`'s chat, their files written down."""
    update = event.update_key or f"local-{uuid.uuid4().hex}"
    rows = []
    for index, reply in enumerate(replies):
        key = f"{KIND}:{event.channel}:{update}:{index}"
        payload = {**notices.payload(reply), "replace_prompt": reply.replace_prompt}
        if reply.replace_prompt and event.message_id:
            payload["edit_of"] = event.message_id
        if reply.files:
            payload["files"] = _write_files(reply, key, data_dir)
        rows.append(Draft(key, event.channel, event.chat_id, KIND, payload))
    return rows


def _write_files(reply: Reply, key: str, data_dir: Path) -> list[dict[str, str]]:
    folder = Path(FILES_DIR) / files_folder(key)
    kept = []
    for number, file in enumerate(reply.files):
        # Numbered: two files of one reply may share a name.
        path = folder / f"{number}-{Path(file.file_name).name or 'file'}"
        write_atomically(data_dir / path, file.content)
        kept.append(
            {"path": path.as_posix(), "file_name": file.file_name, "mime_type": file.mime_type}
        )
    return kept
