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
    )
