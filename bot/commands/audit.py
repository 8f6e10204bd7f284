"""`tiendo audit [--since DATE] [--limit N] [--format text|json]`: the audit log, oldest first.

Each entry: when (dd/mm/yyyy HH:MM in the city's time zone), who (a person by name and number,
their messenger identity, or `cli` and the like), the action, what it was done to, and the
details with the before and after of a change. `--since` takes a day as the office writes it
(dd/mm/yyyy) or as ISO (yyyy-mm-dd), from its midnight in the city; `--limit N` keeps the N
latest entries. Anything else typed is refused with a message saying what is expected.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import open_app
from bot.config import Settings
from bot.errors import UserError
from handlers.i18n import moment, t
from storage import migrate
from storage.models import AuditLog, Person
from storage.repositories import audit

FORMATS = ("text", "json")
LIMIT_MAX = 1_000_000
_OFFICE_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_PERSON = re.compile(r"person:([0-9]+)\b")
# Actions whose details hold each changed field as [before, after] (the importer, plans).
_PAIRED = (".updated", ".renamed")


def register(subparsers: Any, lang: str) -> None:
    parser = subparsers.add_parser("audit", help=t(lang, "cli_audit_help"))
    parser.add_argument("--since", metavar="DATE", help=t(lang, "cli_audit_since_help"))
    parser.add_argument("--limit", metavar="N", help=t(lang, "cli_audit_limit_help"))
    parser.add_argument(
        "--format", metavar="text|json", default="text", help=t(lang, "cli_audit_format_help")
    )
    parser.set_defaults(func=run)


def parse_since(text: str, lang: str) -> date:
    """A day typed dd/mm/yyyy or yyyy-mm-dd; anything else is refused with both forms."""
    typed = text.strip()
    office, iso = _OFFICE_DATE.fullmatch(typed), _ISO_DATE.fullmatch(typed)
    try:
        if office:
            day, month, year = (int(part) for part in office.groups())
            return date(year, month, day)
        if iso:
            year, month, day = (int(part) for part in iso.groups())
            return date(year, month, day)
    except ValueError:
        pass  # 31/02/2026: the right shape, not a day
    raise UserError(t(lang, "cli_audit_bad_date", text=typed))


def parse_limit(text: str, lang: str) -> int:
    typed = text.strip()
    if not re.fullmatch(r"[0-9]{1,7}", typed) or not 1 <= int(typed) <= LIMIT_MAX:
        raise UserError(t(lang, "cli_audit_bad_limit", text=typed, most=LIMIT_MAX))
    return int(typed)


def parse_format(text: str, lang: str) -> str:
    typed = text.strip().lower()
    if typed not in FORMATS:
        raise UserError(t(lang, "cli_audit_bad_format", text=text, formats=", ".join(FORMATS)))
    return typed


async def run(args: argparse.Namespace, settings: Settings) -> int:
    lang = settings.default_language
    since = parse_since(args.since, lang) if args.since is not None else None
    limit = parse_limit(args.limit, lang) if args.limit is not None else None
    fmt = parse_format(args.format, lang)
    start = datetime.combine(since, time(), settings.tz).astimezone(UTC) if since else None
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        async with app.sessions() as session:
            entries = await audit.since(session, start, limit)
            names = await _names(session, entries)
    if fmt == "json":
        print(json.dumps([_record(e, names, settings) for e in entries], ensure_ascii=False))
        return 0
    if not entries:
        print(t(lang, "cli_audit_none"))
        return 0
    for entry in entries:
        print(entry_line(entry, names, settings))
        for line in detail_lines(entry, lang):
            print("    " + line)
    return 0


async def _names(session: AsyncSession, entries: Sequence[AuditLog]) -> dict[int, str]:
    """The names of the people the entries' actors mention, in one query."""
    ids = {int(found) for entry in entries for found in _PERSON.findall(entry.actor)}
    if not ids:
        return {}
    rows = await session.execute(select(Person.id, Person.full_name).where(Person.id.in_(ids)))
    return {person_id: name for person_id, name in rows}


def who(actor: str, names: dict[int, str]) -> str:
    """ "Nguyễn Văn An (person:3 telegram:1001)" for a person; the actor as written otherwise."""
    found = _PERSON.search(actor)
    name = names.get(int(found.group(1))) if found else None
    return f"{name} ({actor})" if name else actor


def entry_line(entry: AuditLog, names: dict[int, str], settings: Settings) -> str:
    """When · who · action · what, on one line."""
    when = moment(entry.at, settings.tz)
    return f"{when} · {who(entry.actor, names)} · {entry.action} · {entry.entity} {entry.entity_id}"


def detail_lines(entry: AuditLog, lang: str) -> list[str]:
    """The details: the before and the after of a change first, then the rest."""
    details = dict(entry.details or {})
    lines = []
    for key, label in (("before", "cli_audit_before"), ("after", "cli_audit_after")):
        if key in details:
            lines.append(t(lang, label, value=_shown(details.pop(key))))
    paired = entry.action.endswith(_PAIRED)
    for key, value in details.items():
        if paired and isinstance(value, list) and len(value) == 2:
            change = t(lang, "cli_audit_change", before=_shown(value[0]), after=_shown(value[1]))
            lines.append(f"{key}: {change}")
        else:
            lines.append(f"{key}: {_shown(value)}")
    return lines


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _record(entry: AuditLog, names: dict[int, str], settings: Settings) -> dict[str, Any]:
    at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)
    return {
        "id": entry.id,
        "at": at.astimezone(settings.tz).isoformat(),
        "actor": entry.actor,
        "who": who(entry.actor, names),
        "action": entry.action,
        "entity": entry.entity,
        "entity_id": entry.entity_id,
        "details": entry.details or {},
    }
