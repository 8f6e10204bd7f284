"""Settings, read once from the environment and an optional `.env`, then passed down.

Nothing else in tiendo reads `os.environ`: everything it needs arrives as a `Settings`.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, get_args

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
                    "cần danh sách kênh:mã cách nhau bởi dấu phẩy, ví dụ telegram:123,zalo:abc "
                    f"(các kênh: {', '.join(CHANNELS)}); “{item.strip()}” không đúng dạng đó"
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
                f"“{value}” không phải múi giờ IANA; ví dụ đúng: Asia/Ho_Chi_Minh"
            ) from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not (
            value.startswith("sqlite+aiosqlite://") or value.startswith("postgresql+asyncpg://")
        ):
            raise ValueError(
                "cần sqlite+aiosqlite:///đường/dẫn/tệp.db hoặc "
                f"postgresql+asyncpg://user@host:port/db, không phải {value.split('://')[0]}://…"
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
            raise ValueError("WEBHOOK_SECRET: cần ít nhất 8 ký tự khi đã đặt WEBHOOK_URL")
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
        raise ConfigError(f"{variable}: không tạo được thư mục {folder} ({exc.strerror})") from None


# pydantic's error types as an operator should read them; the blanks are filled from the error's
# context and from the value given (never shown for secrets).
PROBLEMS = {
    "int_parsing": "cần một số nguyên, không phải “{input}”",
    "int_type": "cần một số nguyên, không phải “{input}”",
    "int_from_float": "cần một số nguyên, không phải “{input}”",
    "float_parsing": "cần một số, không phải “{input}”",
    "bool_parsing": "cần true hoặc false (1/0, yes/no), không phải “{input}”",
    "greater_than_equal": "cần một số từ {ge} trở lên, không phải {input}",
    "greater_than": "cần một số lớn hơn {gt}, không phải {input}",
    "less_than_equal": "cần một số không quá {le}, không phải {input}",
    "less_than": "cần một số nhỏ hơn {lt}, không phải {input}",
    "literal_error": "“{input}” không phải một trong các giá trị {choices}",
    "string_too_short": "cần ít nhất {min_length} ký tự",
    "string_too_long": "cần nhiều nhất {max_length} ký tự",
    "path_type": "cần một đường dẫn thư mục",
    "missing": "chưa được đặt",
}
UNUSABLE = "giá trị “{input}” không dùng được"
SECRETS = {"telegram_bot_token", "zalo_bot_token", "webhook_secret", "database_url"}


def _first_problem(exc: ValidationError) -> str:
    """One Vietnamese line for the first bad setting: `VARIABLE: what is wrong`."""
    error = exc.errors()[0]
    loc = [str(part) for part in error.get("loc", ()) if part != "__root__"]
    context = error.get("ctx") or {}
    if "error" in context:  # one of our validators: its message is already for people
        message = str(context["error"])
        if not loc:  # a check across variables names its variable itself
            return message
        return f"{loc[0].upper()}: {message}"
    field = loc[0] if loc else ""
    shown = "***" if field in SECRETS else str(error.get("input", ""))[:80]
    values = {**context, "input": shown, "choices": _choices(field)}
    return f"{field.upper()}: {PROBLEMS.get(error['type'], UNUSABLE).format(**values)}"


def _choices(field: str) -> str:
    info = Settings.model_fields.get(field)
    return ", ".join(str(choice) for choice in get_args(info.annotation)) if info else ""
