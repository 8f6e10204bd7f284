"""Evidence files on disk, named by their SHA-256 so the same file is stored once."""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import datetime
from pathlib import Path

from storage.models import EvidenceFile


def store(
    data_dir: Path, content: bytes, file_name: str, mime_type: str, now: datetime
) -> EvidenceFile:
    """Write `content` under data_dir/evidence/ab/abcd… (atomically) and describe it."""
    digest = hashlib.sha256(content).hexdigest()
    relative = Path("evidence") / digest[:2] / digest
    target = data_dir / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=target.parent)
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.replace(temp, target)
    return EvidenceFile(
        sha256=digest,
        file_name=file_name,
        mime_type=mime_type,
        size=len(content),
        storage_path=str(relative),
        created_at=now,
    )
