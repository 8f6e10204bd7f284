"""Which week a digest covers and the outbox key a group's digest of that week gets: shared by
the digest (scheduler.digest) and its corrections (scheduler.digest_correction), which a report
runs in the dialog's own step, without loading the chart's libraries."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from storage.figures import Period

KIND = "digest"


def week_of(now: datetime, tz: ZoneInfo) -> Period:
    """From the Monday of `now`'s week to `now`'s day, in the city's calendar."""
    today = now.astimezone(tz).date()
    return Period(today - timedelta(days=today.weekday()), today, tz)


def week_label(period: Period) -> str:
    year, week, _ = period.start.isocalendar()
    return f"{year}-W{week:02d}"


def digest_key(week: str, channel: str, chat_id: str) -> str:
    return f"{KIND}:{week}:{channel}:{chat_id}"
