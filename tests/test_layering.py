"""The layers stay apart: handlers and scheduler know no messenger, storage knows no one above."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RULES = {
    "handlers": ("telegram", "aiohttp", "bot"),
    "scheduler": ("telegram", "aiohttp", "bot"),
    "storage": ("bot", "handlers", "scheduler"),
}


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def offending(path: Path, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(name for name in imported(path)
                  if name.split(".")[0] in forbidden)


def modules() -> list[tuple[Path, tuple[str, ...]]]:
    return [(path, forbidden) for package, forbidden in RULES.items()
            for path in sorted((ROOT / package).rglob("*.py"))
            if "migrations" not in path.parts]  # Alembic's env.py reads settings when run alone


def test_the_rule_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import telegram.ext\nfrom bot.config import Settings\nimport json\n")
    assert offending(sample, RULES["handlers"]) == ["bot.config", "telegram.ext"]


@pytest.mark.parametrize("path,forbidden", modules(), ids=lambda v: str(v)[-40:])
def test_layer_imports(path: Path, forbidden: tuple[str, ...]) -> None:
    assert offending(path, forbidden) == []
