"""Settings, read once from the environment and an optional `.env`, then passed down.

Nothing else in tiendo reads `os.environ`: everything it needs arrives as a `Settings`. What is
wrong with a setting is worded from the catalogs (cli_config_…), in DEFAULT_LANGUAGE when that
one is usable, else in Vietnamese.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from handlers.i18n import LANGUAGES, catalog, t
from scheduler.calendar import DEFAULT_OFFICE_HOURS_TEXT, OfficeHours, parse_office_hours
from scheduler.reminder_rules import parse_days
from storage.db import POOL_SIZE

CHANNELS = ("telegram", "zalo", "console")
SOURCES = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")
_HOUR_MINUTE = re.compile(r"([0-9]{1,2})[:h]([0-9]{2})")


class ConfigError(Exception):
    """A setting has a value tiendo cannot use; the message names the variable."""


class SettingProblem(ValueError):
    """What one of our checks found wrong, as a catalog key and its blanks; worded when the
    error is reported, in the operator's language."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key, self.values = key, values

    def words(self, lang: str) -> str:
        return t(lang, self.key, **self.values)


@dataclass(frozen=True)
class AdminId:
    """One `channel:external_id` entry of ADMINS."""

    channel: str
    external_id: str


class Settings(BaseSettings):
    """Every variable tiendo understands; `.env.example` documents each one."""

    model_config = SOURCES

    database_url: str = "sqlite+aiosqlite:///data/tiendo.db"
    database_pool_size: int = Field(default=POOL_SIZE, ge=1, le=1000)
    telegram_bot_token: str = ""
    telegram_api_base_url: str = "https://api.telegram.org"
    zalo_bot_token: str = ""
    zalo_api_base_url: str = "https://bot-api.zaloplatforms.com"
    timezone: str = "Asia/Ho_Chi_Minh"
    default_language: Literal["vi", "en"] = "vi"
    admins: Annotated[tuple[AdminId, ...], NoDecode] = ()
    webhook_url: str = ""
    webhook_secret: str = ""
    public_base_url: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=1, le=65535)
    data_dir: Path = Path("data")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    import_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    import_max_rows: int = Field(default=20_000, ge=1)
    # Files given as links (Zalo): signed with this secret (else one derived from
    # WEBHOOK_SECRET, else one kept in DATA_DIR) and valid this many days.
    file_link_secret: str = ""
    file_link_days: int = Field(default=7, ge=1, le=365)
    # The outbox's pace on each platform: messages per second in all, seconds between two
    # messages to one chat, messages per minute to one group (0: no cap of its own).
    telegram_messages_per_second: float = Field(default=30.0, gt=0, le=1000)
    telegram_seconds_per_chat: float = Field(default=1.0, ge=0, le=3600)
    telegram_group_messages_per_minute: int = Field(default=20, ge=0, le=10_000)
    zalo_messages_per_second: float = Field(default=10.0, gt=0, le=1000)
    zalo_seconds_per_chat: float = Field(default=1.0, ge=0, le=3600)
    zalo_group_messages_per_minute: int = Field(default=0, ge=0, le=10_000)
    # How long an instance holds an outbox row it is sending (renewed while it does): after
    # a crash, its rows (a step's replies included) are sent by another instance this late.
    outbox_lease_seconds: float = Field(default=60.0, ge=1, le=3600)
    # Office hours (nothing is sent outside them) and the reminder rules, defaults from the
    # office's practice (scheduler.reminder_rules); the weekly digest's day and time.
    office_hours: str = DEFAULT_OFFICE_HOURS_TEXT
    remind_before_days: Annotated[tuple[int, ...], NoDecode] = (7, 3, 1)
    remind_overdue_every: int = Field(default=2, ge=1, le=60)
    remind_escalate_after: int = Field(default=5, ge=1, le=250)
    report_call_day: int = Field(default=10, ge=1, le=28)
    report_due_day: int = Field(default=15, ge=1, le=28)
    digest_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "fri"
    digest_time: str = "15:00"
    # False: `tiendo run` starts no reminder scan and no digest job (the channels and the
    # outbox still run), e.g. for a second instance kept for failover, or in tests.
    scheduler_enabled: bool = True

    @field_validator("office_hours")
    @classmethod
    def _check_office_hours(cls, value: str) -> str:
        try:
            parse_office_hours(value)
        except ValueError as exc:
            raise SettingProblem("cli_config_schedule", problem=str(exc)) from None
        return value

    @field_validator("remind_before_days", mode="before")
    @classmethod
    def _parse_before_days(cls, value: object) -> tuple[int, ...]:
        if isinstance(value, tuple):
            return value
        try:
            return parse_days(str(value))
        except ValueError as exc:
            raise SettingProblem("cli_config_schedule", problem=str(exc)) from None

    @field_validator("digest_time")
    @classmethod
    def _check_digest_time(cls, value: str) -> str:
        match = _HOUR_MINUTE.fullmatch(value.strip())
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise SettingProblem("cli_config_digest_time", value=value)
        return value.strip()

    @model_validator(mode="after")
    def _check_report_days(self) -> Settings:
        if self.report_call_day > self.report_due_day:
            raise SettingProblem(
                "cli_config_report_days", call=self.report_call_day, due=self.report_due_day
            )
        return self

    @property
    def office_periods(self) -> OfficeHours:
        return parse_office_hours(self.office_hours)

    @field_validator("admins", mode="before")
    @classmethod
    def _parse_admins(cls, value: object) -> tuple[AdminId, ...]:
        if isinstance(value, tuple):
            return value
        text = str(value or "").strip()
        if not text:
            return ()
        admins = []
        for item in text.split(","):
            channel, sep, external_id = item.strip().partition(":")
            if not sep or channel not in CHANNELS or not external_id.strip():
                raise SettingProblem(
                    "cli_config_admins", channels=", ".join(CHANNELS), item=item.strip()
                )
            admins.append(AdminId(channel, external_id.strip()))
        return tuple(admins)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingProblem("cli_config_timezone", value=value) from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not (
            value.startswith("sqlite+aiosqlite://") or value.startswith("postgresql+asyncpg://")
        ):
            raise SettingProblem("cli_config_database_url", scheme=value.split("://")[0])
        return value

    @field_validator("default_language", mode="before")
    @classmethod
    def _lower_language(cls, value: object) -> object:
        return str(value).strip().lower() if value is not None else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return str(value).strip().upper() if value is not None else value

    @model_validator(mode="after")
    def _check_webhook(self) -> Settings:
        if self.webhook_url and len(self.webhook_secret) < 8:
            raise SettingProblem("cli_config_webhook_secret")
        return self

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def is_admin(self, channel: str, external_id: str) -> bool:
        return AdminId(channel, str(external_id)) in self.admins


