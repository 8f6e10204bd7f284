"""/ganhom, /gohom and /tinhhinh: the steering committee's groups, and the status they ask for.

An admin binds a group (Telegram or Zalo, several at once) by sending /ganhom in it, and
unbinds it with /gohom there, or from a private chat by naming it. In a bound group anyone may
ask /tinhhinh, registered or not: the group is the committee's, its members read the whole
programme. A committee member or an admin may also ask in a private chat. Who may send what,
and where, is the role table's (handlers.roles); an unbound group is refused there, audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date

from handlers.context import Ctx
from handlers.events import Reply
from handlers.feature import ALL_CHATS, EVERYONE, Command, Feature, Where, Who, allow
from handlers.i18n import day
from handlers.permissions import actor, where
from handlers.registration import CHANNEL_NAMES
from handlers.status_report import status_text
from storage.models import BoundChat
from storage.repositories import audit, bound_chats
from storage.repositories.figures import load_figures


async def bind(ctx: Ctx) -> list[Reply]:
    """Binds the group it is sent in; in a private chat, says where to send it."""
    if await where(ctx) == Where.PRIVATE:
        return [Reply(_bind_where(ctx))]
    event = ctx.event
    found = await bound_chats.find(ctx.session, event.channel, event.chat_id)
    if found is not None:
        return [Reply(ctx.t("group_already_bound", date=day(_local_day(ctx, found))))]
    chat = bound_chats.bind(
        ctx.session, event.channel, event.chat_id, " ".join(event.args), ctx.now
    )
    _audit(ctx, "group.bound", chat, before=None, after=_described(chat))
    count = len(await bound_chats.committee_groups(ctx.session))
    return [Reply(ctx.t("group_bound", count=count))]


def _bind_where(ctx: Ctx) -> str:
    text = ctx.t("group_bind_in_group")
    if ctx.event.channel in ctx.config.groupless_channels:
        # A Zalo BASIC account cannot be added to groups: no Zalo group will ever send this.
        text += "\n" + ctx.t("group_bind_no_groups", channel=_channel_name(ctx.event.channel))
    return text


async def unbind(ctx: Ctx) -> list[Reply]:
    """Unbinds the group it is sent in, or, in a private chat, the group named (listed first)."""
    if await where(ctx) == Where.PRIVATE:
        return await _unbind_named(ctx)
    found = await bound_chats.find(ctx.session, ctx.event.channel, ctx.event.chat_id)
    if found is None or not await _unbind(ctx, found):
        return [Reply(ctx.t("group_not_bound"))]
    return [Reply(ctx.t("group_unbound_here"))]


async def _unbind_named(ctx: Ctx) -> list[Reply]:
    groups = await bound_chats.committee_groups(ctx.session)
    if not groups:
        return [Reply(ctx.t("groups_none"))]
    wanted = " ".join(ctx.event.args)
    if not wanted:
        return [Reply(_listing(ctx, groups))]
    chosen = bound_chats.named(groups, wanted)
    if chosen is None or not await _unbind(ctx, chosen):  # unknown, or unbound meanwhile
        missing = ctx.t("groups_not_found", wanted=wanted[:60])
        return [Reply(missing + "\n" + _listing(ctx, groups))]
    return [Reply(ctx.t("group_unbound", name=_name(ctx, chosen)))]


async def _unbind(ctx: Ctx, chat: BoundChat) -> bool:
    """False when someone else unbound it meanwhile (nothing to audit then)."""
    before = _described(chat)
    if not await bound_chats.unbind(ctx.session, chat):
        return False
    _audit(ctx, "group.unbound", chat, before=before, after=None)
    return True


def _listing(ctx: Ctx, groups: Sequence[BoundChat]) -> str:
    lines = [ctx.t("groups_title", count=len(groups))]
    lines += [
        ctx.t(
            "groups_line",
            position=position,
            channel=_channel_name(group.channel),
            name=_name(ctx, group),
            date=day(_local_day(ctx, group)),
        )
        for position, group in enumerate(groups, 1)
    ]
    return "\n".join([*lines, ctx.t("groups_unbind_how")])


async def status(ctx: Ctx) -> list[Reply]:
    """The status now of every followed plan and in total, in the office's words; the channel
    splits it into as many messages as its platform needs."""
    figures = await load_figures(ctx.session, ctx.today)
    return [Reply(status_text(figures, ctx.lang))]


def _audit(ctx: Ctx, action: str, chat: BoundChat, *, before: object, after: object) -> None:
    audit.record(
        ctx.session,
        now=ctx.now,
        actor=actor(ctx),
        action=action,
        entity="bound_chat",
        entity_id=f"{chat.channel}:{chat.chat_id}",
        details={"before": before, "after": after},
    )


def _described(chat: BoundChat) -> dict[str, str]:
    return {
        "channel": chat.channel,
        "chat_id": chat.chat_id,
        "purpose": chat.purpose,
        "title": chat.title,
    }


def _name(ctx: Ctx, chat: BoundChat) -> str:
    return chat.title or ctx.t("group_untitled", chat=chat.chat_id)


def _channel_name(channel: str) -> str:
    return CHANNEL_NAMES.get(channel, channel)


def _local_day(ctx: Ctx, chat: BoundChat) -> date:
    """The city's calendar day the group was bound (SQLite gives stored times back zoneless)."""
    bound = chat.bound_at if chat.bound_at.tzinfo else chat.bound_at.replace(tzinfo=UTC)
    return bound.astimezone(ctx.config.tz).date()


ADMIN_ONLY = allow((Who.ADMIN,), ALL_CHATS)
# In a bound group everyone reads the status; in private only those who read everything.
STATUS_READERS = allow(EVERYONE, (Where.COMMITTEE_GROUP,)) | allow(
    (Who.COMMITTEE, Who.ADMIN), (Where.PRIVATE,)
)

FEATURE = Feature(
    "committee",
    commands=(
        Command("tinhhinh", status, STATUS_READERS, aliases=("status",)),
        Command("ganhom", bind, ADMIN_ONLY, aliases=("bindgroup",)),
        Command("gohom", unbind, ADMIN_ONLY, aliases=("unbindgroup",)),
    ),
)
