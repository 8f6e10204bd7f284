"""Who is asking, where, and the refusal (always audited) when the role table says no."""

from __future__ import annotations

from handlers.context import Ctx
from handlers.events import Reply
from handlers.feature import Command, Where, Who
from storage.repositories import audit, bound_chats

_WHERE = "where"


def who(ctx: Ctx) -> Who:
    return Who.GUEST if ctx.person is None else Who(ctx.person.role)


async def where(ctx: Ctx) -> Where:
    """The kind of chat: private, a group, or a group bound as the committee's."""
    if ctx.event.chat_type == "private":
        return Where.PRIVATE
    if _WHERE not in ctx.memo:
        bound = await bound_chats.find(ctx.session, ctx.event.channel, ctx.event.chat_id)
        ctx.memo[_WHERE] = Where.COMMITTEE_GROUP if bound is not None else Where.GROUP
    return Where(ctx.memo[_WHERE])


def actor(ctx: Ctx) -> str:
    """How the audit log names the sender: their person, or their messenger identity."""
    identity = f"{ctx.event.channel}:{ctx.event.sender_id}"
    return identity if ctx.person is None else f"person:{ctx.person.id} {identity}"


async def check(ctx: Ctx, command: Command) -> list[Reply] | None:
    """None when the sender may run `command` here; otherwise the refusal, audited."""
    person, chat = who(ctx), await where(ctx)
    if command.allows(person, chat):
        if command.needs_unit and (ctx.person is None or ctx.person.unit_id is None):
            return _refused(ctx, command, person, chat, "no_unit")
        return None
    if chat != Where.PRIVATE and command.allows(person, Where.PRIVATE):
        return _refused(ctx, command, person, chat, "private_chat_only")
    return _refused(ctx, command, person, chat, "permission_denied")


def _refused(ctx: Ctx, command: Command, person: Who, chat: Where, reason: str) -> list[Reply]:
    audit.record(
        ctx.session,
        now=ctx.now,
        actor=actor(ctx),
        action="command.refused",
        entity="command",
        entity_id=command.name,
        details={
            "reason": reason,
            "role": person.value,
            "chat": chat.value,
            "channel": ctx.event.channel,
            "chat_id": ctx.event.chat_id,
        },
    )
    text = ctx.t(reason, command=command.name)
    if person == Who.GUEST and chat == Where.PRIVATE:
        text += "\n" + ctx.t("not_registered")
    return [Reply(text)]
