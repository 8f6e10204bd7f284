"""Which handler answers: a command by its name, otherwise the step the person stands at."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers import extension, language, registration, report, views
from handlers.context import Ctx
from handlers.events import Reply
from handlers.steps import advance, resolve

ANYONE, REGISTERED, UNIT = "anyone", "registered", "unit"
_CODE = re.compile(r"^[A-Za-z0-9]{6,12}$")


@dataclass(frozen=True)
class Command:
    run: Callable[[Ctx], Awaitable[list[Reply]]]
    needs: str
    starts_dialog: bool = False
    # A dialog, or a view of one unit's data: answered in a private chat only, since a group's
    # members are not all of that unit.
    private_only: bool = False


async def cancel(ctx: Ctx) -> list[Reply]:
    """Leaves whatever dialog is open."""
    if not ctx.in_dialog():
        return [Reply(ctx.t("cancel_nothing"))]
    ctx.clear()
    return [Reply(ctx.t("cancelled"))]


COMMANDS: dict[str, Command] = {
    "start": Command(registration.start, ANYONE),
    "trogiup": Command(views.help_text, ANYONE),
    "huy": Command(cancel, ANYONE),
    "baocao": Command(report.begin, UNIT, starts_dialog=True, private_only=True),
    "giahan": Command(extension.begin, UNIT, starts_dialog=True, private_only=True),
    "nhiemvu": Command(views.tasks, UNIT, private_only=True),
    "lichsu": Command(views.history, UNIT, private_only=True),
    "ngonngu": Command(language.begin, REGISTERED, starts_dialog=True, private_only=True),
}
ALIASES = {
    "help": "trogiup",
    "cancel": "huy",
    "report": "baocao",
    "extend": "giahan",
    "tasks": "nhiemvu",
    "history": "lichsu",
    "language": "ngonngu",
    "lang": "ngonngu",
}


async def route(ctx: Ctx) -> list[Reply]:
    """The replies to the event in `ctx`, after moving the person's dialog along."""
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
    if event.chat_type != "private" and not (ctx.person is None and _CODE.match(text)):
        return replies  # a group's talk is not for the bot, only its commands (and a code shown)
    if ctx.in_dialog():
        return replies + await advance(ctx, resolve(ctx, event.option_id, text), text, event.files)
    if ctx.person is None:
        # Zalo has no deep link, so a newcomer's first message may be the invite code itself.
        if _CODE.match(text):
            return await registration.redeem(ctx, text)
        return [Reply(ctx.t("not_registered"))]
    if event.option_id is not None:  # whatever it says: no dialog is open to take it
        return [Reply(ctx.t("stale_option"))]
    return [Reply(ctx.t("unknown_input"))]


async def run_command(ctx: Ctx, name: str) -> list[Reply]:
    name = ALIASES.get(name, name)
    command = COMMANDS.get(name)
    if command is None:
        return [Reply(ctx.t("unknown_command", command=name))]
    if command.private_only and ctx.event.chat_type != "private":
        return [Reply(ctx.t("private_chat_only", command=name))]
    if command.needs != ANYONE and ctx.person is None:
        return [Reply(ctx.t("not_registered"))]
    if command.needs == UNIT and (ctx.person is None or ctx.person.unit_id is None):
        return [Reply(ctx.t("no_unit"))]
    open_dialog = ctx.state.dialog
    replies = await command.run(ctx)
    if open_dialog and command.starts_dialog and ctx.state.dialog:
        return [Reply(ctx.t("previous_dialog_replaced")), *replies]
    if open_dialog and ctx.state.dialog == open_dialog and name != "start":
        replies.append(Reply(ctx.t("dialog_still_open")))
    return replies
