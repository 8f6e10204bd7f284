"""Files given as signed, expiring links served by tiendo's own HTTP server.

Zalo cannot receive a document and takes photos only by URL, so whatever file the bot gives
there (an export now, charts and spreadsheets later) is stored under DATA_DIR and offered as
`{PUBLIC_BASE_URL}/files/{id}/{expires}/{signature}/{name}`. The id is random, the signature
an HMAC of id, expiry and name with a secret of the server's, so a link cannot be guessed or
altered; an expired, forged or unknown link is a plain 404, telling nothing of why.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import mimetypes
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

from aiohttp import web

from bot.config import Settings
from handlers.events import OutgoingFile

log = logging.getLogger(__name__)
PATH = "/files"
_ID = re.compile(r"^[A-Za-z0-9_-]{16}$")
_EXPIRES = re.compile(r"^[0-9]{1,12}$")
_SIGNATURE_CHARS = 32  # 192 bits of the HMAC, base64url


class FileLinks:
    """Stores files and signs links to them; serves a link while it is valid."""

    def __init__(
        self,
        folder: Path,
        base_url: str,
        secret: bytes,
        lifetime: timedelta = timedelta(days=7),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.folder, self.base_url = folder, base_url.rstrip("/")
        self._secret, self.lifetime, self.clock = secret, lifetime, clock

    @classmethod
    def from_settings(cls, settings: Settings) -> FileLinks:
        folder = settings.data_dir / "links"
        return cls(
            folder,
            public_base_url(settings),
            link_secret(settings),
            timedelta(days=settings.file_link_days),
        )

    async def publish(self, file: OutgoingFile, now: datetime) -> str:
        """Store `file` and return the link that serves it until `now` + the lifetime."""
        file_id = secrets.token_urlsafe(12)
        expires = int((now + self.lifetime).timestamp())
        name = file.file_name or "tep"
        await asyncio.to_thread(self._write, self._path(file_id, expires), file.content)
        signature = self._sign(file_id, expires, name)
        return f"{self.base_url}{PATH}/{file_id}/{expires}/{signature}/{quote(name)}"

    def find(self, file_id: str, expires: str, signature: str, name: str) -> Path | None:
        """The stored file a link names, if the link is genuine, unexpired and the file kept."""
        if not (_ID.match(file_id) and _EXPIRES.match(expires)):
            return None
        expected = self._sign(file_id, int(expires), name)
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            return None
        if int(expires) <= self.clock().timestamp():
            return None
        path = self._path(file_id, int(expires))
        return path if path.is_file() else None

    def purge(self) -> int:
        """Delete stored files whose links have expired; how many were deleted."""
        if not self.folder.is_dir():
            return 0
        now, removed = self.clock().timestamp(), 0
        for path in self.folder.iterdir():
            expires = path.name.split("-", 1)[0]
            if expires.isdigit() and int(expires) <= now:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def routes(self) -> list[web.RouteDef]:
        return [web.get(PATH + "/{id}/{expires}/{signature}/{name}", self._serve)]

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        name = info["name"]
        path = self.find(info["id"], info["expires"], info["signature"], name)
        if path is None:
            return web.Response(status=404, text="not found")
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        headers = {
            "Content-Type": kind,
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "private, no-store",
        }
        return web.FileResponse(path, headers=headers)

    def _sign(self, file_id: str, expires: int, name: str) -> str:
        message = f"{file_id}/{expires}/{name}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:_SIGNATURE_CHARS]

    def _path(self, file_id: str, expires: int) -> Path:
        # The expiry leads the name, so `purge` needs no index.
        return self.folder / f"{expires}-{file_id}"

    def _write(self, path: Path, content: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def public_base_url(settings: Settings) -> str:
    """Where people reach this server: PUBLIC_BASE_URL, else WEBHOOK_URL's origin, else the
    address the server listens on (enough on one machine, not for a phone)."""
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/")
    if settings.webhook_url:
        parts = urlsplit(settings.webhook_url)
        return f"{parts.scheme}://{parts.netloc}"
    return f"http://{settings.http_host}:{settings.http_port}"


def link_secret(settings: Settings) -> bytes:
    """FILE_LINK_SECRET, else one derived from WEBHOOK_SECRET, else one kept in DATA_DIR
    (made on first use), so links stay valid across restarts without any configuration."""
    if settings.file_link_secret:
        return settings.file_link_secret.encode()
    if settings.webhook_secret:
        return hmac.new(settings.webhook_secret.encode(), b"tiendo file links", "sha256").digest()
    path = settings.data_dir / "secrets" / "file_links"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_bytes(secrets.token_bytes(32))
        log.info("a secret for file links was made in %s", path)
    return path.read_bytes()
