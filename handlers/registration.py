"""/start CODE: a newcomer joins their unit with an invite; a member is greeted."""

from __future__ import annotations

import logging
import math
from datetime import datetime

from handlers.context import Ctx
from handlers.events import Reply
from handlers.feature import EVERYONE, Command, Feature, Where, allow
from handlers.help import help_lines
from storage.models import Role
from storage.repositories import identity_links, invites, people
from storage.repositories.invites import InviteCheck

log = logging.getLogger(__name__)
# How a messenger is named to a person (a proper name: the same in every language).
CHANNEL_NAMES = {"telegram": "Telegram", "zalo": "Zalo", "console": "console"}
REFUSALS = {
    InviteCheck.UNKNOWN: "invite_unknown",
    InviteCheck.EXPIRED: "invite_expired",
    InviteCheck.USED_UP: "invite_used_up",
    InviteCheck.ALREADY_USED: "invite_already_used",
}


async def start(ctx: Ctx) -> list[Reply]:
    """Greets a member; joins a newcomer when a code comes with the command."""
    if ctx.event.args:
        return await redeem(ctx, ctx.event.args[0])
    if ctx.person is None:
        return [Reply(ctx.t("start_need_code"))]
    return [await greeting(ctx, "welcome_back")]


async def redeem(ctx: Ctx, code: str) -> list[Reply]:
    """Joins the sender to the invite's unit, if the code is good, unused up and unexpired."""
    if ctx.event.chat_type != "private":
        # Joining records the chat to write to later, and a code belongs to one person.
        return [Reply(ctx.t("trust_invite_private_only"))]
    chat = f"{ctx.event.channel}:{ctx.event.chat_id}"
    locked = await invites.locked_until(ctx.session, chat, ctx.now)
    if locked is not None:
        log.info("invite attempt from %s refused: too many wrong codes", chat)
        return [_throttled(ctx, locked)]
    invite = await invites.find(ctx.session, code.strip())
    owner = await identity_links.person_for(ctx.session, invite) if invite else None
    if owner is not None and ctx.person is not None and ctx.person.id != owner:
        log.info("invite %s… made for another person refused for %s", code[:3], chat)
        return [Reply(ctx.t("invite_for_someone_else"))]
    verdict = await invites.check(ctx.session, invite, ctx.person, ctx.now)
    claimed = (
        verdict == InviteCheck.OK
        and invite is not None
        and await invites.claim(ctx.session, invite, ctx.now)
    )
    if verdict == InviteCheck.OK and not claimed:
        verdict = InviteCheck.USED_UP  # taken (or expired) by the time it was our turn
    if verdict != InviteCheck.OK or invite is None:
        return await _refuse(ctx, code, chat, verdict)
    if ctx.person is None and owner is not None:
        ctx.person = await identity_links.attach(
            ctx.session,
            owner,
            ctx.event.channel,
            ctx.event.sender_id,
            ctx.event.chat_id,
            ctx.event.sender_name,
        )
        if ctx.person is not None:
            await invites.redeem(ctx.session, invite, ctx.person, ctx.now)
            return [
                await greeting(ctx, "welcome_linked", channel=CHANNEL_NAMES.get(ctx.event.channel))
            ]
    if ctx.person is None:
        ctx.person = await people.create(
            ctx.session,
            channel=ctx.event.channel,
            external_id=ctx.event.sender_id,
            chat_id=ctx.event.chat_id,
            name=ctx.event.sender_name,
            role=invite.role,
            unit_id=invite.unit_id,
            language=ctx.config.default_language,
            now=ctx.now,
        )
    else:
        ctx.person.unit_id = invite.unit_id or ctx.person.unit_id
        if ctx.person.role != Role.ADMIN:
            ctx.person.role = invite.role
        await ctx.session.flush()
        await ctx.session.refresh(ctx.person, ["unit"])
    await invites.redeem(ctx.session, invite, ctx.person, ctx.now)
    return [await greeting(ctx, "welcome")]


async def _refuse(ctx: Ctx, code: str, chat: str, verdict: InviteCheck) -> list[Reply]:
    log.info("invite %s refused for %s: %s", code[:3] + "…", chat, verdict)
    if verdict != InviteCheck.UNKNOWN:
        return [Reply(ctx.t(REFUSALS[verdict]))]
    invites.wrong_code(ctx.session, chat, f"{ctx.event.channel}:{ctx.event.sender_id}", ctx.now)
    locked = await invites.locked_until(ctx.session, chat, ctx.now)
    return [_throttled(ctx, locked) if locked else Reply(ctx.t(REFUSALS[verdict]))]


def _throttled(ctx: Ctx, until: datetime) -> Reply:
    minutes = max(1, math.ceil((until - ctx.now).total_seconds() / 60))
    local = until.astimezone(ctx.config.tz)
    return Reply(ctx.t("trust_invite_throttled", time=f"{local:%H:%M}", minutes=minutes))


async def greeting(ctx: Ctx, key: str, **values: object) -> Reply:
    person = ctx.person
    assert person is not None
    unit = person.unit.name if person.unit else ctx.t("no_unit_name")
    role = ctx.t(f"role_{person.role}")
    text = ctx.t(key, name=person.full_name, unit=unit, role=role, **values)
    return Reply("\n".join([text, "", *await help_lines(ctx)]))


FEATURE = Feature(
    "registration",
    commands=(Command("start", start, allow(EVERYONE, tuple(Where)), listed=False),),
)
