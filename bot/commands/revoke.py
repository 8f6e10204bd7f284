"""`tiendo revoke PERSON [--restore]`: take a person's access away, or give it back.

The person is named as in /thuhoi: by number ("12", "#12") or by a part of the name, folded; a
name that fits several people lists them with their numbers and changes nothing. A revoked
person's every chat is refused at once; the person and their reports are kept. Audited, with
"cli" as the actor.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from bot.app import open_app
from bot.config import Settings
from bot.errors import UserError
from handlers.i18n import moment, t
from storage import migrate
from storage.db import session_scope
from storage.models import Person
from storage.repositories import contacts

ACTOR = "cli"


def register(subparsers: Any, lang: str) -> None:
    parser = subparsers.add_parser("revoke", help=t(lang, "cli_revoke_help"))
    parser.add_argument("person", help=t(lang, "cli_revoke_person_help"))
    parser.add_argument("--restore", action="store_true", help=t(lang, "cli_revoke_restore_help"))
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    lang = settings.default_language
    now = datetime.now(UTC)
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        async with session_scope(app.sessions) as session:
            person = _one(await contacts.matching(session, args.person), args.person, lang)
            was = person.revoked_at
            changed = contacts.set_revoked(
                session, person, revoked=not args.restore, now=now, actor=ACTOR
            )
            values = {"id": person.id, "name": person.full_name}
    if args.restore:
        print(t(lang, "cli_revoke_restored" if changed else "cli_revoke_not_revoked", **values))
    elif changed:
        print(t(lang, "cli_revoke_done", **values))
    else:
        assert was is not None
        print(t(lang, "cli_revoke_already", at=moment(was, settings.tz), **values))
    return 0


def _one(found: list[Person], wanted: str, lang: str) -> Person:
    """The one person `wanted` names; none or several is a problem to fix (exit 1)."""
    if not found:
        raise UserError(t(lang, "cli_revoke_nobody", who=wanted))
    if len(found) > 1:
        listed = "\n".join(_line(person, lang) for person in found)
        raise UserError(t(lang, "cli_revoke_several", who=wanted, count=len(found), people=listed))
    return found[0]


def _line(person: Person, lang: str) -> str:
    unit = person.unit.name if person.unit else t(lang, "cli_revoke_no_unit")
    role = t(lang, f"role_{person.role}")
    return t(lang, "cli_revoke_person", id=person.id, name=person.full_name, role=role, unit=unit)
