"""Which handler answers: a command by its name (if the role table allows it here), otherwise
the step the person stands at."""

from __future__ import annotations

import re
from dataclasses import replace

from handlers import registration, registry  # noqa: F401  (registry fills the tables)
from handlers.context import Ctx
from handlers.events import Reply
from handlers.options import REPORT_NOW, parse
from handlers.permissions import actor, check
from handlers.roles import TABLE
from handlers.steps import advance, pick, resolve
from storage.repositories import audit, invites, outbox

_CODE = re.compile(r"^[A-Za-z0-9]{6,12}$")


async def route(ctx: Ctx) -> list[Reply]:
    """The replies to the event in `ctx`, after moving the person's dialog along."""
    if ctx.person is not None and ctx.person.revoked_at is not None:
        return _revoked(ctx)
    replies: list[Reply] = []
    if ctx.expired():
        ctx.clear()
        replies.append(Reply(ctx.t("dialog_expired")))
        if not ctx.event.command:
            return replies
    event = ctx.event
    if event.command:
        return replies + await run_command(ctx, event.command)
    text = (event.text or "").strip()
    if event.chat_type != "private" and not await _code_shown_in_group(ctx, text):
        return replies  # a group's talk is not for the bot, only its commands (and a code shown)
    if ctx.in_dialog():
        return replies + await advance(ctx, resolve(ctx, event.option_id, text), text, event.files)
    if ctx.person is None:
        # Zalo has no deep link, so a newcomer's first message may be the invite code itself.
        if _CODE.match(text):
            return await registration.redeem(ctx, text)
        return [Reply(ctx.t("not_registered"))]
    if event.option_id is None and event.chat_type == "private":
        answered = await _answered_last_message(ctx, text)
        if answered is not None:  # "1" to a reminder shown without buttons (Zalo)
            ctx.event = event = replace(event, option_id=answered)
    if event.option_id is not None:  # whatever it says: no dialog is open to take it
        if parse(event.option_id, (REPORT_NOW,)) is not None:  # a reminder's "Báo cáo ngay"
            return await run_command(ctx, "baocao")  # at that task (task_picker.begin)
        return [Reply(ctx.t("stale_option"))]
    return [Reply(ctx.t("unknown_input"))]


async def run_command(ctx: Ctx, typed: str) -> list[Reply]:
    command = TABLE.command(typed)
    if command is None:
        return [Reply(ctx.t("unknown_command", command=typed))]
    refusal = await check(ctx, command)
    if refusal is not None:
        return refusal
    open_dialog = ctx.state.dialog
    replies = await command.run(ctx)
    if open_dialog and command.starts_dialog and ctx.state.dialog:
        return [Reply(ctx.t("previous_dialog_replaced")), *replies]
    if open_dialog and ctx.state.dialog == open_dialog and command.name != "start":
        replies.append(Reply(ctx.t("dialog_still_open")))
    return replies


async def _answered_last_message(ctx: Ctx, text: str) -> str | None:
    """The option of the last message this chat was sent (a reminder's "Báo cáo ngay") that
    `text` names by its number or its words, as a platform without buttons asks."""
    if not text:
        return None
    last = await outbox.last_sent_payload(ctx.session, ctx.event.channel, ctx.event.chat_id)
    if not last or not last.get("options"):
        return None
    numbered = (last.get("extras") or {}).get("numbered", "1") == "1"
    return pick(last["options"], text, numbered)


async def _code_shown_in_group(ctx: Ctx, text: str) -> bool:
    """A newcomer posted a real invite code in a group: worth a word (it is now exposed).
    Any other lone word of the group's talk stays unanswered."""
    if ctx.person is not None or not _CODE.match(text):
        return False
    return await invites.find(ctx.session, text) is not None


def _revoked(ctx: Ctx) -> list[Reply]:
    """A revoked person's every message is refused (and audited), whatever dialog was open."""
    ctx.clear()
    if ctx.event.chat_type != "private" and not ctx.event.command:
        return []
    audit.record(
        ctx.session,
        now=ctx.now,
        actor=actor(ctx),
        action="command.refused",
        entity="command",
        entity_id=ctx.event.command or "",
        details={"reason": "revoked", "channel": ctx.event.channel, "chat_id": ctx.event.chat_id},
    )
    return [Reply(ctx.t("access_revoked"))]
