"""An operator pipes tiendo's output into `head`: the command ends quietly when head has read
enough, with no traceback and no "Exception ignored" on the terminal."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

UNITS = 4000  # about 300 KB of listing: far more than a pipe holds, so writes meet a closed pipe


def _many_units(sqlite_url: str) -> None:
    connection = sqlite3.connect(sqlite_url.split("///", 1)[1])
    with connection:
        connection.executemany(
            "INSERT INTO units (name, short_name, kind, covers) VALUES (?, ?, 'other', '')",
            [(f"Trung tâm Văn hoá, Thông tin và Thể thao số {n}", f"TT{n}") for n in range(UNITS)],
        )
    connection.close()


def test_units_list_into_head_ends_quietly(
    sqlite_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    _many_units(sqlite_url)
    tiendo = subprocess.Popen(
        [sys.executable, "-m", "bot", "units", "list"],
        cwd=tmp_path,
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert tiendo.stdout is not None and tiendo.stderr is not None
    first = tiendo.stdout.readline().decode("utf-8")  # what `head -n 1` shows
    tiendo.stdout.close()  # … and then head exits
    errors = tiendo.stderr.read().decode("utf-8")
    code = tiendo.wait(timeout=60)

    assert first.strip()
    assert errors == ""
    assert code == 1  # as Python's documentation does it: output was cut short, quietly
