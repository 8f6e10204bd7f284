"""The scheduled jobs of `tiendo run`: the reminder scan and the weekly digest, on APScheduler 3
(AsyncIOScheduler, in the bot's own event loop).

Both jobs only decide and write to the outbox; the outbox dispatcher sends. They are safe on
several instances at once because the outbox keys decide what is new (APScheduler alone runs a
job once per process), and nothing depends on APScheduler remembering a run: a scan cut short
is simply done again at the next tick, and what it had already written is not written twice.

- the reminder scan: every 15 minutes, Monday to Saturday, 07:00–16:45 in the city's time (a
  make-up Saturday is a working day); the scan itself reads the working calendar and decides
  nothing on a day off, and messages decided outside office hours wait for the next opening;
- the weekly digest: DIGEST_DAY at DIGEST_TIME (default Friday 15:00), the code of
  `tiendo digest --send`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler.calendar import OfficeHours, WorkingCalendar
from scheduler.reminder_rules import ReminderRules, RuleSettings
from scheduler.reminders import Decision, Scan, enqueue, scan
from storage.db import session_scope
from storage.repositories.holidays import working_overrides

if TYPE_CHECKING:
    from scheduler.digest import Queued

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
# A tick missed by less than this (a busy loop, a short pause) still runs; later ones are
# skipped, the next tick does the work.
GRACE_SECONDS = 600
SCAN_TRIGGER = {"day_of_week": "mon-sat", "hour": "7-16", "minute": "*/15"}


class Settings(RuleSettings, Protocol):
    """What the jobs read of bot.config.Settings (the scheduler knows nothing of `bot`)."""

    @property
    def default_language(self) -> str: ...
    @property
    def data_dir(self) -> Path: ...
    @property
    def digest_day(self) -> str: ...
    @property
    def digest_time(self) -> str: ...
    @property
    def tz(self) -> ZoneInfo: ...
    @property
    def office_periods(self) -> OfficeHours: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


async def working_calendar(session: AsyncSession, settings: Settings) -> WorkingCalendar:
    """The city's calendar: the override table and the configured office hours."""
    return WorkingCalendar(
        await working_overrides(session), office_hours=settings.office_periods, tz=settings.tz
    )


@dataclass(frozen=True)
class ReminderPass:
    """What one reminder scan decided and (unless a dry run) wrote: each decision with True
    when this pass wrote it, False when its key was already in the outbox (or a dry run)."""

    now: datetime
    calendar: WorkingCalendar
    scan: Scan
    written: list[tuple[Decision, bool]] = field(default_factory=list)
    not_before: datetime | None = None


async def reminder_pass(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    now: datetime,
    *,
    dry_run: bool = False,
) -> ReminderPass:
    """The scan at `now`, written to the outbox in one transaction (none when `dry_run`)."""
    rules = ReminderRules.from_settings(settings)
    lang = settings.default_language
    if dry_run:
        async with sessions() as session:
            calendar = await working_calendar(session, settings)
            found = await scan(session, now, rules, calendar, lang)
        written = [(decision, False) for decision in found.decisions]
        return ReminderPass(now, calendar, found, written, calendar.next_opening(now))
    async with session_scope(sessions) as session:
        calendar = await working_calendar(session, settings)
        found = await scan(session, now, rules, calendar, lang)
        written = await enqueue(session, found.decisions, now, calendar)
    return ReminderPass(now, calendar, found, written, calendar.next_opening(now))


async def digest_pass(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> list[Queued]:
    """`tiendo digest --send` at `now`: the week's digest to every bound committee group, once
    per group and week; nothing when no group is bound."""
    from scheduler.digest_send import send_week  # matplotlib: only when needed

    async with session_scope(sessions) as session:
        calendar = await working_calendar(session, settings)
        sent = await send_week(
            session, now, calendar, lang=settings.default_language, data_dir=settings.data_dir
        )
        return sent.queued


class DigestTime(Protocol):
    """What the digest's trigger reads (the settings, or the dialogs' HandlerConfig)."""

    @property
    def digest_day(self) -> str: ...
    @property
    def digest_time(self) -> str: ...
    @property
    def tz(self) -> ZoneInfo: ...


def digest_trigger(settings: DigestTime) -> CronTrigger:
    """The digest job's trigger (and /lich's next digest): DIGEST_DAY at DIGEST_TIME."""
    hour, minute = settings.digest_time.replace("h", ":").split(":")
    return CronTrigger(
        day_of_week=settings.digest_day, hour=int(hour), minute=int(minute), timezone=settings.tz
    )


def scan_trigger(tz: ZoneInfo) -> CronTrigger:
    """The reminder scan's trigger (and /lich's next scan)."""
    return CronTrigger(**SCAN_TRIGGER, timezone=tz)


class Jobs:
    """The scheduler of one `tiendo run`, with the job runs in flight (a stop cancels them:
    their transaction rolls back, and the next tick, here or elsewhere, does the work)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock = utc_now,
    ) -> None:
        self.sessions, self.settings, self.clock = sessions, settings, clock
        self.scheduler = AsyncIOScheduler(timezone=settings.tz)
        self.running: set[asyncio.Task[object]] = set()
        defaults = {"coalesce": True, "max_instances": 1, "misfire_grace_time": GRACE_SECONDS}
        self.scheduler.add_job(
            self._guarded(self.remind, "reminders"),
            scan_trigger(settings.tz),
            id="reminders",
            **defaults,
        )
        self.scheduler.add_job(
            self._guarded(self.digest, "digest"),
            digest_trigger(settings),
            id="digest",
            **defaults,
        )

    async def remind(self) -> None:
        done = await reminder_pass(self.sessions, self.settings, self.clock())
        new = sum(1 for _decision, written in done.written if written)
        if new or done.scan.unreached:
            log.info(
                "reminder scan: %d new messages, %d units nobody can be told about",
                new,
                len(done.scan.unreached),
            )

    async def digest(self) -> None:
        queued = await digest_pass(self.sessions, self.settings, self.clock())
        log.info("weekly digest: %d new of %d groups", sum(q.new for q in queued), len(queued))

    def _guarded(
        self, job: Callable[[], Awaitable[None]], name: str
    ) -> Callable[[], Awaitable[None]]:
        """`job` as a task this object can cancel on stop; a failure is logged, and the next
        tick tries again."""

        async def run() -> None:
            task = asyncio.ensure_future(job())
            self.running.add(task)
            try:
                await task
            except asyncio.CancelledError:
                log.info("job %s stopped", name)
            except Exception:
                log.exception("job %s failed; the next tick runs it again", name)
            finally:
                self.running.discard(task)

        return run

    def start(self) -> None:
        self.scheduler.start()
        for job in self.scheduler.get_jobs():
            log.info("job %s: next run %s", job.id, job.next_run_time)

    async def stop(self) -> None:
        """No new run starts; the runs in flight are cancelled and awaited."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler stops in the loop's next turn
        for task in list(self.running):
            task.cancel()
        if self.running:
            await asyncio.gather(*self.running, return_exceptions=True)
