"""`tiendo units list|add`: the units tiendo recognises, and adding one the catalog lacks."""

from __future__ import annotations

import argparse
from typing import Any

from bot.app import open_app
from bot.config import Settings
from bot.errors import UserError
from handlers.i18n import catalog, t
from storage import migrate
from storage.db import session_scope
from storage.models import UnitKind
from storage.units import UnitConflict, add_unit, all_units, seed_units


def register(subparsers: Any, lang: str) -> None:
    parser = subparsers.add_parser("units", help=t(lang, "cli_units_help"))
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help=t(lang, "cli_units_list_help"))
    listing.set_defaults(func=list_units)
    add = actions.add_parser("add", help=t(lang, "cli_units_add_help"))
    add.add_argument("name", help=t(lang, "cli_units_name_help"))
    add.add_argument("--short", default="", help=t(lang, "cli_units_short_help"))
    add.add_argument(
        "--kind",
        choices=[k.value for k in UnitKind if k != UnitKind.COLLECTIVE],
        default=UnitKind.DEPARTMENT.value,
        help=t(lang, "cli_units_kind_help"),
    )
    add.add_argument("--alias", action="append", default=[], help=t(lang, "cli_units_alias_help"))
    add.set_defaults(func=add_one)


def kind_label(lang: str, kind: str) -> str:
    """A unit's kind in words ("sở, ban, ngành"); a kind the catalog lacks shows as stored."""
    return catalog(lang).get(f"cli_unit_kind_{kind}", kind)


async def list_units(args: argparse.Namespace, settings: Settings) -> int:
    lang = settings.default_language
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        async with session_scope(app.sessions) as session:
            await seed_units(session)
            units = await all_units(session)
            for unit in units:
                print(f"{unit.name}  [{unit.short_name}]  ({kind_label(lang, unit.kind)})")
    return 0


async def add_one(args: argparse.Namespace, settings: Settings) -> int:
    lang = settings.default_language
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        async with session_scope(app.sessions) as session:
            await seed_units(session)
            try:
                unit = await add_unit(
                    session,
                    args.name.strip(),
                    args.short.strip(),
                    args.kind,
                    [a.strip() for a in args.alias if a.strip()],
                )
            except UnitConflict as exc:
                raise UserError(t(lang, "cli_units_not_added", reason=exc)) from None
            print(t(lang, "cli_units_added", name=unit.name, spellings=len(unit.aliases)))
    return 0
