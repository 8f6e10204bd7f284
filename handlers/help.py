"""/trogiup and /huy: what one may ask here, generated from the role table; leaving a dialog."""

from __future__ import annotations

from handlers.context import Ctx
from handlers.events import Reply
from handlers.feature import EVERYONE, Command, Feature, Where, allow
from handlers.permissions import where, who
from handlers.roles import TABLE


async def help_lines(ctx: Ctx) -> list[str]:
    """One line per command this person may use in this chat, nothing more."""
    person, chat = who(ctx), await where(ctx)
    if ctx.person is None and chat == Where.PRIVATE:
        return [ctx.t("help_newcomer")]
    has_unit = ctx.person is not None and ctx.person.unit_id is not None
    listed = TABLE.listed_for(person, chat, has_unit)
    return [ctx.t("help_title")] + [ctx.t(f"help_{command.name}") for command in listed]


async def help_text(ctx: Ctx) -> list[Reply]:
    return [Reply("\n".join(await help_lines(ctx)))]


async def cancel(ctx: Ctx) -> list[Reply]:
    """Leaves whatever dialog is open."""
    if not ctx.in_dialog():
        return [Reply(ctx.t("cancel_nothing"))]
    ctx.clear()
    return [Reply(ctx.t("cancelled"))]


FEATURE = Feature(
    "help",
    commands=(
        Command("huy", cancel, allow(EVERYONE, tuple(Where)), aliases=("cancel",)),
        Command("trogiup", help_text, allow(EVERYONE, tuple(Where)), aliases=("help",)),
    ),
)
