"""Where the files an outbox row carries are kept: DATA_DIR/outbox-files/<folder of its key>/.

The row's payload names them by paths relative to DATA_DIR (see scheduler/digest.py for the
payload's shape); the sender reads them from there.
"""

from __future__ import annotations

import hashlib
import re

FILES_DIR = "outbox-files"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def files_folder(key: str) -> str:
    """A folder name for the row `key`: readable, safe on any file system (a chat id may hold
    "-" or "@"), and unique (the hash keeps two keys that read alike apart)."""
    readable = _UNSAFE.sub("-", key).strip("-.")[:80]
    return f"{readable}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
