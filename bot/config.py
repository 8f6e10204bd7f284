"""Settings, read once from the environment and an optional `.env`, then passed down.

Nothing else in tiendo reads `os.environ`: everything it needs arrives as a `Settings`.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

CHANNELS = ("telegram", "zalo", "console")


class ConfigError(Exception):
    """A setting has a value tiendo cannot use; the message names the variable."""


@dataclass(frozen=True)
class AdminId:
    """One `channel:external_id` entry of ADMINS."""

    channel: str
    external_id: str


class Settings(BaseSettings):
    """Every variable tiendo understands; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///data/tiendo.db"
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
                raise ValueError(
                    f"expected a comma-separated list of channel:id, e.g. telegram:123,zalo:abc "
                    f"(channels: {', '.join(CHANNELS)}); got {item.strip()!r}"
                )
            admins.append(AdminId(channel, external_id.strip()))
        return tuple(admins)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"expected an IANA time zone such as Asia/Ho_Chi_Minh, got {value!r}"
            ) from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not (
            value.startswith("sqlite+aiosqlite://") or value.startswith("postgresql+asyncpg://")
        ):
            raise ValueError(
                "expected sqlite+aiosqlite:///path/to/file.db or "
                f"postgresql+asyncpg://user@host:port/db, got {value.split('://')[0]}://…"
            )
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
            raise ValueError(
                "WEBHOOK_SECRET: expected at least 8 characters when WEBHOOK_URL is set"
            )
        return self

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def is_admin(self, channel: str, external_id: str) -> bool:
        return AdminId(channel, str(external_id)) in self.admins


def load_settings(**overrides: object) -> Settings:
    """Read the settings; a bad value raises ConfigError with one line naming the variable."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_first_problem(exc)) from None
    _make_folder("DATA_DIR", settings.data_dir)
    if settings.database_url.startswith("sqlite+aiosqlite:///"):
        db_path = settings.database_url.removeprefix("sqlite+aiosqlite:///")
        if db_path and db_path != ":memory:":
            _make_folder("DATABASE_URL", Path(db_path).parent)
    return settings


def _make_folder(variable: str, folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"{variable}: cannot create the folder {folder} ({exc.strerror})"
        ) from None


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    loc = [str(part) for part in error.get("loc", ()) if part != "__root__"]
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if not loc:
        variable, _, rest = message.partition(":")
        return f"{variable}: {rest.strip()}" if rest else message
    return f"{loc[0].upper()}: {message}"
