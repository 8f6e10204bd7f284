"""/ngonngu: each person reads tiendo in Vietnamese or English."""

from __future__ import annotations

from handlers.context import Ctx
from handlers.events import Option, Reply
from handlers.feature import MEMBERS, Command, Feature, Where, allow
from handlers.i18n import LANGUAGES
from handlers.options import LANGUAGE
from handlers.steps import Answer, Finish, Refusal, Step, enter

DIALOG = "language"


async def begin(ctx: Ctx) -> list[Reply]:
    """Switches at once with `/ngonngu en`; otherwise offers the languages."""
    ctx.clear()
    typed = ctx.event.args[0].lower() if ctx.event.args else ""
    if typed in LANGUAGE.words:  # the same closed list as the buttons
        return _switch(ctx, typed)
    return await enter(ctx, DIALOG, "choose")


async def ask(ctx: Ctx) -> Reply:
    return Reply(
        ctx.t("language_ask"),
        tuple(Option(LANGUAGE.id(code), ctx.t(f"language_{code}")) for code in LANGUAGES),
        columns=2,
    )


async def take(ctx: Ctx, answer: Answer) -> Refusal | Finish:
    code = LANGUAGE.value(answer.choice)
    if code is None:
        return Refusal(ctx.t("choose_option"))
    return Finish(_switch(ctx, code))


def _switch(ctx: Ctx, code: str) -> list[Reply]:
    assert ctx.person is not None
    ctx.person.language = code
    return [Reply(ctx.t("language_set"), replace_prompt=True)]


FEATURE = Feature(
    "language",
    commands=(
        Command(
            "ngonngu",
            begin,
            allow(MEMBERS, (Where.PRIVATE,)),
            aliases=("language", "lang"),
            starts_dialog=True,
        ),
    ),
    dialogs={DIALOG: {"choose": Step(ask, take, offers=(LANGUAGE,))}},
)
