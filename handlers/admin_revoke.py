"""/thuhoi PERSON: an admin takes a person's access away; their chats stop working at once.

The person is named by number ("#12", "12") or by a part of their name, without diacritics if
one likes; several people matching are listed with their numbers and the admin names one.
Thu hồi / Huỷ confirms. The person is kept with their reports (the router refuses every message
of a revoked person); an admin cannot revoke themselves; `tiendo revoke --restore` gives access
back. Audited with the before and after.
"""

from __future__ import annotations

from handlers.context import Ctx
from handlers.events import Option, Reply
from handlers.feature import Command, Feature, Where, Who, allow
from handlers.i18n import moment
from handlers.options import CONFIRM, PICK
from handlers.permissions import actor
from handlers.steps import Answer, Finish, Refusal, Step, enter
from handlers.wording import short
from storage.models import Person
from storage.repositories import contacts

DIALOG = "revoke"
LISTED = 10  # people listed when a name matches many; the rest are counted


async def begin(ctx: Ctx) -> list[Reply]:
    ctx.clear()
    typed = " ".join(ctx.event.args)
    if not typed:
        return [Reply(ctx.t("admin_revoke_usage"))]
    found = await contacts.matching(ctx.session, typed)
    if not found:
        return [Reply(ctx.t("admin_revoke_nobody", typed=short(typed, 60)))]
    if len(found) > 1:
        _remember(ctx, typed, found)
        return await enter(ctx, DIALOG, "person")
    blocked = _cannot(ctx, found[0])
    if blocked is not None:
        return [Reply(blocked)]
    ctx.put(person_id=found[0].id)
    return await enter(ctx, DIALOG, "confirm")


def _remember(ctx: Ctx, typed: str, found: list[Person]) -> None:
    ctx.put(typed=short(typed, 60), people=[person.id for person in found])


def _cannot(ctx: Ctx, person: Person) -> str | None:
    """Why `person` cannot be revoked by this admin, or None."""
    if ctx.person is not None and person.id == ctx.person.id:
        return ctx.t("admin_revoke_self")
    if person.revoked_at is not None:
        return ctx.t(
            "admin_revoke_already",
            who=_who(ctx, person),
            at=moment(person.revoked_at, ctx.config.tz),
            id=person.id,
        )
    return None


def _who(ctx: Ctx, person: Person) -> str:
    """ "#12 Nguyễn Văn An (cán bộ đầu mối, Sở Thông tin và Truyền thông)"."""
    unit = person.unit.name if person.unit else ctx.t("no_unit_name")
    return ctx.t(
        "admin_revoke_person",
        id=person.id,
        name=person.full_name,
        role=ctx.t(f"role_{person.role}"),
        unit=unit,
    )


async def _people(ctx: Ctx) -> list[Person]:
    ids = [pid for pid in ctx.data.get("people") or [] if isinstance(pid, int)]
    found = {person.id: person for person in await contacts.people_by_ids(ctx.session, ids)}
    return [found[pid] for pid in ids if pid in found]


async def ask_person(ctx: Ctx) -> Reply:
    listed = await _people(ctx)
    lines = [ctx.t("admin_revoke_several", typed=ctx.data.get("typed", ""), count=len(listed))]
    lines += ["• " + _who(ctx, person) for person in listed[:LISTED]]
    if len(listed) > LISTED:
        lines.append(ctx.t("admin_revoke_more", count=len(listed) - LISTED))
    lines.append(ctx.t("admin_revoke_name_one"))
    options = tuple(
        Option(PICK.id(person.id), f"#{person.id} {short(person.full_name, 40)}")
        for person in listed[:LISTED]
    )
    return Reply("\n".join(lines), options)


async def take_person(ctx: Ctx, answer: Answer) -> str | Refusal | Finish:
    """One of the people listed (pressed, or by number), or a name typed more fully."""
    picked = PICK.value(answer.choice)
    if picked is not None:
        found = [person for person in await _people(ctx) if person.id == picked]
        if not found:  # forged, or listed in an earlier question
            return Refusal(ctx.t("option_not_valid"))
    elif answer.text.strip():
        found = await contacts.matching(ctx.session, answer.text)
        if not found:
            return Refusal(ctx.t("admin_revoke_nobody", typed=short(answer.text, 60)))
        if len(found) > 1:
            _remember(ctx, answer.text, found)
            return "person"
    else:
        return Refusal(ctx.t("admin_revoke_name_one"))
    blocked = _cannot(ctx, found[0])
    if blocked is not None:
        return Finish([Reply(blocked, replace_prompt=True)])
    ctx.put(person_id=found[0].id)
    return "confirm"


async def _chosen(ctx: Ctx) -> Person | None:
    person_id = ctx.data.get("person_id")
    if not isinstance(person_id, int):
        return None
    found = await contacts.people_by_ids(ctx.session, [person_id])
    return found[0] if found else None


async def ask_confirm(ctx: Ctx) -> Reply | Finish:
    person = await _chosen(ctx)
    if person is None:
        return Finish([Reply(ctx.t("admin_revoke_gone"))])
    options = (
        Option(CONFIRM.id("send"), ctx.t("admin_revoke_do")),
        Option(CONFIRM.id("cancel"), ctx.t("cancel")),
    )
    return Reply(ctx.t("admin_revoke_confirm", who=_who(ctx, person)), options, columns=2)


async def take_confirm(ctx: Ctx, answer: Answer) -> Refusal | Finish:
    confirmed = CONFIRM.value(answer.choice)
    if confirmed == "cancel":
        return Finish([Reply(ctx.t("admin_revoke_cancelled"), replace_prompt=True)])
    if confirmed != "send":  # "edit" is the report's, not offered here
        return Refusal(ctx.t("choose_option"))
    person = await _chosen(ctx)
    if person is None:
        return Finish([Reply(ctx.t("admin_revoke_gone"))])
    blocked = _cannot(ctx, person)  # again: another admin may have revoked them meanwhile
    if blocked is not None:
        return Finish([Reply(blocked, replace_prompt=True)])
    contacts.set_revoked(ctx.session, person, revoked=True, now=ctx.now, actor=actor(ctx))
    return Finish([Reply(ctx.t("admin_revoke_done", who=_who(ctx, person)), replace_prompt=True)])


FEATURE = Feature(
    "admin_revoke",
    commands=(
        Command(
            "thuhoi",
            begin,
            allow((Who.ADMIN,), (Where.PRIVATE,)),
            aliases=("revoke",),
            starts_dialog=True,
        ),
    ),
    dialogs={
        DIALOG: {
            # Not numbered: "12" typed is the person numbered 12, never the 12th line.
            "person": Step(
                ask_person, take_person, offers=(PICK,), numbered=False, leads_to=("confirm",)
            ),
            "confirm": Step(ask_confirm, take_confirm, offers=(CONFIRM,)),
        },
    },
)
