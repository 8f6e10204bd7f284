"""/xuat [json] [PLAN]: the export of `tiendo export`, sent back in the chat as a file.

xlsx (default): the appendix layout with status and percent, a sheet per plan, and the sheet
of reports. json: one object with the same task records and report records as `tiendo export
--format json` and `--format json --reports` write. Every followed plan, or the one named (by
its short name or name, closed or not). The channel gives the file as a document where it can
(Telegram) and as a signed link where it cannot (Zalo). Audited as "export.chat".
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.context import Ctx
from handlers.events import OutgoingFile, Reply
from handlers.feature import Command, Feature, Where, Who, allow
from handlers.i18n import day
from handlers.permissions import actor
from handlers.wording import short
from storage.db import session_factory
from storage.exporter import ExportRow, export_reports, export_rows, write_export
from storage.models import Plan
from storage.repositories import audit
from storage.repositories import plans as plan_store
from storage.textfold import strip_marks

XLSX, JSON = "xlsx", "json"
FORMAT_WORDS = {"xlsx": XLSX, "excel": XLSX, "json": JSON}
MIME = {
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    JSON: "application/json",
}
_SLUG = re.compile(r"[^a-z0-9]+")


def parsed(args: tuple[str, ...]) -> tuple[str, str]:
    """(the format, the plan's name as typed or "") from "/xuat json KH 2023" and the like:
    a format word first or last, the rest the plan."""
    words = list(args)
    fmt = XLSX
    for index in (0, -1):
        if words and words[index].lower() in FORMAT_WORDS:
            fmt = FORMAT_WORDS[words.pop(index).lower()]
            break
    return fmt, " ".join(words)


async def export(ctx: Ctx) -> list[Reply]:
    """The file of the plans asked for, with a line saying what it holds."""
    fmt, wanted = parsed(ctx.event.args)
    plans = await plan_store.every(ctx.session)
    chosen = [plan for plan in plans if plan.followed]
    if wanted:
        named = plan_store.match(plans, wanted)
        if named is None:
            known = ", ".join(plan.short_name for plan in plans) or "—"
            return [Reply(ctx.t("export_unknown_plan", plan=short(wanted, 40), plans=known))]
        chosen = [named]
    if not chosen:
        return [Reply(ctx.t("export_nothing"))]
    ids = [plan.id for plan in chosen] if wanted else None
    rows, reports = await _gather(ctx, ids)
    content = await asyncio.to_thread(_content, fmt, rows, reports)
    name = file_name(chosen[0] if wanted else None, fmt, ctx.today.isoformat())
    _audit(ctx, fmt, chosen, name, len(rows), len(reports))
    text = ctx.t(
        "export_ready",
        plans=", ".join(plan.short_name for plan in chosen),
        tasks=len(rows),
        reports=len(reports),
        date=day(ctx.today),
        name=name,
    )
    return [Reply(text, files=(OutgoingFile(name, content, MIME[fmt]),))]


async def _gather(ctx: Ctx, ids: list[int] | None) -> tuple[list[ExportRow], list[dict[str, Any]]]:
    # The exporter opens sessions of its own (as the command line does): a read-only pass
    # beside this update's transaction, on the same engine.
    engine = ctx.session.bind
    assert isinstance(engine, AsyncEngine)
    sessions = session_factory(engine)
    rows = await export_rows(sessions, ctx.config.tz, ctx.today, ids)
    return rows, await export_reports(sessions, ctx.config.tz, ids)


def _content(fmt: str, rows: list[ExportRow], reports: list[dict[str, Any]]) -> bytes:
    """The file's bytes; built in a worker thread, since a workbook of thousands of tasks
    takes a while and the other chats must not wait for it."""
    if fmt == JSON:
        records = {"tasks": [row.record for row in rows], "reports": reports}
        return json.dumps(records, ensure_ascii=False, indent=2).encode("utf-8")
    with tempfile.TemporaryDirectory(prefix="tiendo-export-") as folder:
        path = Path(folder) / f"export.{fmt}"
        write_export(rows, path, fmt, reports)
        return path.read_bytes()


def file_name(plan: Plan | None, fmt: str, today: str) -> str:
    """What and when: "tiendo-2026-11-27.xlsx" (every followed plan), or with the plan's short
    name, "tiendo-kh-2023-2026-11-27.json"."""
    slug = _SLUG.sub("-", strip_marks(plan.short_name)).strip("-") if plan else ""
    return f"tiendo-{slug + '-' if slug else ''}{today}.{fmt}"


def _audit(ctx: Ctx, fmt: str, plans: list[Plan], name: str, tasks: int, reports: int) -> None:
    audit.record(
        ctx.session,
        now=ctx.now,
        actor=actor(ctx),
        action="export.chat",
        entity="export",
        entity_id=name,
        details={
            "format": fmt,
            "plans": [plan.short_name for plan in plans],
            "tasks": tasks,
            "reports": reports,
            "channel": ctx.event.channel,
        },
    )


FEATURE = Feature(
    "admin_export",
    commands=(
        Command(
            "xuat",
            export,
            allow((Who.COMMITTEE, Who.ADMIN), (Where.PRIVATE,)),
            aliases=("export",),
        ),
    ),
)
