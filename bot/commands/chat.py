"""`tiendo chat --as PERSON | --unit UNIT`: talk to tiendo in the terminal, no token needed."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from bot.app import open_app
from bot.channels import console
from bot.config import Settings
from bot.errors import UserError
from bot.handler_config import handler_config
from handlers.dispatcher import Dispatcher, utc_now
from handlers.i18n import t
from storage import migrate
from storage.db import session_scope
from storage.models import Person, Role
from storage.repositories import people
from storage.units import UnitIndex, seed_units


def register(subparsers: Any, lang: str) -> None:
    parser = subparsers.add_parser(
        "chat", help=t(lang, "cli_chat_help"), description=t(lang, "cli_chat_description")
    )
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--as", dest="person", help=t(lang, "cli_chat_as_help"))
    who.add_argument("--unit", help=t(lang, "cli_chat_unit_help"))
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    logs_to_file(chat_log(settings))
    await migrate.upgrade(settings.database_url)
    await chat_in_terminal(settings, unit=args.unit, person=args.person)
    return 0


def chat_log(settings: Settings) -> Path:
    return settings.data_dir / "logs" / "chat.log"


async def chat_in_terminal(
    settings: Settings, unit: str | None = None, person: str | None = None
) -> None:
    """Talk on stdin/stdout as `person`, or as the demo officer of `unit`, until end of input."""
    logs_to_file(chat_log(settings))
    lang = settings.default_language
    async with open_app(settings) as app:
        async with session_scope(app.sessions) as session:
            await seed_units(session)
            if unit:
                who = await _demo_officer(session, unit, lang)
            else:
                who = await _existing(session, person or "", lang)
            sender, name = _console_id(who), who.full_name
            intro = t(lang, "cli_chat_intro", name=name)
        dispatcher = Dispatcher(app.sessions, handler_config(settings))
        await console.chat(
            dispatcher, sender, name, clock=utc_now, greeting=intro, language=who.language
        )


def logs_to_file(path: Path) -> None:
    """From now until the command ends, log lines go to `path`, not between the bot's answers.

    The root logger's handlers (stderr, set up by the CLI) are replaced, their filters (such as
    the one hiding tokens) kept, so a failure is still recorded where an operator reads it. They
    are not put back when the chat ends: the database driver's thread logs its last lines as the
    command exits, and those would land on the terminal after the conversation.
    """
    root = logging.getLogger()
    path.parent.mkdir(parents=True, exist_ok=True)
    to_file = logging.FileHandler(path, encoding="utf-8")
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for handler in root.handlers:
        for log_filter in handler.filters:
            to_file.addFilter(log_filter)
        if (
            isinstance(handler, logging.FileHandler)
            and handler.baseFilename == to_file.baseFilename
        ):
            to_file.close()
            return  # already there
    for handler in root.handlers:
        handler.close()
    root.handlers = [to_file]


async def _demo_officer(session: Any, unit_text: str, lang: str) -> Person:
    """The trial officer of the unit `unit_text` names, created (speaking `lang`) if need be."""
    index = await UnitIndex.load(session)
    unit = index.find(unit_text)
    if unit is None:
        closest = ", ".join(index.closest(unit_text)) or "—"
        raise UserError(t(lang, "cli_unknown_unit", unit=unit_text, closest=closest))
    external_id = f"demo-{unit.id}"
    person = await people.find_with_identities(session, console.CHANNEL, external_id)
    if person is None:
        name = t(lang, "cli_chat_trial_officer", unit=unit.short_name)
        person = await people.create(
            session,
            channel=console.CHANNEL,
            external_id=external_id,
            chat_id=external_id,
            name=name,
            role=Role.OFFICER,
            unit_id=unit.id,
            language=lang,
            now=utc_now(),
        )
    return person


async def _existing(session: Any, who: str, lang: str) -> Person:
    person = await people.find_by_id_or_name(session, who)
    if person is None:
        raise UserError(t(lang, "cli_chat_no_person", who=who))
    await people.ensure_identity(session, person, console.CHANNEL, f"person-{person.id}")
    return person


def _console_id(person: Person) -> str:
    return next(i.external_id for i in person.identities if i.channel == console.CHANNEL)
