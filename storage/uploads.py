"""Appendices sent in a chat for /nhap, kept under DATA_DIR/uploads/ while their dialog lasts.

A file is kept under a random name (never the sender's: a client chooses that one, slashes and
all), only after it was checked to be an .xlsx workbook: a zip holding a workbook, whole (every
part's checksum), not too big, and not a zip bomb. The dialog knows it by that name and its
SHA-256. The dialog removes its file when it ends; a file nobody refers to any more (its dialog
was left with /huy, replaced or expired, or a process stopped mid-import) is swept once it is
older than `ORPHAN_AGE`.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import tempfile
import time
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

FOLDER = "uploads"
SUFFIX = ".xlsx"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP_MAGIC = b"PK\x03\x04"
WORKBOOK_PART = "xl/workbook.xml"
# An .xlsx packs its XML 5 to 10 times; parts unpacking to far more than the file's limit are a
# zip bomb, not a plan.
MAX_UNPACKED_RATIO = 20
# Older than any step's commit or any import: nothing in flight still needs such a file.
ORPHAN_AGE = 15 * 60
_NAME = re.compile(r"^[0-9a-f]{32}\.xlsx$")


class Refused(StrEnum):
    """Why a sent file is not kept."""

    TYPE = "type"  # not named .xlsx (an old .xls, a PDF…)
    TOO_BIG = "too_big"
    CORRUPT = "corrupt"  # not a zip, a damaged one, or a zip without a workbook


@dataclass(frozen=True)
class Upload:
    name: str  # the random name under DATA_DIR/uploads/
    sha256: str
    size: int


def refused_name(file_name: str, mime_type: str = "") -> Refused | None:
    """Refused.TYPE unless the file is named .xlsx (any case) or, nameless (a messenger may
    give none), says it is one; its content decides the rest."""
    if file_name.lower().endswith(SUFFIX) or mime_type == XLSX_MIME:
        return None
    return Refused.TYPE


def refused_content(content: bytes, max_bytes: int) -> Refused | None:
    """Why `content` is not a workbook worth reading, or None. Reads every part once (the
    checksums), so call it off the event loop for big files."""
    if len(content) > max_bytes:
        return Refused.TOO_BIG
    if not content.startswith(ZIP_MAGIC):
        return Refused.CORRUPT
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = archive.infolist()
            if WORKBOOK_PART not in {part.filename for part in parts}:
                return Refused.CORRUPT
            if sum(part.file_size for part in parts) > MAX_UNPACKED_RATIO * max_bytes:
                return Refused.CORRUPT
            if archive.testzip() is not None:
                return Refused.CORRUPT
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        return Refused.CORRUPT
    except (RuntimeError, NotImplementedError):  # encrypted, or an unknown compression
        return Refused.CORRUPT
    return None


def keep(data_dir: Path, content: bytes) -> Upload:
    """Write `content` under a new random name (atomically) and describe it."""
    folder = data_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16) + SUFFIX
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".part-")
    with os.fdopen(handle, "wb") as out:
        out.write(content)
    os.replace(temp, folder / name)
    return Upload(name, hashlib.sha256(content).hexdigest(), len(content))


def path_of(data_dir: Path, name: str) -> Path:
    """The kept file's path; ValueError for a name `keep` never gives (dialog data is ours,
    but a path is built from it, so it is checked)."""
    if not _NAME.match(name):
        raise ValueError(f"not an upload name: {name!r}")
    return data_dir / FOLDER / name


def digest(path: Path) -> str | None:
    """The file's SHA-256, or None when it is gone."""
    sha = hashlib.sha256()
    try:
        with path.open("rb") as source:
            for block in iter(lambda: source.read(1 << 20), b""):
                sha.update(block)
    except FileNotFoundError:
        return None
    return sha.hexdigest()


def remove(data_dir: Path, name: str) -> None:
    """Delete the kept file (nothing when it is already gone)."""
    path_of(data_dir, name).unlink(missing_ok=True)


def sweep(data_dir: Path, referred: set[str], now: float | None = None) -> int:
    """Delete the files under uploads/ that no dialog or running import refers to and that are
    older than ORPHAN_AGE; returns how many went."""
    folder = data_dir / FOLDER
    if not folder.is_dir():
        return 0
    limit = (time.time() if now is None else now) - ORPHAN_AGE
    removed = 0
    for path in folder.iterdir():
        if path.name in referred or not path.is_file():
            continue
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # swept by another instance meanwhile
    return removed
