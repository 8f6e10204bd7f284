"""Dialogs know no messenger; storage knows nothing above it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parent.parent
CHANNEL_LIBRARIES = ("telegram", "aiohttp", "bot")


def imports(folder: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / folder).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def test_handlers_and_scheduler_import_no_channel_code() -> None:
    for folder in ("handlers", "scheduler"):
        bad = {
            f: n & set(CHANNEL_LIBRARIES)
            for f, n in imports(folder).items()
            if n & set(CHANNEL_LIBRARIES)
        }
        assert bad == {}


def test_storage_imports_nothing_above_it() -> None:
    above = {"bot", "handlers", "scheduler", "telegram", "aiohttp"}
    bad = {f: n & above for f, n in imports("storage").items() if n & above}
    assert bad == {}
