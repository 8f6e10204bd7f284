"""`tiendo invite UNIT --role …`: a code (and Telegram link) for a unit's contact to join;
`tiendo invite --for PERSON`: a code that adds a second messenger to an existing person."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.app import open_app
from bot.config import Settings
from bot.errors import UserError
from handlers.i18n import moment, t
from storage import migrate
from storage.db import session_scope
from storage.models import Role
from storage.repositories import identity_links, invites, people
from storage.units import UnitIndex, seed_units

_DURATION = re.compile(r"^(\d+)\s*([dhm])$")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def register(subparsers: Any, lang: str) -> None:
    parser = subparsers.add_parser("invite", help=t(lang, "cli_invite_help"))
    parser.add_argument("unit", nargs="?", help=t(lang, "cli_invite_unit_help"))
    parser.add_argument("--for", dest="person", help=t(lang, "cli_invite_for_help"))
    parser.add_argument(
        "--role",
        choices=[r.value for r in Role],
        default=Role.OFFICER.value,
        help=t(lang, "cli_invite_role_help"),
    )
    parser.add_argument("--uses", type=int, default=1, help=t(lang, "cli_invite_uses_help"))
    parser.add_argument("--expires", default="7d", help=t(lang, "cli_invite_expires_help"))
    parser.set_defaults(func=run)


def parse_expiry(text: str, lang: str) -> timedelta | None:
    if text.strip().lower() == "never":
        return None
    match = _DURATION.match(text.strip().lower())
    if match is None or int(match.group(1)) == 0:
        raise UserError(t(lang, "cli_invite_bad_expiry", text=text))
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


async def run(args: argparse.Namespace, settings: Settings) -> int:
    lang = settings.default_language
    if args.person:
        if args.unit:
            raise UserError(t(lang, "cli_invite_for_without_unit"))
        return await link_invite(args, settings)
    if not args.unit:
        raise UserError(t(lang, "cli_invite_unit_needed"))
    if args.uses < 1:
        raise UserError(t(lang, "cli_invite_bad_uses"))
    expiry = parse_expiry(args.expires, lang)
    now = datetime.now(UTC)
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        async with session_scope(app.sessions) as session:
            await seed_units(session)
            index = await UnitIndex.load(session)
            unit = index.find(args.unit)
            if unit is None:
                closest = ", ".join(index.closest(args.unit)) or "—"
                raise UserError(t(lang, "cli_unknown_unit", unit=args.unit, closest=closest))
            invite = await invites.create(
                session,
                unit_id=unit.id,
                role=args.role,
                max_uses=args.uses,
                expires_at=now + expiry if expiry else None,
                now=now,
            )
            code, unit_name = invite.code, unit.name
    role = t(lang, f"role_{args.role}")
    until = t(lang, "cli_invite_never_expires")
    if expiry:
        until = t(lang, "cli_invite_expires_at", moment=moment(now + expiry, settings.tz))
    print(t(lang, "cli_invite_code", code=code))
    print(
        t(
            lang,
            "cli_invite_details",
            unit=unit_name,
            role=role,
            uses=args.uses,
            expiry=until,
        )
    )
    username = await _telegram_username(settings)
    if username:
        print(f"Telegram: https://t.me/{username}?start={code}")
    print(t(lang, "cli_invite_how", code=code))
    return 0


async def _telegram_username(settings: Settings) -> str | None:
    from bot.channels.telegram import bot_username

    return await bot_username(settings)


async def link_invite(args: argparse.Namespace, settings: Settings) -> int:
    """A one-use code that adds the messenger it is redeemed on to an existing person."""
    lang = settings.default_language
    expiry = parse_expiry(args.expires, lang)
    now = datetime.now(UTC)
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        async with session_scope(app.sessions) as session:
            person = await people.find_by_id_or_name(session, args.person)
            if person is None:
                raise UserError(t(lang, "cli_invite_no_person", who=args.person))
            invite = await invites.create(
                session,
                unit_id=person.unit_id,
                role=person.role,
                max_uses=1,
                expires_at=now + expiry if expiry else None,
                now=now,
            )
            identity_links.mark_for(session, invite, person, "cli", now)
            code, name = invite.code, person.full_name
    print(t(lang, "cli_invite_link_code", name=name, code=code))
    print(t(lang, "cli_invite_link_how", code=code))
    return 0
