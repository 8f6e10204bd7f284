"""What one step of a dialog can see: the event, the person, their saved state, the session."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.events import Incoming
from handlers.i18n import t
from scheduler.calendar import DEFAULT_OFFICE_HOURS, OfficeHours
from scheduler.reminder_rules import ReminderRules
from storage.models import Conversation, Person
from storage.repositories import conversations, people

_RULES = ReminderRules()  # the office's defaults


@dataclass(frozen=True)
class HandlerConfig:
    """What the dialogs need from the settings (handlers never read bot.config)."""

    data_dir: Path
    tz: ZoneInfo
    default_language: str = "vi"
    admins: frozenset[tuple[str, str]] = frozenset()
    dialog_ttl: timedelta = timedelta(hours=2)
    max_file_bytes: int = 20 * 1024 * 1024
    # Messengers whose bot cannot be added to groups (a Zalo BASIC account), learnt at start-up.
    groupless_channels: frozenset[str] = frozenset()
    # The Telegram bot's username, learnt at start-up: invites then carry its deep link.
    telegram_username: str = ""
    # The scheduler's settings (bot.config), for /baocaotuan and /lich: with these fields this
    # class is a scheduler.jobs.Settings, so both read them through the jobs' own code.
    office_periods: OfficeHours = DEFAULT_OFFICE_HOURS
    remind_before_days: tuple[int, ...] = _RULES.before_days
    remind_overdue_every: int = _RULES.overdue_every
    remind_escalate_after: int = _RULES.escalate_after
    report_call_day: int = _RULES.report_call_day
    report_due_day: int = _RULES.report_due_day
    digest_day: str = "fri"
    digest_time: str = "15:00"

    def without_groups(self, channel: str) -> HandlerConfig:
        """This configuration, knowing that `channel`'s bot cannot be in any group."""
        return replace(self, groupless_channels=self.groupless_channels | {channel})


@dataclass
class Ctx:
    session: AsyncSession
    config: HandlerConfig
    event: Incoming
    now: datetime
    person: Person | None
    state: Conversation
    # Look-ups already made while handling this one update (e.g. the checked task).
    memo: dict[str, Any] = field(default_factory=dict)
    # Run by the dispatcher once this step's transaction has committed (never if it did not):
    # work that must not start before the step's writes are visible, e.g. a background import.
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    @classmethod
    async def load(
        cls, session: AsyncSession, config: HandlerConfig, event: Incoming, now: datetime
    ) -> Ctx:
        person = await people.find_by_identity(session, event.channel, event.sender_id)
        if (event.channel, event.sender_id) in config.admins:
            person = await people.ensure_admin(
                session,
                channel=event.channel,
                external_id=event.sender_id,
                chat_id=event.chat_id,
                name=event.sender_name,
                language=config.default_language,
                now=now,
            )
        state = await conversations.for_chat(
            session, event.channel, event.chat_id, event.sender_id, now
        )
        return cls(session, config, event, now, person, state)

    @property
    def lang(self) -> str:
        return self.person.language if self.person else self.config.default_language

    @property
    def today(self) -> date:
        return self.now.astimezone(self.config.tz).date()

    def t(self, key: str, **values: object) -> str:
        return t(self.lang, key, **values)

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.state.data or {})

    def put(self, **values: Any) -> None:
        """Change the dialog's data; a new dict, so the change is saved (JSON is not tracked)."""
        self.state.data = {**(self.state.data or {}), **values}

    def in_dialog(self) -> bool:
        return bool(self.state.dialog)

    def expired(self) -> bool:
        expires = self.state.expires_at
        if not self.state.dialog or expires is None:
            return False
        return (expires if expires.tzinfo else expires.replace(tzinfo=self.now.tzinfo)) <= self.now

    def set_step(self, dialog: str, step: str) -> None:
        self.state.dialog, self.state.step = dialog, step
        self.state.expires_at = self.now + self.config.dialog_ttl
        self.state.updated_at = self.now

    def clear(self) -> None:
        self.state.dialog, self.state.step, self.state.data = None, None, {}
        self.state.expires_at, self.state.updated_at = None, self.now

    async def save(self) -> None:
        if self.state.id is None and not self.state.dialog:
            return  # nothing to remember for someone who never started a dialog
        self.session.add(self.state)
        await self.session.flush()
