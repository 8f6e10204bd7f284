"""`tiendo roles`: the role table as the bot applies it, for the operator to read.

One block per command, in the order /trogiup lists them: its name and aliases, whether it
needs a unit, then each role (and someone not registered) with the kinds of chat it may be
sent in. It reads handlers.roles.TABLE, the one table that decides; nothing here restates it.
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.config import Settings
from handlers import registry  # noqa: F401  (importing it fills the role table)
from handlers.feature import Command, Where, Who
from handlers.i18n import t
from handlers.roles import TABLE


def register(subparsers: Any, lang: str) -> None:
    parser = subparsers.add_parser("roles", help=t(lang, "cli_roles_help"))
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    lang = settings.default_language
    commands = list(TABLE)
    print(t(lang, "cli_roles_heading", count=len(commands)))
    for command in commands:
        print()
        for line in command_lines(command, lang):
            print(line)
    return 0


def command_lines(command: Command, lang: str) -> list[str]:
    """ "/baocao (report) — cần đơn vị", then one line per role: "  cán bộ đầu mối: chat riêng"."""
    head = f"/{command.name}"
    if command.aliases:
        head += " (" + ", ".join(f"/{alias}" for alias in command.aliases) + ")"
    notes = []
    if command.needs_unit:
        notes.append(t(lang, "cli_roles_needs_unit"))
    if command.starts_dialog:
        notes.append(t(lang, "cli_roles_dialog"))
    if not command.listed:
        notes.append(t(lang, "cli_roles_unlisted"))
    if notes:
        head += " — " + "; ".join(notes)
    return [head, *(f"  {role_name(who, lang)}: {chats(command, who, lang)}" for who in Who)]


def role_name(who: Who, lang: str) -> str:
    return t(lang, "cli_roles_guest") if who == Who.GUEST else t(lang, f"role_{who.value}")


def chats(command: Command, who: Who, lang: str) -> str:
    allowed = [where for where in Where if command.allows(who, where)]
    if not allowed:
        return t(lang, "cli_roles_nowhere")
    return ", ".join(t(lang, f"cli_roles_where_{where.value}") for where in allowed)
