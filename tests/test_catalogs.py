"""Every text a user reads comes from the catalogs, complete in Vietnamese and English."""

from __future__ import annotations

import ast
import json
import re
import string
from pathlib import Path

import pytest

from bot.config import PROBLEM_TYPES
from handlers.i18n import TEXTS, CatalogClash, catalog, merged
from handlers.report import CHOSEN_STATUSES
from storage.models import TaskStatus, UnitKind

ROOT = Path(__file__).parent.parent
HANDLERS = ROOT / "handlers"
# The command line's code: every text it prints or shows as help comes from cli.<lang>.json.
CLI_FILES = [ROOT / "bot" / "cli.py", *sorted((ROOT / "bot" / "commands").glob("*.py"))]
VIETNAMESE = re.compile(
    r"[àáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ]", re.IGNORECASE
)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    vi, en = catalog("vi"), catalog("en")
    assert set(vi) == set(en)
    for key in vi:
        assert placeholders(vi[key]) == placeholders(en[key]), key
        assert vi[key].strip() and en[key].strip(), key


def cli_catalog(lang: str) -> dict[str, str]:
    return dict(json.loads((TEXTS / f"cli.{lang}.json").read_text(encoding="utf-8")))


def test_the_command_line_speaks_both_languages_with_the_same_blanks() -> None:
    vi, en = cli_catalog("vi"), cli_catalog("en")
    assert set(vi) == set(en)
    for key in vi:
        assert key.startswith("cli_"), key
        assert placeholders(vi[key]) == placeholders(en[key]), key
        assert vi[key].strip() and en[key].strip(), key


def test_chat_and_command_line_keys_never_meet() -> None:
    for lang in ("vi", "en"):
        chat = json.loads((TEXTS / f"{lang}.json").read_text(encoding="utf-8"))
        assert not [key for key in chat if key.startswith("cli_")]
        assert catalog(lang) == {**chat, **cli_catalog(lang)}


def test_a_key_defined_twice_is_refused() -> None:
    with pytest.raises(CatalogClash) as refused:
        merged({"greeting": "Xin chào", "cancel": "Huỷ"}, {"cli_x": "x", "greeting": "Chào"})
    assert refused.value.args == ("greeting",)


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in HANDLERS.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        keys |= set(re.findall(r"\bt\(\s*(?:[\w.]+,\s*)?\"([a-z_]+)\"", source))
    return keys


def test_every_key_the_code_asks_for_exists() -> None:
    missing = used_keys() - set(catalog("vi"))
    assert used_keys() and not missing
    asked = cli_keys()
    assert asked and not asked - set(catalog("vi"))


def cli_keys() -> set[str]:
    """The keys of every `t(lang, "key", …)` in the command line's code."""
    keys: set[str] = set()
    for path in CLI_FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "t"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
            ):
                keys.add(str(node.args[1].value))
    return keys


def test_dynamic_keys_exist_for_every_value() -> None:
    vi = catalog("vi")
    for status in (
        "not_started",
        "in_progress",
        "overdue",
        "done_on_time",
        "done_late",
        "done",
        "blocked",
        "paused",
        "extension_requested",
        "not_reported",
    ):
        assert f"status_{status}" in vi
    for chosen in CHOSEN_STATUSES:  # the words officers type for each status they can choose
        assert all(catalog(lang)[f"status_words_{chosen}"].strip() for lang in ("vi", "en"))
    for role in ("officer", "head", "committee", "admin"):
        assert f"role_{role}" in vi
    for name in ("baocao", "nhiemvu", "lichsu", "giahan", "ngonngu", "huy", "trogiup"):
        assert f"help_{name}" in vi
    for kind in UnitKind:  # `tiendo units list` names each kind in words
        assert f"cli_unit_kind_{kind.value}" in vi
    for problem in PROBLEM_TYPES:  # what pydantic found wrong with a setting, in words
        assert f"cli_config_type_{problem}" in vi


def sentences_in(path: Path) -> list[str]:
    """String constants that read like text for a person, outside docstrings and log calls."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        ):
            skip.add(id(body[0].value))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("debug", "info", "warning", "error", "exception")
        ):
            skip |= {id(arg) for arg in ast.walk(node)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            text = node.value
            if VIETNAMESE.search(text) or re.search(
                r"[A-Za-z]{3,} [A-Za-z]{3,} [A-Za-z]{3,}", text
            ):
                found.append(text)
    return found


def test_no_handler_holds_a_literal_user_text() -> None:
    offenders = {path.name: sentences_in(path) for path in HANDLERS.glob("*.py")}
    assert {name: texts for name, texts in offenders.items() if texts} == {}


def test_no_command_holds_a_literal_user_text() -> None:
    offenders = {path.name: sentences_in(path) for path in CLI_FILES}
    assert {name: texts for name, texts in offenders.items() if texts} == {}


def test_the_literal_text_check_would_catch_one(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text('def f():\n    """Doc."""\n    return "Bạn chưa đăng ký"\n', encoding="utf-8")
    assert sentences_in(sample) == ["Bạn chưa đăng ký"]


def test_every_status_has_its_words() -> None:
    vi, en = catalog("vi"), catalog("en")
    for status in TaskStatus:
        assert f"status_{status.value}" in vi and f"status_{status.value}" in en, status
