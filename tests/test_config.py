"""An operator configures tiendo; a wrong value stops it with one line naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import open_app
from bot.config import AdminId, load_settings

# (variable, value, what the operator reads after "Lỗi cấu hình: VARIABLE: ")
BAD_VALUES = [
    ("TIMEZONE", "Mars/Olympus", "“Mars/Olympus” không phải múi giờ IANA"),
    ("DATABASE_URL", "mysql://root:pw@localhost/db", "cần sqlite+aiosqlite:///"),
    ("ADMINS", "telegram123", "“telegram123” không đúng dạng đó"),
    ("ADMINS", "fax:123", "“fax:123” không đúng dạng đó"),
    ("HTTP_PORT", "70000", "cần một số không quá 65535, không phải 70000"),
    ("HTTP_PORT", "tám", "cần một số nguyên, không phải “tám”"),
    ("LOG_LEVEL", "LOUD", "“LOUD” không phải một trong các giá trị DEBUG, INFO, WARNING"),
    ("DEFAULT_LANGUAGE", "fr", "“fr” không phải một trong các giá trị vi, en"),
    ("IMPORT_MAX_ROWS", "0", "cần một số từ 1 trở lên, không phải 0"),
    ("IMPORT_MAX_BYTES", "-5", "cần một số từ 1 trở lên, không phải -5"),
    ("DATABASE_POOL_SIZE", "0", "cần một số từ 1 trở lên, không phải 0"),
]
# What pydantic would have said, in English; none of it may reach the operator.
PYDANTIC_WORDS = ("Input should", "Value error", "valid", "expected", "got", "Field")


@pytest.mark.parametrize("variable, value, says", BAD_VALUES)
def test_a_wrong_value_stops_with_one_line_in_vietnamese(
    run_cli, variable: str, value: str, says: str
) -> None:
    result = run_cli("db", "upgrade", env={variable: value})

    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith(f"Lỗi cấu hình: {variable}: "), lines[0]
    assert says in lines[0], lines[0]
    assert not any(word in lines[0] for word in PYDANTIC_WORDS), lines[0]
    assert "pw" not in lines[0]  # a password in DATABASE_URL is never printed


def test_a_webhook_needs_a_long_enough_secret(run_cli) -> None:
    result = run_cli(
        "db",
        "upgrade",
        env={"WEBHOOK_URL": "https://bot.example.vn/hook", "WEBHOOK_SECRET": "short"},
    )

    assert result.code == 1
    assert result.err.strip() == (
        "Lỗi cấu hình: WEBHOOK_SECRET: cần ít nhất 8 ký tự khi đã đặt WEBHOOK_URL"
    )


def test_defaults_are_the_embedded_database_and_vietnamese(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "DATA_DIR", "DEFAULT_LANGUAGE", "TIMEZONE", "ADMINS"):
        monkeypatch.delenv(name, raising=False)

    settings = load_settings()

    assert settings.database_url == "sqlite+aiosqlite:///data/tiendo.db"
    assert (tmp_path / "data").is_dir()
    assert settings.default_language == "vi" and settings.timezone == "Asia/Ho_Chi_Minh"
    assert settings.admins == ()


def test_a_dot_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ADMINS", raising=False)
    monkeypatch.delenv("DEFAULT_LANGUAGE", raising=False)
    (tmp_path / ".env").write_text(
        "ADMINS=telegram:123, zalo:abc\nDEFAULT_LANGUAGE=EN\n", encoding="utf-8"
    )

    settings = load_settings()

    assert settings.admins == (AdminId("telegram", "123"), AdminId("zalo", "abc"))
    assert settings.is_admin("zalo", "abc") and not settings.is_admin("telegram", "abc")
    assert settings.default_language == "en"


async def test_the_connections_kept_open_are_a_setting(tmp_path: Path, sqlite_url: str) -> None:
    """Several instances on one PostgreSQL server share its max_connections: each keeps
    DATABASE_POOL_SIZE open (20 unless told)."""
    default = load_settings(database_url=sqlite_url, data_dir=tmp_path)
    small = load_settings(database_url=sqlite_url, data_dir=tmp_path, database_pool_size=4)
    for settings, size in ((default, 20), (small, 4)):
        async with open_app(settings) as app:
            assert app.engine.pool.size() == size  # type: ignore[attr-defined]
