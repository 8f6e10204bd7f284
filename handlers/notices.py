"""Messages to someone other than the sender (an officer told of a decision, an admin told an
import finished): written to the outbox in the step's own transaction, in the recipient's
language, once per key, on every messenger the person can be reached on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.events import Option, Reply
from handlers.i18n import t
from storage.models import Person
from storage.repositories import outbox, people

KIND = "notice"


def payload(reply: Reply) -> dict[str, object]:
    """A reply as the outbox keeps it (text and options; files are not kept there)."""
    return {
        "text": reply.text,
        "options": [[o.id, o.label] for o in reply.options],
        "columns": reply.columns,
        "extras": dict(reply.extras),
    }


def reply_of(item: dict[str, object]) -> Reply:
    options = item.get("options") or []
    extras = item.get("extras") or {}
    assert isinstance(options, list) and isinstance(extras, dict)
    return Reply(
        str(item["text"]),
        tuple(Option(str(i), str(label)) for i, label in options),
        replace_prompt=bool(item.get("replace_prompt")),  # a dialog's reply (handlers.replies)
        columns=int(str(item.get("columns") or 1)),
        extras={str(k): str(v) for k, v in extras.items()},
    )


async def notify(
    session: AsyncSession,
    person: Person,
    key: str,
    say: Callable[[str], Reply],
    now: datetime,
) -> int:
    """Enqueues `say(person's language)` to each chat the person can be reached in; returns
    how many chats that is (0: the person cannot be told, and the caller says so)."""
    if person.revoked_at is not None:
        return 0  # a revoked person is told nothing more
    chats = await people.reachable_chats(session, person.id)
    reply = say(person.language)
    reply = Reply(
        reply.text,
        reply.options,
        columns=reply.columns,
        extras={**reply.extras, "lang": person.language},
    )
    for channel, chat_id in chats:
        await outbox.enqueue(
            session,
            key=f"{key}:{channel}:{chat_id}",
            channel=channel,
            chat_id=chat_id,
            kind=KIND,
            payload=payload(reply),
            now=now,
        )
    return len(chats)


def text(lang: str, key: str, **values: object) -> Reply:
    """The simplest `say`: one catalog text."""
    return Reply(t(lang, key, **values))
