"""The dialogs' view of the settings."""

from __future__ import annotations

from bot.config import Settings
from handlers.context import HandlerConfig


def handler_config(settings: Settings) -> HandlerConfig:
    return HandlerConfig(
        data_dir=settings.data_dir,
        tz=settings.tz,
        default_language=settings.default_language,
        admins=frozenset((a.channel, a.external_id) for a in settings.admins),
        office_periods=settings.office_periods,
        remind_before_days=tuple(settings.remind_before_days),
        remind_overdue_every=settings.remind_overdue_every,
        remind_escalate_after=settings.remind_escalate_after,
        report_call_day=settings.report_call_day,
        report_due_day=settings.report_due_day,
        digest_day=settings.digest_day,
        digest_time=settings.digest_time,
    )
