"""/hopthu: where the bot's messages stand, for an admin on the phone (`tiendo outbox` in chat).

By messenger: waiting, being sent, sent, failed; the oldest message still waiting and how long
it has waited; then the latest failures with their reasons (a few; `tiendo outbox --failed`
lists them all, `--retry` sends them again). Chat ids are personal data: private chats only.
"""

from __future__ import annotations

from datetime import UTC, datetime

from handlers.context import Ctx
from handlers.events import Reply
from handlers.feature import Command, Feature, Where, Who, allow
from handlers.i18n import moment, number
from handlers.registration import CHANNEL_NAMES
from handlers.wording import short
from storage.repositories import outbox
from storage.repositories.outbox import ChannelCounts, Failure

SHOWN_FAILURES = 5
REASON_CHARS = 120


async def overview(ctx: Ctx) -> list[Reply]:
    """The counts by messenger and the latest failures."""
    counts = await outbox.counts(ctx.session)
    if not counts:
        return [Reply(ctx.t("outbox_view_empty"))]
    lines = [ctx.t("outbox_view_title")]
    lines += [line for c in counts for line in _channel_lines(ctx, c)]
    failed = sum(c.failed for c in counts)
    if failed:
        shown = await outbox.failures(ctx.session, SHOWN_FAILURES)
        lines += ["", ctx.t("outbox_view_failures", count=number(ctx.lang, failed))]
        lines += [_failure_line(ctx, f) for f in shown]
        if failed > len(shown):
            more = number(ctx.lang, failed - len(shown))
            lines.append(ctx.t("outbox_view_more_failures", count=more))
    return [Reply("\n".join(lines))]


def _channel_lines(ctx: Ctx, c: ChannelCounts) -> list[str]:
    lines = [
        ctx.t(
            "outbox_view_channel",
            channel=CHANNEL_NAMES.get(c.channel, c.channel),
            pending=number(ctx.lang, c.pending),
            sending=number(ctx.lang, c.sending),
            sent=number(ctx.lang, c.sent),
            failed=number(ctx.lang, c.failed),
        )
    ]
    if c.oldest_pending is not None:
        since = _aware(c.oldest_pending)
        lines.append(
            ctx.t(
                "outbox_view_oldest",
                when=moment(since, ctx.config.tz),
                waited=waited(ctx, (ctx.now - since).total_seconds()),
            )
        )
    return lines


def _failure_line(ctx: Ctx, f: Failure) -> str:
    return ctx.t(
        "outbox_view_failure",
        id=f.id,
        channel=CHANNEL_NAMES.get(f.channel, f.channel),
        chat=f.chat_id,
        kind=f.kind,
        when=moment(_aware(f.created_at), ctx.config.tz),
        reason=short(f.reason or "-", REASON_CHARS),
    )


def waited(ctx: Ctx, seconds: float) -> str:
    """A wait in words: "40 giây", "12 phút", "3 giờ 5 phút"."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return ctx.t("duration_seconds", count=seconds)
    minutes = seconds // 60
    if minutes < 60:
        return ctx.t("duration_minutes", count=minutes)
    return ctx.t("duration_hours", hours=number(ctx.lang, minutes // 60), minutes=minutes % 60)


def _aware(value: datetime) -> datetime:
    """SQLite gives stored times back without their zone; they are UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


FEATURE = Feature(
    "outbox_view",
    commands=(
        Command("hopthu", overview, allow((Who.ADMIN,), (Where.PRIVATE,)), aliases=("outbox",)),
    ),
)
