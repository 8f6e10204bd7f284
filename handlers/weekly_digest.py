"""/baocaotuan: the week's digest to the steering committee's groups now, from the admin's phone
(`tiendo digest --send` in chat), and `/baocaotuan xem` to read it first.

Sending goes through scheduler.digest_send, the path of the CLI and of the Friday job: each
bound committee group gets the week's digest once, whoever asks and however often (a second ask
says when it was queued); outside office hours it waits for the next opening. The digest is in
the office's language (what the groups read), the answer in the admin's. The preview
sends the admin the text, the chart and the workbook, and nothing to any group.
"""

from __future__ import annotations

import asyncio
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING

from handlers.context import Ctx
from handlers.events import OutgoingFile, Reply
from handlers.feature import Command, Feature, Where, Who, allow
from handlers.i18n import day, moment
from handlers.permissions import actor
from handlers.registration import CHANNEL_NAMES
from scheduler.jobs import working_calendar
from storage.models import OutboxState
from storage.repositories import audit

if TYPE_CHECKING:  # imported for real only when asked (matplotlib)
    from scheduler.digest import Queued
    from scheduler.digest_send import Earlier, WeekSend

PREVIEW_WORDS = frozenset({"xem", "xemtruoc", "preview"})


async def _digest_modules() -> tuple[ModuleType, ModuleType]:
    """scheduler.digest_send and scheduler.digest, imported in a worker thread the first time:
    they pull in matplotlib, most of a second that the other chats should not wait for."""
    send = await asyncio.to_thread(import_module, "scheduler.digest_send")
    return send, import_module("scheduler.digest")


async def weekly(ctx: Ctx) -> list[Reply]:
    words = [arg.lower() for arg in ctx.event.args]
    if not words:
        return await send(ctx)
    if len(words) == 1 and words[0] in PREVIEW_WORDS:
        return await preview(ctx)
    return [Reply(ctx.t("weekly_digest_usage"))]


async def send(ctx: Ctx) -> list[Reply]:
    """The week's digest to every bound group that does not have it yet."""
    digest_send, _ = await _digest_modules()
    calendar = await working_calendar(ctx.session, ctx.config)
    sent = await digest_send.send_week(
        ctx.session,
        ctx.now,
        calendar,
        lang=ctx.config.default_language,
        data_dir=ctx.config.data_dir,
    )
    if not sent.queued:
        return [Reply(ctx.t("weekly_digest_no_groups"))]
    if sent.new:
        audit.record(
            ctx.session,
            now=ctx.now,
            actor=actor(ctx),
            action="digest.sent",
            entity="digest",
            entity_id=sent.week,
            details={"groups": [f"{q.channel}:{q.chat_id}" for q in sent.new]},
        )
    return [Reply("\n".join(_sent_lines(ctx, sent)))]


def _sent_lines(ctx: Ctx, sent: WeekSend) -> list[str]:
    span = {"start": day(sent.period.start), "end": day(sent.period.end)}
    lines = [ctx.t("weekly_digest_head", week=sent.week, **span)]
    for item in sent.queued:
        where = {"channel": CHANNEL_NAMES.get(item.channel, item.channel), "name": _name(ctx, item)}
        earlier = sent.earlier.get(item.key)
        if item.new:
            lines.append(ctx.t("weekly_digest_queued", **where))
        elif earlier is None:
            lines.append(ctx.t("weekly_digest_already", **where))
        else:
            when = moment(earlier.queued_at, ctx.config.tz)
            lines.append(ctx.t("weekly_digest_already_at", when=when, **where))
            lines.append(_progress(ctx, earlier))
    if not sent.new:
        lines.append(ctx.t("weekly_digest_nothing_new", week=sent.week))
    elif sent.not_before > ctx.now:
        lines.append(ctx.t("weekly_digest_held", when=moment(sent.not_before, ctx.config.tz)))
    else:
        lines.append(ctx.t("weekly_digest_now"))
    return lines


def _progress(ctx: Ctx, earlier: Earlier) -> str:
    """Where a row queued before stands: sent (when), waiting (until when), being sent, or
    failed (the admin's /hopthu says why)."""
    if earlier.sent_at is not None:
        return ctx.t("weekly_digest_went", when=moment(earlier.sent_at, ctx.config.tz))
    if earlier.state == OutboxState.PENDING:
        return ctx.t("weekly_digest_waits", when=moment(earlier.not_before, ctx.config.tz))
    if earlier.state == OutboxState.FAILED:
        return ctx.t("weekly_digest_failed")
    return ctx.t("weekly_digest_sending")


def _name(ctx: Ctx, item: Queued) -> str:
    return item.title or ctx.t("group_untitled", chat=item.chat_id)


async def preview(ctx: Ctx) -> list[Reply]:
    """The digest the groups would get now, to the admin alone: text, chart and workbook."""
    _, digest_module = await _digest_modules()
    digest = await digest_module.build_digest(
        ctx.session, ctx.now, ctx.config.tz, ctx.config.default_language
    )
    files = tuple(OutgoingFile(name, content, mime) for name, content, mime in digest.files())
    note = ctx.t("weekly_digest_preview_note")
    return [Reply(digest.text), Reply(note, files=files)]


FEATURE = Feature(
    "weekly_digest",
    commands=(
        Command("baocaotuan", weekly, allow((Who.ADMIN,), (Where.PRIVATE,)), aliases=("digest",)),
    ),
)
