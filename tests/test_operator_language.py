"""An English-speaking operator sets DEFAULT_LANGUAGE=en: the `tiendo` command then answers in
English, from its help to its refusals; without it, it speaks Vietnamese as before."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory

from handlers.i18n import catalog
from storage.migrate import alembic_config
from storage.samples.make_sample import SAMPLE_PATH
from tests.conftest import CliResult

EN = {"DEFAULT_LANGUAGE": "en"}
HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def no_vietnamese(result: CliResult) -> bool:
    """Nothing but the unit names (data, Vietnamese in both languages) is Vietnamese."""
    vi_words = ("Đã ", "Không ", "cơ sở dữ liệu", "nhiệm vụ", "kế hoạch", "quận, huyện")
    return not any(word in result.out + result.err for word in vi_words)


def test_db_upgrade_says_in_english_that_it_created_the_schema(run_cli, tmp_path: Path) -> None:
    fresh = f"sqlite+aiosqlite:///{tmp_path / 'fresh' / 'tiendo.db'}"
    created = run_cli("db", "upgrade", env={**EN, "DATABASE_URL": fresh})
    again = run_cli("db", "upgrade", env={**EN, "DATABASE_URL": fresh})
    checked = run_cli("db", "check", env={**EN, "DATABASE_URL": fresh})

    assert created.code == 0, created.err
    assert created.out.startswith(f"Created the database schema (version {HEAD}): "), created.out
    assert again.out.startswith(f"The database is already at the latest version ({HEAD})")
    # (alembic's own "No new upgrade operations detected." may come first: not ours to word)
    assert checked.out.endswith("The data model and the migrations agree.\n"), checked.out
    assert all(no_vietnamese(result) for result in (created, again, checked))


def test_db_upgrade_in_english_on_either_database(run_cli, db_url: str) -> None:
    result = run_cli("db", "upgrade", env={**EN, "DATABASE_URL": db_url})

    assert result.code == 0, result.err
    assert "already at the latest version" in result.out and no_vietnamese(result)


def test_units_list_names_each_kind_in_english(run_cli) -> None:
    english = run_cli("units", "list", env=EN)
    vietnamese = run_cli("units", "list")

    assert english.code == 0 and vietnamese.code == 0, english.err + vietnamese.err
    # The same units in the same order; only the words around their names change.
    assert len(english.out.splitlines()) == len(vietnamese.out.splitlines()) > 30
    assert "Sở Thông tin và Truyền thông  [Sở TT&TT]  (department or agency)" in english.out
    kinds = {line.rsplit("(", 1)[-1].rstrip(")") for line in english.out.splitlines()}
    assert kinds == {"department or agency", "district", "other body", "group of units"}
    assert "Sở Thông tin và Truyền thông  [Sở TT&TT]  (sở, ban, ngành)" in vietnamese.out


def test_units_add_answers_in_english(run_cli) -> None:
    name = "Trung tâm Phục vụ hành chính công thử nghiệm"
    added = run_cli("units", "add", name, "--short", "TTHCCTN", env=EN)
    again = run_cli("units", "add", name, "--short", "TTHCCTN", env=EN)

    assert added.code == 0, added.err
    assert added.out.startswith(f"Added the unit “{name}” ("), added.out
    assert again.code == 1 and again.err.startswith("Unit not added: ")


def test_the_help_is_in_the_operator_s_language(run_cli) -> None:
    english = run_cli("units", "--help", env=EN)
    vietnamese = run_cli("units", "--help")
    top = run_cli("--help", env=EN)

    assert "list the known units" in english.out and "liệt kê" not in english.out
    assert "liệt kê các đơn vị đã biết" in vietnamese.out
    assert catalog("en")["cli_description"] in " ".join(top.out.split())
    assert "manage the database (migrations)" in top.out
    assert "export the plans with their progress to xlsx, json or csv" in top.out


def test_refusals_and_plans_in_english(run_cli, tmp_path: Path) -> None:
    empty = run_cli("plans", "list", env=EN)
    mislabelled = run_cli("export", str(tmp_path / "out.csv"), "--format", "json", env=EN)
    unknown = run_cli("export", str(tmp_path / "out.xlsx"), "--plan", "KH 2031", env=EN)

    assert empty.out == "No plan yet. Import one with: tiendo import FILE.xlsx --plan NAME\n"
    assert mislabelled.code == 1 and mislabelled.err.startswith(
        f"The file “{tmp_path / 'out.csv'}” ends in .csv but --format is json"
    )
    assert unknown.code == 1
    assert unknown.err == "There is no plan “KH 2031”. The plans: none yet.\n"
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "out.xlsx").exists()


def test_an_unreachable_database_is_reported_in_english(run_cli) -> None:
    url = "postgresql+asyncpg://nobody@127.0.0.1:9/nothing"
    result = run_cli("db", "upgrade", env={**EN, "DATABASE_URL": url})

    assert result.code == 1 and "Traceback" not in result.err
    assert result.err.startswith("Cannot connect to the database "), result.err


def test_import_reports_in_english(run_cli, tmp_path: Path) -> None:
    tried = run_cli("import", str(SAMPLE_PATH), "--plan", "CT 284", "--dry-run", env=EN)
    done = run_cli("import", str(SAMPLE_PATH), "--plan", "CT 284", env=EN)
    listed = run_cli("plans", "list", env=EN)

    assert tried.code == 0 and done.code == 0, tried.err + done.err
    assert tried.out.startswith("Dry run (nothing saved): sheet “"), tried.out
    assert "  Plan: CT 284 — CT 284 (to be created)." in tried.out
    assert done.out.startswith("Plan imported: sheet “") and "(just created)" in done.out
    assert (
        listed.out.startswith("Plans (1):\n  CT 284 — ") and " tasks · completed 0/" in listed.out
    )


def test_a_wrong_setting_is_explained_in_english(run_cli) -> None:
    zone = run_cli("db", "upgrade", env={**EN, "TIMEZONE": "Mars/Olympus"})
    port = run_cli("units", "list", env={**EN, "HTTP_PORT": "tám"})
    # DEFAULT_LANGUAGE itself unusable: said in Vietnamese, the default
    language = run_cli("units", "list", env={"DEFAULT_LANGUAGE": "fr"})

    assert zone.code == port.code == language.code == 1
    assert zone.err == (
        "Configuration error: TIMEZONE: “Mars/Olympus” is not an IANA time zone; "
        "a correct example: Asia/Ho_Chi_Minh\n"
    )
    assert port.err == "Configuration error: HTTP_PORT: expected a whole number, not “tám”\n"
    assert language.err.startswith("Lỗi cấu hình: DEFAULT_LANGUAGE: “fr” không phải")


def test_invite_run_and_chat_refuse_in_english(run_cli) -> None:
    invite = run_cli("invite", env=EN)
    expiry = run_cli("invite", "Sở TT&TT", "--expires", "soon", env=EN)
    run = run_cli("run", env=EN)
    chat = run_cli("chat", "--as", "Nobody Known", env=EN)

    assert invite.err == "A unit is needed, e.g.: tiendo invite “Sở TT&TT”.\n"
    assert expiry.err.startswith("--expires “soon” is not valid")
    assert run.err.startswith("Neither TELEGRAM_BOT_TOKEN nor ZALO_BOT_TOKEN is set")
    assert chat.err.startswith("Nobody has the name or number “Nobody Known”.")
    assert {invite.code, expiry.code, run.code, chat.code} == {1}


def test_an_invitation_in_english(run_cli) -> None:
    result = run_cli("invite", "Sở TT&TT", "--expires", "never", env=EN)

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("Invitation code: ")
    assert lines[1] == (
        "Unit: Sở Thông tin và Truyền thông · role: contact officer · uses: 1 · never expires"
    )
