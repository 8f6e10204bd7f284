"""`tiendo digest --preview DIR | --send [--at "YYYY-MM-DD HH:MM"]`: the weekly digest of the
followed plans for the steering committee's groups (scheduler.digest builds it).

`--preview DIR` writes the text (digest.txt), the PNG chart and the XLSX workbook into DIR and
prints the text; nothing is sent. `--send` puts the digest in the outbox for every bound
committee group, once per group and week (the outbox key says which week: a second `--send` in
the same week enqueues nothing, and says so); outside office hours it waits for the next
opening. The rows and their files are described in scheduler.digest. `--at` computes the digest
as of that moment, in the city's time (TIMEZONE), e.g. to see last Friday's again.
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.app import open_app
from bot.config import Settings
from bot.errors import UserError
from handlers.i18n import day, moment, t
from storage import migrate
from storage.atomic import write_atomically
from storage.db import session_scope

if TYPE_CHECKING:
    from scheduler.digest import Digest
    from scheduler.digest_send import WeekSend

TEXT_FILE = "digest.txt"
_AT = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})[ T]+(\d{1,2}):(\d{2})\s*$")


def register(subparsers: Any, lang: str) -> None:
    parser = subparsers.add_parser("digest", help=t(lang, "cli_digest_help"))
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--preview", metavar="DIR", type=Path, help=t(lang, "cli_digest_preview_help")
    )
    what.add_argument("--send", action="store_true", help=t(lang, "cli_digest_send_help"))
    parser.add_argument("--at", metavar='"YYYY-MM-DD HH:MM"', help=t(lang, "cli_digest_at_help"))
    parser.set_defaults(func=run)


def parse_at(text: str, settings: Settings) -> datetime:
    """ "2026-11-27 15:00" in the city's time as an aware UTC moment; anything else refused."""
    match = _AT.match(text)
    try:
        if not match:
            raise ValueError(text)
        year, month, day_, hour, minute = (int(part) for part in match.groups())
        local = datetime(year, month, day_, hour, minute, tzinfo=settings.tz)
    except ValueError:
        raise UserError(t(settings.default_language, "cli_digest_bad_at", text=text)) from None
    return local.astimezone(UTC)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here: matplotlib takes most of a second to import, and every `tiendo` command
    # imports this module to build its help.
    from scheduler.digest import build_digest
    from scheduler.digest_send import send_week
    from scheduler.jobs import working_calendar

    now = parse_at(args.at, settings) if args.at else datetime.now(UTC)
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        if args.preview is not None:
            async with app.sessions() as session:
                digest = await build_digest(session, now, settings.tz, settings.default_language)
            preview(digest, args.preview, settings.default_language)
            return 0
        async with session_scope(app.sessions) as session:
            calendar = await working_calendar(session, settings)
            sent = await send_week(
                session, now, calendar, lang=settings.default_language, data_dir=settings.data_dir
            )
    if not sent.queued:
        raise UserError(t(settings.default_language, "cli_digest_no_groups"))
    for line in sent_lines(sent, now, settings):
        print(line)
    return 0


def preview(digest: Digest, folder: Path, lang: str) -> None:
    """Writes the text, the chart and the workbook into `folder`, then prints the text and
    what was written."""

    written = [(TEXT_FILE, digest.text.encode("utf-8"))]
    written += [(name, content) for name, content, _mime in digest.files()]
    try:
        for name, content in written:
            write_atomically(folder / name, content)
    except OSError as exc:
        reason = exc.strerror or exc
        raise UserError(t(lang, "cli_digest_cannot_write", path=folder, reason=reason)) from None
    print(digest.text)
    print()
    names = ", ".join(name for name, _content in written)
    print(t(lang, "cli_digest_written", files=names, folder=folder))


def sent_lines(sent: WeekSend, now: datetime, settings: Settings) -> list[str]:
    """What `--send` did, group by group, and when the new rows go out."""
    lang, week = settings.default_language, sent.week
    span = {"start": day(sent.period.start), "end": day(sent.period.end)}
    lines = [t(lang, "cli_digest_send_head", week=week, count=len(sent.queued), **span)]
    for item in sent.queued:
        chat = {"channel": item.channel, "chat": item.chat_id, "title": item.title or item.chat_id}
        key = "cli_digest_enqueued" if item.new else "cli_digest_already"
        lines.append(t(lang, key, week=week, **chat))
    if not sent.new:
        lines.append(t(lang, "cli_digest_nothing_new", week=week))
    elif sent.not_before > now:
        lines.append(t(lang, "cli_digest_not_before", when=moment(sent.not_before, settings.tz)))
    return lines
