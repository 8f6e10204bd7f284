"""The weekly digest for the steering committee's groups: where the followed plans stand, per
plan and in total, with the week's silent units and the difficulties raised, as a text, a PNG
chart and an XLSX workbook; and its rows in the outbox, one per bound committee group.

The week runs from its Monday to "now" in the city's time zone (TIMEZONE). Everything is
computed from one load of the figures' rows (storage.repositories.figures, a fixed handful of
queries whatever the number of tasks and reports), so the text, the chart and the workbook
always agree. The units listed as not reporting are kept with the row (``silent``), so that
a late report can correct the digest already sent (scheduler.digest_correction).

Outbox rows of a digest (kind "digest"; what the dispatcher sends):

- key ``digest:<ISO week>:<channel>:<chat id>``, e.g. ``digest:2026-W48:telegram:-1001234``:
  one digest per group per week, however often it is decided and on however many instances;
- payload, the notice's fields (handlers.notices.payload) plus ``files``::

      {
        "text": "TỔNG HỢP TUẦN …",   # the whole text: splitting it is the channel's job
        "options": [],
        "columns": 1,
        "extras": {"lang": "vi", "week": "2026-W48"},
        "files": [
          {"path": "outbox-files/digest-2026-W48-telegram-1001234-3f9a…/tinh-hinh-2026-W48.png",
           "file_name": "tinh-hinh-2026-W48.png", "mime_type": "image/png"},
          {"path": "outbox-files/digest-2026-W48-telegram-1001234-3f9a…/tong-hop-2026-W48.xlsx",
           "file_name": "tong-hop-2026-W48.xlsx",
           "mime_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ],
        "silent": {                  # what a late report corrects (scheduler.digest_correction)
          "start": "2026-11-23", "end": "2026-11-27",
          "lines": "Đơn vị chưa báo cáo từ 23/11/2026 đến 27/11/2026 (2 đơn vị):\n- Sở …",
          "units": [{"id": 7, "name": "Sở Tư pháp", "short": "STP", "owed": 2,
                     "missing": [31], "last": "2026-03-20"}, …]   # missing: task ids
        }
      }

  ``path`` is relative to DATA_DIR with "/" separators (as EvidenceFile.storage_path), in a
  folder of the row's own named after its key. The files are written in the transaction that
  inserts the row, before it commits, and only when this call inserted it: a row's files are
  never rewritten once another process may be sending them. A folder left by a transaction
  that then failed belongs to no row, and the next attempt writes it again. The text reads
  well without the files (a channel that cannot send a file may drop them); the chart is the
  first file.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.i18n import day, t
from handlers.status_report import status_text
from scheduler.digest_chart import chart_png
from scheduler.digest_correction import SILENT, Silence, silence_of
from scheduler.digest_week import KIND, digest_key, week_label, week_of
from scheduler.digest_xlsx import XLSX_MIME, workbook_xlsx
from storage.atomic import write_atomically
from storage.figures import Figures, Period, Source, compute
from storage.models import BoundChat
from storage.outbox_files import FILES_DIR, files_folder
from storage.repositories import bound_chats, outbox
from storage.repositories.figures import load_source

PNG_MIME = "image/png"


@dataclass(frozen=True)
class Digest:
    """One week's digest in one language."""

    week: str  # the ISO week of the period, "2026-W48": what a group gets once
    period: Period
    figures: Figures
    lang: str
    text: str
    chart: bytes  # PNG
    workbook: bytes  # XLSX
    silence: Silence  # the units listed as not reporting, as a late report corrects them

    @property
    def chart_name(self) -> str:
        return chart_file_name(self.week)

    @property
    def workbook_name(self) -> str:
        return workbook_file_name(self.week)

    def files(self) -> list[tuple[str, bytes, str]]:
        """(file name, content, MIME type) of each attachment, the chart first."""
        return [
            (self.chart_name, self.chart, PNG_MIME),
            (self.workbook_name, self.workbook, XLSX_MIME),
        ]


def chart_file_name(week: str) -> str:
    return f"tinh-hinh-{week}.png"


def workbook_file_name(week: str) -> str:
    return f"tong-hop-{week}.xlsx"


async def build_digest(session: AsyncSession, now: datetime, tz: ZoneInfo, lang: str) -> Digest:
    """The digest of the followed plans as of `now` (aware) for the week up to it, in `lang`."""
    period = week_of(now, tz)
    source = await load_source(session, period=period)
    # The chart and the workbook take a second or two on a big plan: drawn in a worker thread
    # (digest_of reads only the loaded rows), so the bot's other chats are not held meanwhile.
    return await asyncio.to_thread(digest_of, source, period, lang)


def digest_of(source: Source, period: Period, lang: str) -> Digest:
    """The digest of rows already loaded (pure: no query, no clock)."""
    figures = compute(source, period.end)
    week = week_label(period)
    return Digest(
        silence=silence_of(source, figures, period, lang),
        week=week,
        period=period,
        figures=figures,
        lang=lang,
        text=digest_text(figures, period, week, lang),
        chart=chart_png(figures, lang),
        workbook=workbook_xlsx(figures, source, period, lang),
    )


def digest_text(figures: Figures, period: Period, week: str, lang: str) -> str:
    """The week's heading, the status in the office's words, and what comes attached."""
    head = t(lang, "digest_title", start=day(period.start), end=day(period.end))
    attached = t(
        lang,
        "digest_attached",
        chart=chart_file_name(week),
        workbook=workbook_file_name(week),
    )
    return "\n".join([head, "", status_text(figures, lang), "", attached])


# --- the outbox -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Queued:
    """What `enqueue_digest` did for one bound group: `new` is False when that group's digest
    of the week was already in the outbox (nothing written then)."""

    channel: str
    chat_id: str
    title: str
    key: str
    new: bool


async def enqueue_digest(
    session: AsyncSession,
    digest: Digest,
    *,
    data_dir: Path,
    now: datetime,
    not_before: datetime | None = None,
) -> list[Queued]:
    """Puts `digest` in the outbox for every bound committee group, once per group and week
    (see the module's docstring for the rows); empty when no group is bound. The caller
    commits."""
    queued = []
    for chat in await bound_chats.committee_groups(session):
        queued.append(await _enqueue_one(session, digest, chat, data_dir, now, not_before))
    return queued


async def _enqueue_one(
    session: AsyncSession,
    digest: Digest,
    chat: BoundChat,
    data_dir: Path,
    now: datetime,
    not_before: datetime | None,
) -> Queued:
    key = digest_key(digest.week, chat.channel, chat.chat_id)
    folder = Path(FILES_DIR) / files_folder(key)
    files = [
        {"path": (folder / name).as_posix(), "file_name": name, "mime_type": mime}
        for name, _content, mime in digest.files()
    ]
    new = await outbox.enqueue(
        session,
        key=key,
        channel=chat.channel,
        chat_id=chat.chat_id,
        kind=KIND,
        payload=payload(digest, files),
        now=now,
        not_before=not_before,
    )
    if new:
        for name, content, _mime in digest.files():
            write_atomically(data_dir / folder / name, content)
    return Queued(chat.channel, chat.chat_id, chat.title, key, new)


def payload(digest: Digest, files: list[dict[str, str]]) -> dict[str, object]:
    return {
        "text": digest.text,
        "options": [],
        "columns": 1,
        "extras": {"lang": digest.lang, "week": digest.week},
        "files": files,
        SILENT: digest.silence.to_json(),
    }
