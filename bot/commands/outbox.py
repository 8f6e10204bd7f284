"""`tiendo outbox [--failed] [--retry ID | --retry-failed]`: where the bot's messages stand.

Without options: pending, sending, sent and failed messages by channel, the oldest still
waiting, and the latest failures with their reasons. `--failed` lists every failure. A retry
puts failed messages back in line (audited); the running `tiendo run` sends them at its next
poll, at each platform's pace.
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.app import open_app
from bot.config import Settings
from bot.errors import UserError
from handlers.i18n import moment, t
from handlers.i18n import number as figure
from scheduler.rate_limit import SystemClock
from storage import migrate
from storage.db import session_scope
from storage.repositories import audit
from storage.repositories import outbox as store
from storage.repositories.outbox import ChannelCounts, Failure

ACTOR = "cli"
# Failures shown in the overview; `--failed` shows them all.
SHOWN_FAILURES = 10


def register(subparsers: Any, lang: str) -> None:
    parser = subparsers.add_parser("outbox", help=t(lang, "cli_outbox_help"))
    parser.add_argument("--failed", action="store_true", help=t(lang, "cli_outbox_failed_help"))
    retry = parser.add_mutually_exclusive_group()
    retry.add_argument("--retry", type=int, metavar="ID", help=t(lang, "cli_outbox_retry_help"))
    retry.add_argument(
        "--retry-failed", action="store_true", help=t(lang, "cli_outbox_retry_failed_help")
    )
    parser.set_defaults(func=outbox)


async def outbox(args: argparse.Namespace, settings: Settings) -> int:
    lang = settings.default_language
    async with open_app(settings) as app:
        await migrate.upgrade(settings.database_url)
        async with session_scope(app.sessions) as session:
            if args.retry is not None or args.retry_failed:
                print(await _retry(session, args.retry, lang))
                return 0
            if args.failed:
                lines = failure_lines(await store.failures(session), None, settings)
            else:
                counts = await store.counts(session)
                shown = await store.failures(session, SHOWN_FAILURES)
                total = sum(c.failed for c in counts)
                lines = count_lines(counts, settings) + failure_lines(shown, total, settings)
    for line in lines:
        print(line)
    return 0


async def _retry(session: Any, row_id: int | None, lang: str) -> str:
    now = SystemClock().now()
    if row_id is None:
        count = await store.retry_failed(session, now)
        _audit(session, now, "failed", count)
        return t(lang, "cli_outbox_retried_all", count=figure(lang, count))
    if not await store.retry(session, row_id, now):
        raise UserError(t(lang, "cli_outbox_not_failed", id=row_id))
    _audit(session, now, row_id, 1)
    return t(lang, "cli_outbox_retried", id=row_id)


def _audit(session: Any, now: Any, which: object, count: int) -> None:
    audit.record(
        session,
        now=now,
        actor=ACTOR,
        action="outbox_retry",
        entity="outbox",
        entity_id=which,
        details={"count": count},
    )


def count_lines(counts: list[ChannelCounts], settings: Settings) -> list[str]:
    """One line per channel, and when its oldest pending message was decided."""
    lang = settings.default_language
    if not counts:
        return [t(lang, "cli_outbox_empty")]
    lines = []
    for c in counts:
        lines.append(
            t(
                lang,
                "cli_outbox_channel",
                channel=c.channel,
                pending=figure(lang, c.pending),
                sending=figure(lang, c.sending),
                sent=figure(lang, c.sent),
                failed=figure(lang, c.failed),
            )
        )
        if c.oldest_pending is not None:
            when = moment(c.oldest_pending, settings.tz)
            lines.append(t(lang, "cli_outbox_oldest", when=when))
    return lines


def failure_lines(shown: list[Failure], total: int | None, settings: Settings) -> list[str]:
    """The failures with their reasons; `total` (the overview) says how many are not shown."""
    lang = settings.default_language
    if not shown:
        return [t(lang, "cli_outbox_no_failures")]
    lines = [t(lang, "cli_outbox_failures", count=figure(lang, total or len(shown)))]
    for f in shown:
        lines.append(
            t(
                lang,
                "cli_outbox_failure",
                id=f.id,
                channel=f.channel,
                chat=f.chat_id,
                kind=f.kind,
                attempts=f.attempts,
                when=moment(f.created_at, settings.tz),
                reason=f.reason or "-",
            )
        )
    if total is not None and total > len(shown):
        lines.append(t(lang, "cli_outbox_more_failures", count=figure(lang, total - len(shown))))
    return lines
