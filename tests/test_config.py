"""An operator configures tiendo; a wrong value stops it with one line naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import AdminId, load_settings

BAD_VALUES = [
    ("TIMEZONE", "Mars/Olympus", "TIMEZONE"),
    ("DATABASE_URL", "mysql://root@localhost/db", "DATABASE_URL"),
    ("ADMINS", "telegram123", "ADMINS"),
    ("ADMINS", "fax:123", "ADMINS"),
    ("HTTP_PORT", "70000", "HTTP_PORT"),
    ("HTTP_PORT", "tám", "HTTP_PORT"),
    ("LOG_LEVEL", "LOUD", "LOG_LEVEL"),
    ("DEFAULT_LANGUAGE", "fr", "DEFAULT_LANGUAGE"),
    ("IMPORT_MAX_ROWS", "0", "IMPORT_MAX_ROWS"),
]


@pytest.mark.parametrize("variable, value, named", BAD_VALUES)
def test_a_wrong_value_stops_with_one_line(run_cli, variable: str, value: str, named: str) -> None:
    result = run_cli("db", "upgrade", env={variable: value})

    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], result.err
    assert "Traceback" not in result.err


def test_a_webhook_needs_a_long_enough_secret(run_cli) -> None:
    result = run_cli(
        "db",
        "upgrade",
        env={"WEBHOOK_URL": "https://bot.example.vn/hook", "WEBHOOK_SECRET": "short"},
    )

    assert result.code == 1
    assert "WEBHOOK_SECRET" in result.err and "8" in result.err


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
