"""`tiendo units list|add`: the units tiendo recognises, and adding one the catalog lacks."""

from __future__ import annotations

import argparse
from typing import Any

from bot.app import open_app
from bot.config import Settings
from bot.errors import UserError
from storage import migrate
from storage.db import session_scope
from storage.models import UnitKind
from storage.units import UnitConflict, add_unit, all_units, seed_units

KIND_LABELS = {
    "department": "sở, ban, ngành",
    "district": "quận, huyện",
    "other": "cơ quan khác",
    "collective": "nhóm đơn vị",
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("units", help="xem và thêm đơn vị (sở, ngành, quận, huyện)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="liệt kê các đơn vị đã biết").set_defaults(func=list_units)
    add = actions.add_parser("add", help="thêm một đơn vị mới cùng các cách viết khác")
    add.add_argument("name", help="tên đầy đủ, ví dụ “Sở Ngoại vụ”")
    add.add_argument("--short", default="", help="tên viết tắt, ví dụ “SNgV”")
    add.add_argument(
        "--kind",
        choices=[k.value for k in UnitKind if k != UnitKind.COLLECTIVE],
        default=UnitKind.DEPARTMENT.value,
        help="loại đơn vị",
    )
    add.add_argument("--alias", action="append", default=[], help="cách viết khác (lặp lại được)")
    add.set_defaults(func=add_one)


async def list_units(args: argparse.Namespace, settings: Settings) -> int:
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        async with session_scope(app.sessions) as session:
            await seed_units(session)
            units = await all_units(session)
            for unit in units:
                print(
                    f"{unit.name}  [{unit.short_name}]  ({KIND_LABELS.get(unit.kind, unit.kind)})"
                )
    return 0


async def add_one(args: argparse.Namespace, settings: Settings) -> int:
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
                raise UserError(f"Không thêm được đơn vị: {exc}.") from None
            print(f"Đã thêm đơn vị “{unit.name}” ({len(unit.aliases)} cách viết được nhận ra).")
    return 0
