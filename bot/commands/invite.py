"""`tiendo invite UNIT --role …`: a code (and Telegram link) for a unit's contact to join."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.app import open_app
from bot.config import Settings
from bot.errors import UserError
from handlers.i18n import t
from storage import migrate
from storage.db import session_scope
from storage.models import Role
from storage.repositories import invites
from storage.units import UnitIndex, seed_units

_DURATION = re.compile(r"^(\d+)\s*([dhm])$")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("invite", help="tạo mã mời cho cán bộ của một đơn vị")
    parser.add_argument("unit", help="đơn vị, ví dụ “Sở TT&TT” hoặc “UBND huyện Vĩnh Bảo”")
    parser.add_argument(
        "--role",
        choices=[r.value for r in Role],
        default=Role.OFFICER.value,
        help="vai trò: officer (cán bộ đầu mối), head (lãnh đạo), committee, admin",
    )
    parser.add_argument("--uses", type=int, default=1, help="số người được dùng mã (mặc định 1)")
    parser.add_argument(
        "--expires", default="7d", help="hiệu lực: 7d, 48h, 30m hoặc never (mặc định 7d)"
    )
    parser.set_defaults(func=run)


def parse_expiry(text: str) -> timedelta | None:
    if text.strip().lower() == "never":
        return None
    match = _DURATION.match(text.strip().lower())
    if match is None or int(match.group(1)) == 0:
        raise UserError(f"--expires “{text}” không hợp lệ: dùng dạng 7d, 48h, 30m hoặc never.")
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.uses < 1:
        raise UserError("--uses phải từ 1 trở lên.")
    expiry = parse_expiry(args.expires)
    now = datetime.now(UTC)
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        async with session_scope(app.sessions) as session:
            await seed_units(session)
            index = await UnitIndex.load(session)
            unit = index.find(args.unit)
            if unit is None:
                closest = ", ".join(index.closest(args.unit)) or "—"
                raise UserError(f"Không nhận ra đơn vị “{args.unit}”. Gần giống: {closest}.")
            invite = await invites.create(
                session,
                unit_id=unit.id,
                role=args.role,
                max_uses=args.uses,
                expires_at=now + expiry if expiry else None,
                now=now,
            )
            code, unit_name = invite.code, unit.name
    role = t("vi", f"role_{args.role}")
    print(f"Mã mời: {code}")
    print(
        f"Đơn vị: {unit_name} · vai trò: {role} · số lần dùng: {args.uses} · "
        + (
            f"hết hạn: {(now + expiry).astimezone(settings.tz):%d/%m/%Y %H:%M}"
            if expiry
            else "không hết hạn"
        )
    )
    username = await _telegram_username(settings)
    if username:
        print(f"Telegram: https://t.me/{username}?start={code}")
    print(f"Zalo hoặc Telegram: gửi “/start {code}” cho bot (trên Zalo có thể chỉ gửi mã).")
    return 0


async def _telegram_username(settings: Settings) -> str | None:
    from bot.channels.telegram import bot_username

    return await bot_username(settings)