class _Language(BaseSettings):
    """DEFAULT_LANGUAGE alone, from the same sources as Settings."""

    model_config = SOURCES

    default_language: str = "vi"


def operator_language() -> str:
    """DEFAULT_LANGUAGE, read on its own so that it is known before the command line's help is
    written and when another setting is wrong; Vietnamese when it is unset or unusable."""
    try:
        wanted = _Language().default_language.strip().lower()
    except ValidationError:
        return "vi"
    return wanted if wanted in LANGUAGES else "vi"


def load_settings(**overrides: object) -> Settings:
    """Read the settings; a bad value raises ConfigError with one line naming the variable."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_first_problem(exc, operator_language())) from None
    lang = settings.default_language
    _make_folder("DATA_DIR", settings.data_dir, lang)
    if settings.database_url.startswith("sqlite+aiosqlite:///"):
        db_path = settings.database_url.removeprefix("sqlite+aiosqlite:///")
        if db_path and db_path != ":memory:":
            _make_folder("DATABASE_URL", Path(db_path).parent, lang)
    return settings


def _make_folder(variable: str, folder: Path, lang: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        problem = t(lang, "cli_config_no_folder", folder=folder, reason=exc.strerror)
        raise ConfigError(f"{variable}: {problem}") from None


# pydantic's error types worded for an operator (catalog keys cli_config_type_<type>); the blanks
# are filled from the error's context and from the value given (never shown for secrets). Any
# other type reads cli_config_unusable.
PROBLEM_TYPES = (
    "int_parsing",
    "int_type",
    "int_from_float",
    "float_parsing",
    "bool_parsing",
    "greater_than_equal",
    "greater_than",
    "less_than_equal",
    "less_than",
    "literal_error",
    "string_too_short",
    "string_too_long",
    "path_type",
    "missing",
)
SECRETS = {
    "telegram_bot_token",
    "zalo_bot_token",
    "webhook_secret",
    "database_url",
    "file_link_secret",
}


def _first_problem(exc: ValidationError, lang: str) -> str:
    """One line in `lang` for the first bad setting: `VARIABLE: what is wrong`."""
    error = exc.errors()[0]
    loc = [str(part) for part in error.get("loc", ()) if part != "__root__"]
    context = error.get("ctx") or {}
    if "error" in context:  # one of our validators
        found = context["error"]
        message = found.words(lang) if isinstance(found, SettingProblem) else str(found)
        if not loc:  # a check across variables names its variable itself
            return message
        return f"{loc[0].upper()}: {message}"
    field = loc[0] if loc else ""
    shown = "***" if field in SECRETS else str(error.get("input", ""))[:80]
    values = {**context, "input": shown, "choices": _choices(field)}
    kind = error["type"]
    key = f"cli_config_type_{kind}" if kind in PROBLEM_TYPES else "cli_config_unusable"
    return f"{field.upper()}: {catalog(lang)[key].format(**values)}"


def _choices(field: str) -> str:
    info = Settings.model_fields.get(field)
    return ", ".join(str(choice) for choice in get_args(info.annotation)) if info else ""
