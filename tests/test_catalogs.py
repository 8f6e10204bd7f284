"""Every text in both languages, the same placeholders, and no user text hidden in a handler."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from handlers.i18n import LANGUAGES, catalog

HANDLERS = Path(__file__).resolve().parent.parent / "handlers"
USED_KEY = re.compile(r"""\bt\(\s*(?:[\w.]+\s*,\s*)?["']([a-z_0-9]+)["']""")
VIETNAMESE = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]",
                        re.IGNORECASE)
SENTENCE = re.compile(r"[A-Za-z]{2,}\s+[A-Za-z]{2,}")
LOG_CALLS = {"debug", "info", "warning", "error", "exception", "critical"}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_keys() -> None:
    vi, en = catalog("vi"), catalog("en")
    assert sorted(set(vi) - set(en)) == [] and sorted(set(en) - set(vi)) == []
    assert all(text.strip() for lang in LANGUAGES for text in catalog(lang).values())


@pytest.mark.parametrize("key", sorted(catalog("vi")))
def test_placeholders_match_across_languages(key: str) -> None:
    assert placeholders(catalog("vi")[key]) == placeholders(catalog("en")[key])


def test_every_key_the_code_uses_exists() -> None:
    used = {key for path in HANDLERS.rglob("*.py") for key in USED_KEY.findall(path.read_text())}
    assert len(used) > 30  # the scan really finds the calls
    assert sorted(used - set(catalog("vi"))) == []


def user_texts(source: str) -> list[str]:
    """String constants that read like words for a person, outside docstrings, logs and keys."""
    tree = ast.parse(source)
    skipped: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant):
            skipped.add(id(body[0].value))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in LOG_CALLS | {"compile"}:  # logs and regex patterns
            skipped.update(id(sub) for arg in node.args for sub in ast.walk(arg))
        if isinstance(node, ast.Dict):
            skipped.update(id(key) for key in node.keys if key is not None)
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in skipped
            and (VIETNAMESE.search(node.value) or SENTENCE.search(node.value))]


def test_the_scan_catches_a_literal_user_text() -> None:
    source = '"""Doc string here."""\nlog.info("a log line")\n' \
             'def f():\n    """Doc."""\n    return Reply("Bạn chưa đăng ký")\n' \
             'def g():\n    return Reply("Please join first")\n'
    assert user_texts(source) == ["Bạn chưa đăng ký", "Please join first"]


@pytest.mark.parametrize("path", sorted(HANDLERS.glob("*.py")), ids=lambda p: p.name)
def test_no_handler_holds_a_literal_user_text(path: Path) -> None:
    assert user_texts(path.read_text(encoding="utf-8")) == []
