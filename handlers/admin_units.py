"""/donvi and /donvi UNIT: who can be reminded where, for the standing agency and the committee.

First the units that lead tasks but have nobody a reminder can reach (nobody registered, or
only people revoked or unreachable): the agency's next invites. Then each unit with its
contacts (name, role, messengers, reachable or not), its last report and its overdue tasks (a
task never reported on counts once its due date has passed). `/donvi UNIT` shows one unit,
with the counts of its tasks. Contacts are personal data: private chats only.
"""

from __future__ import annotations

from handlers.context import Ctx
from handlers.events import Reply
from handlers.feature import Command, Feature, Where, Who, allow
from handlers.i18n import day, moment
from handlers.registration import CHANNEL_NAMES
from handlers.wording import short
from storage.repositories import contacts
from storage.repositories.contacts import Contact, Directory, UnitContacts


async def units(ctx: Ctx) -> list[Reply]:
    """The whole list, or one unit when a name follows the command."""
    if ctx.event.args:
        return await one_unit(ctx, " ".join(ctx.event.args))
    found = await contacts.directory(ctx.session, ctx.today)
    if not (found.unreached or found.reached or found.unattached):
        return [Reply(ctx.t("admin_units_none"))]
    return [Reply("\n".join(_directory_lines(ctx, found)))]


def _directory_lines(ctx: Ctx, found: Directory) -> list[str]:
    lines = [ctx.t("admin_units_title", date=day(ctx.today))]
    if found.unreached:
        lines += ["", ctx.t("admin_units_unreached_title", count=len(found.unreached))]
        lines += [_unreached_line(ctx, unit) for unit in found.unreached]
        lines.append(ctx.t("admin_units_invite_hint"))
    if found.reached:
        lines += ["", ctx.t("admin_units_reached_title", count=len(found.reached))]
        for unit in found.reached:
            lines.append(_unit_line(ctx, unit))
            lines += [_contact_line(ctx, contact) for contact in unit.contacts]
    if found.unattached:
        lines += ["", ctx.t("admin_units_unattached_title", count=len(found.unattached))]
        lines += [_contact_line(ctx, contact) for contact in found.unattached]
    return lines


def _unreached_line(ctx: Ctx, unit: UnitContacts) -> str:
    why = (
        ctx.t("admin_units_unreachable", count=len(unit.contacts))
        if unit.contacts
        else ctx.t("admin_units_nobody")
    )
    return ctx.t(
        "admin_units_unreached_line",
        unit=unit.name,
        led=unit.led,
        overdue=unit.overdue,
        why=why,
    )


def _last_report(ctx: Ctx, unit: UnitContacts) -> str:
    if unit.last_report is None:
        return ctx.t("admin_units_never_reported")
    return ctx.t("admin_units_last_report", when=moment(unit.last_report, ctx.config.tz))


def _unit_line(ctx: Ctx, unit: UnitContacts) -> str:
    last = _last_report(ctx, unit)
    if not unit.led:
        return ctx.t("admin_units_unit_no_tasks", unit=unit.name, last=last)
    return ctx.t("admin_units_unit", unit=unit.name, led=unit.led, overdue=unit.overdue, last=last)


def _contact_line(ctx: Ctx, contact: Contact) -> str:
    role = ctx.t(f"role_{contact.role}")
    if contact.revoked:
        return ctx.t(
            "admin_units_contact_revoked", id=contact.person_id, name=contact.name, role=role
        )
    channels = [
        ctx.t(
            "admin_units_channel" if reachable else "admin_units_channel_unreachable",
            channel=CHANNEL_NAMES.get(channel, channel),
        )
        for channel, reachable in contact.channels
    ]
    return ctx.t(
        "admin_units_contact",
        id=contact.person_id,
        name=contact.name,
        role=role,
        channels=", ".join(channels) or ctx.t("admin_units_no_channel"),
    )


async def one_unit(ctx: Ctx, typed: str) -> list[Reply]:
    """One unit, found by any spelling: its tasks' counts, last report and contacts."""
    lookup = (await contacts.unit_finder(ctx.session)).look_up(typed)
    unit = lookup.unit
    if unit is None:
        names = "; ".join(candidate.name for candidate in lookup.candidates) or ctx.t("none")
        return [Reply(ctx.t("admin_units_unknown", typed=short(typed, 60), names=names))]
    if contacts.stands_for_others(unit):
        return [Reply(ctx.t("admin_units_collective", unit=unit.name))]
    found = await contacts.directory(ctx.session, ctx.today)
    card = found.unit(unit.id) or UnitContacts(unit.id, unit.name, unit.short_name)
    cooperating = await contacts.cooperating_count(ctx.session, unit.id)
    lines = [
        ctx.t("admin_units_card_title", unit=unit.name, short=unit.short_name),
        ctx.t(
            "admin_units_card_tasks",
            led=card.led,
            done=card.done,
            overdue=card.overdue,
            not_reported=card.not_reported,
            cooperating=cooperating,
        ),
        ctx.t("admin_units_card_last", when=moment(card.last_report, ctx.config.tz))
        if card.last_report
        else ctx.t("admin_units_card_never"),
    ]
    if card.contacts:
        lines.append(ctx.t("admin_units_card_contacts", count=len(card.contacts)))
        lines += [_contact_line(ctx, contact) for contact in card.contacts]
    if not card.reachable:
        lines.append(ctx.t("admin_units_card_nobody", short=unit.short_name))
    return [Reply("\n".join(lines))]


FEATURE = Feature(
    "admin_units",
    commands=(
        Command(
            "donvi",
            units,
            allow((Who.ADMIN, Who.COMMITTEE), (Where.PRIVATE,)),
            aliases=("units",),
        ),
    ),
)
