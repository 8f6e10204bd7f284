"""/thongbao TEXT: an admin tells every officer and head of unit something, through the outbox.

Who: every registered person of role officer or head who was not revoked (the committee and
the admins are not included: they are not the ones chased). Sending to a thousand people is
not something to do by a typo, so a confirm step comes first: how many people, how many of
them cannot be reached (no messenger the bot may write to), and the message as they will see
it; Gửi / Huỷ.

The broadcast gets its id when it is typed, kept in the dialog: every outbox row's key is
(broadcast id, person, messenger, chat), so a confirm handled twice, or on two instances,
enqueues each message once. The rows are written in one statement, in the confirm's own
transaction, with the audit entry "broadcast.created" (entity "broadcast", the id). When the
last of them is sent or failed, scheduler.broadcast_done tells the admin how it went.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from handlers.context import Ctx
from handlers.events import Option, Reply, clean_text
from handlers.feature import Command, Feature, Where, Who, allow
from handlers.i18n import number, t
from handlers.notices import payload
from handlers.options import CONFIRM
from handlers.permissions import actor
from handlers.steps import Answer, Finish, Refusal, Step, enter
from storage.models import Role
from storage.repositories import audit, outbox
from storage.repositories import people as people_store
from storage.repositories.outbox import Draft

DIALOG = "broadcast"
KIND = "broadcast"
ACTION = "broadcast.created"
# The payload field naming the broadcast a row belongs to (the channels render only the rest).
ID_FIELD = "broadcast"
MAX_TEXT = 3000
PREVIEW = 500
AUDIENCE = (Role.OFFICER.value, Role.HEAD.value)


def key_prefix(broadcast_id: str) -> str:
    """What every outbox key of this broadcast starts with."""
    return f"{KIND}:{broadcast_id}:"


@dataclass(frozen=True)
class Recipient:
    person_id: int
    language: str
    chats: tuple[tuple[str, str], ...]  # (messenger, chat) the bot may write to


async def audience(ctx: Ctx) -> list[Recipient]:
    """Every officer and head not revoked, with the chats each can be reached in (one query)."""
    rows = await people_store.chats_by_role(ctx.session, AUDIENCE)
    found: dict[int, tuple[str, list[tuple[str, str]]]] = {}
    for person_id, language, channel, chat_id in rows:
        _, chats = found.setdefault(person_id, (language, []))
        if channel is not None and chat_id is not None:
            chats.append((channel, chat_id))
    return [Recipient(pid, lang, tuple(chats)) for pid, (lang, chats) in found.items()]


def message(lang: str, text: str) -> Reply:
    """The broadcast as a recipient reads it."""
    return Reply(t(lang, "broadcast_message", text=text), extras={"lang": lang})


async def begin(ctx: Ctx) -> list[Reply]:
    """Reads the text after the command (new lines kept) and asks to confirm."""
    ctx.clear()
    typed = _typed(ctx)
    if not typed:
        return [Reply(ctx.t("broadcast_usage", limit=number(ctx.lang, MAX_TEXT)))]
    if len(typed) > MAX_TEXT:
        return [
            Reply(
                ctx.t(
                    "broadcast_too_long",
                    count=number(ctx.lang, len(typed)),
                    limit=number(ctx.lang, MAX_TEXT),
                )
            )
        ]
    ctx.put(text=typed, broadcast=uuid.uuid4().hex)
    return await enter(ctx, DIALOG, "confirm")


def _typed(ctx: Ctx) -> str:
    """The text after "/thongbao" as typed, lines and all (the arguments lose the new lines)."""
    whole = clean_text(ctx.event.text or "").strip()
    if whole.startswith("/"):
        parts = whole.split(None, 1)
        return parts[1].strip() if len(parts) == 2 else ""
    return " ".join(ctx.event.args).strip()


async def ask_confirm(ctx: Ctx) -> Reply:
    people = await audience(ctx)
    unreached = sum(1 for person in people if not person.chats)
    text = str(ctx.data.get("text", ""))
    lines = [
        ctx.t(
            "broadcast_confirm",
            people=number(ctx.lang, len(people)),
            chats=number(ctx.lang, sum(len(person.chats) for person in people)),
        )
    ]
    if unreached:
        lines.append(ctx.t("broadcast_unreached", count=number(ctx.lang, unreached)))
    lines += ["", ctx.t("broadcast_preview"), message(ctx.lang, _preview(text)).text]
    options = (
        Option(CONFIRM.id("send"), ctx.t("broadcast_send")),
        Option(CONFIRM.id("cancel"), ctx.t("cancel")),
    )
    return Reply("\n".join(lines), options, columns=2)


def _preview(text: str) -> str:
    """The start of the text with its lines kept (`short` would make it one line)."""
    return text if len(text) <= PREVIEW else text[:PREVIEW].rstrip() + "…"


async def take_confirm(ctx: Ctx, answer: Answer) -> Refusal | Finish:
    confirmed = CONFIRM.value(answer.choice)
    if confirmed == "cancel":
        return Finish([Reply(ctx.t("broadcast_cancelled"), replace_prompt=True)])
    if confirmed != "send":
        return Refusal(ctx.t("choose_option"))
    broadcast_id, text = str(ctx.data.get("broadcast", "")), str(ctx.data.get("text", ""))
    if not broadcast_id or not text:
        return Finish([Reply(ctx.t("broadcast_usage", limit=number(ctx.lang, MAX_TEXT)))])
    people = await audience(ctx)  # as it is now, not as it was when asked
    rows = _rows(broadcast_id, text, people)
    if not rows:
        return Finish([Reply(ctx.t("broadcast_nobody"), replace_prompt=True)])
    if not await outbox.enqueue_many(ctx.session, rows, ctx.now):
        # Every key was there already: this very broadcast was confirmed before.
        return Finish([Reply(ctx.t("broadcast_already"), replace_prompt=True)])
    reached = sum(1 for person in people if person.chats)
    _audit(ctx, broadcast_id, text, len(people), reached, len(rows))
    done = ctx.t(
        "broadcast_queued",
        people=number(ctx.lang, reached),
        chats=number(ctx.lang, len(rows)),
        unreached=number(ctx.lang, len(people) - reached),
    )
    return Finish([Reply(done, replace_prompt=True)])


def _rows(broadcast_id: str, text: str, people: Sequence[Recipient]) -> list[Draft]:
    rendered: dict[str, dict[str, object]] = {}  # one payload per language
    rows = []
    for person in people:
        if person.language not in rendered:
            item = payload(message(person.language, text))
            rendered[person.language] = {**item, ID_FIELD: broadcast_id}
        for channel, chat in person.chats:
            key = f"{key_prefix(broadcast_id)}{person.person_id}:{channel}:{chat}"
            rows.append(Draft(key, channel, chat, KIND, rendered[person.language]))
    return rows


def _audit(ctx: Ctx, broadcast_id: str, text: str, people: int, reached: int, chats: int) -> None:
    audit.record(
        ctx.session,
        now=ctx.now,
        actor=actor(ctx),
        action=ACTION,
        entity="broadcast",
        entity_id=broadcast_id,
        details={
            "id": broadcast_id,
            "text": text,
            "roles": list(AUDIENCE),
            "people": people,
            "reached": reached,
            "messages": chats,
            "admin": ctx.person.id if ctx.person else None,
        },
    )


FEATURE = Feature(
    "broadcast",
    commands=(
        Command(
            "thongbao",
            begin,
            allow((Who.ADMIN,), (Where.PRIVATE,)),
            aliases=("broadcast",),
            starts_dialog=True,
        ),
    ),
    dialogs={DIALOG: {"confirm": Step(ask_confirm, take_confirm, offers=(CONFIRM,))}},
)
