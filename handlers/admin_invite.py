"""/moi UNIT ROLE: an admin makes an invite from the phone, as `tiendo invite` does.

The unit may be written any way offices write it ("Sở TT&TT", "STTTT", "vinh bao"); when the
name is unknown or fits several units, the closest are offered to pick (or the name typed
again). The role comes last and is optional (a contact officer by default), in Vietnamese or
English, with or without diacritics ("lãnh đạo", "lanh dao", "head"); the committee and admins
may be invited without a unit. The invite is written to the audit log, never its code.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from handlers.context import Ctx
from handlers.events import Option, Reply
from handlers.feature import Command, Feature, Where, Who, allow
from handlers.i18n import LANGUAGES, catalog, moment
from handlers.options import PICK
from handlers.permissions import actor
from handlers.steps import Answer, Finish, Refusal, Step, enter
from handlers.wording import short
from storage.models import Role, Unit
from storage.repositories import audit, invites
from storage.repositories.contacts import (
    UnitFinder,
    UnitLookup,
    stands_for_others,
    unit_finder,
)
from storage.textfold import words
from storage.units import seed_units

DIALOG = "invite"
EXPIRES = timedelta(days=7)
USES = 1
# Roles that belong to the programme, not to one unit: their invite may name no unit.
UNITLESS = (Role.COMMITTEE, Role.ADMIN)


@cache
def _role_words() -> dict[str, Role]:
    """Every folded way of writing a role, in both languages ("lanh dao" → head)."""
    table: dict[str, Role] = {}
    for role in Role:
        for lang in LANGUAGES:
            for written in catalog(lang)[f"role_words_{role.value}"].split(";"):
                if words(written):
                    table.setdefault(" ".join(words(written)), role)
    return table


def split_role(typed: str) -> list[tuple[str, Role | None]]:
    """The readings of `typed` as (unit, role), the role taken from its last words: the whole
    text as a unit first (so "Sở Tài nguyên và Môi trường" keeps its "trường"), then the
    longest role written at the end."""
    parts = typed.split()
    readings: list[tuple[str, Role | None]] = [(typed.strip(), None)]
    longest = max(len(written.split()) for written in _role_words())
    for count in range(min(longest, len(parts)), 0, -1):
        role = _role_words().get(" ".join(words(" ".join(parts[-count:]))))
        if role is not None:
            readings.append((" ".join(parts[:-count]), role))
    return readings


async def begin(ctx: Ctx) -> list[Reply]:
    """An invite at once when the unit is clear; otherwise the units it may mean."""
    ctx.clear()
    typed = " ".join(ctx.event.args)
    if not typed:
        return [Reply(ctx.t("admin_invite_usage"))]
    readings = split_role(typed)
    alone = next((role for text, role in readings if not text), None)
    if alone in UNITLESS:
        return await _created(ctx, None, alone)
    if alone is not None:
        return [Reply(ctx.t("admin_invite_needs_unit", role=ctx.t(f"role_{alone.value}")))]
    await seed_units(ctx.session)  # a database with no plan yet still knows the catalog
    finder = await unit_finder(ctx.session)
    text, role = _reading(finder, readings)
    ctx.put(role=(role or Role.OFFICER).value)
    return await _found(ctx, text, finder.look_up(text))


def _reading(
    finder: UnitFinder, readings: list[tuple[str, Role | None]]
) -> tuple[str, Role | None]:
    """The first reading that names a known unit; else the one with the longest role written
    at the end (the unit is then what comes before it, spelled in a way not known yet)."""
    for text, role in readings:
        if finder.look_up(text).unit is not None:
            return text, role
    return readings[1] if len(readings) > 1 else readings[0]


async def _found(ctx: Ctx, typed: str, lookup: UnitLookup) -> list[Reply]:
    unit = lookup.unit
    if unit is not None and stands_for_others(unit):
        return [Reply(ctx.t("admin_invite_collective", unit=unit.name))]
    if unit is not None:
        return await _created(ctx, unit, Role(ctx.data["role"]))
    if not lookup.candidates:
        return [Reply(ctx.t("admin_invite_no_unit", typed=short(typed, 60)))]
    ctx.put(typed=short(typed, 60), units=[candidate.id for candidate in lookup.candidates])
    return await enter(ctx, DIALOG, "unit")


async def ask_unit(ctx: Ctx) -> Reply:
    finder = await unit_finder(ctx.session)
    listed = finder.by_ids(ctx.data.get("units") or [])
    options = tuple(Option(PICK.id(unit.id), unit.name) for unit in listed)
    return Reply(ctx.t("admin_invite_choose_unit", typed=ctx.data.get("typed", "")), options)


async def take_unit(ctx: Ctx, answer: Answer) -> str | Refusal | Finish:
    """One of the units offered, pressed or answered by number; or a name typed again."""
    finder = await unit_finder(ctx.session)
    role = Role(ctx.data["role"])
    picked = PICK.value(answer.choice)
    if picked is not None:
        offered = finder.by_ids(ctx.data.get("units") or [])
        chosen = [unit for unit in offered if unit.id == picked]
        if not chosen:  # forged, or offered in an earlier question
            return Refusal(ctx.t("option_not_valid"))
        return Finish(await _created(ctx, chosen[0], role))
    if not answer.text.strip():
        return Refusal(ctx.t("choose_option"))
    lookup = finder.look_up(answer.text)
    if lookup.unit is not None and stands_for_others(lookup.unit):
        return Refusal(ctx.t("admin_invite_collective", unit=lookup.unit.name))
    if lookup.unit is not None:
        return Finish(await _created(ctx, lookup.unit, role))
    if not lookup.candidates:
        return Refusal(ctx.t("admin_invite_no_unit", typed=short(answer.text, 60)))
    ctx.put(typed=short(answer.text, 60), units=[unit.id for unit in lookup.candidates])
    return "unit"


async def _created(ctx: Ctx, unit: Unit | None, role: Role) -> list[Reply]:
    """The invite, written down and audited, and how to use it on each messenger."""
    expires = ctx.now + EXPIRES
    invite = await invites.create(
        ctx.session,
        unit_id=unit.id if unit else None,
        role=role.value,
        max_uses=USES,
        expires_at=expires,
        now=ctx.now,
    )
    audit.record(
        ctx.session,
        now=ctx.now,
        actor=actor(ctx),
        action="invite.created",
        entity="invite",
        entity_id=invite.id,
        details={
            "unit_id": unit.id if unit else None,
            "unit": unit.name if unit else None,
            "role": role.value,
            "max_uses": USES,
            "expires_at": expires.isoformat(),
            "channel": ctx.event.channel,
        },
    )
    text = ctx.t(
        "admin_invite_created",
        code=invite.code,
        unit=unit.name if unit else ctx.t("no_unit_name"),
        role=ctx.t(f"role_{role.value}"),
        uses=USES,
        expiry=moment(expires, ctx.config.tz),
    )
    if ctx.config.telegram_username:  # known once the Telegram bot has said who it is
        link = f"https://t.me/{ctx.config.telegram_username}?start={invite.code}"
        text += "\n" + ctx.t("admin_invite_link", link=link)
    return [Reply(text, replace_prompt=True)]


FEATURE = Feature(
    "admin_invite",
    commands=(
        Command(
            "moi",
            begin,
            allow((Who.ADMIN,), (Where.PRIVATE,)),
            aliases=("invite",),
            starts_dialog=True,
        ),
    ),
    dialogs={DIALOG: {"unit": Step(ask_unit, take_unit, offers=(PICK,))}},
)
