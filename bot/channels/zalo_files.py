"""Files for Zalo users: Zalo bots cannot send documents, so an attachment (the XLSX export, a PNG
chart) is stored under a directory and offered as a link to the project's web server.

A link is ``{base_url}{prefix}/{token}`` with ``token = <file id>.<expiry, unix s>.<HMAC-SHA256>``,
keyed from ``web.secret_key``: whoever has the link may download the file until it expires (as with
any shared link), nobody can forge or extend one. A bad signature answers 403; an expired link, or
a file that is gone, 404. Expired files are deleted when new ones are stored.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from handlers.messages import Attachment

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"^([0-9a-f]{32})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$")


class BadToken(Exception):
    """The token was not made by us (or was altered)."""


class Expired(Exception):
    """The token is genuine but past its expiry."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    url: str
    filename: str
    mime_type: str
    expires: datetime  # UTC


class FileStore:
    def __init__(self, directory: Path, secret_key: str, base_url: str, prefix: str = "/files", *,
                 ttl_seconds: float = 72 * 3600, clock: Callable[[], float] = time.time) -> None:
        self.directory = directory
        self.base_url = base_url.rstrip("/")
        self.prefix = "/" + prefix.strip("/")
        self.ttl = ttl_seconds
        self.clock = clock
        self._key = hmac.new(secret_key.encode("utf-8"), b"zalo-file-links/v1", hashlib.sha256).digest()

    # --- tokens ----------------------------------------------------------------------------------
    def _signature(self, file_id: str, expires: int) -> str:
        mac = hmac.new(self._key, f"{file_id}.{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def sign(self, file_id: str, expires: int) -> str:
        return f"{file_id}.{expires}.{self._signature(file_id, expires)}"

    def verify(self, token: str) -> str:
        """The file id of a genuine, unexpired token; raises BadToken or Expired."""
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise BadToken(token)
        file_id, expires, signature = match[1], int(match[2]), match[3]
        if not hmac.compare_digest(signature, self._signature(file_id, expires)):
            raise BadToken(token)
        if expires <= self.clock():
            raise Expired(token)
        return file_id

    # --- storage ---------------------------------------------------------------------------------
    def _paths(self, file_id: str) -> tuple[Path, Path]:
        return self.directory / f"{file_id}.bin", self.directory / f"{file_id}.json"

    async def save(self, attachment: Attachment) -> StoredFile:
        """Store the bytes; returns the signed link."""
        file_id = secrets.token_hex(16)
        expires = int(self.clock() + self.ttl)
        meta = {"filename": attachment.filename, "mime_type": attachment.mime_type, "expires": expires}
        await asyncio.to_thread(self._write, file_id, attachment.content, meta)
        url = f"{self.base_url}{self.prefix}/{self.sign(file_id, expires)}"
        return StoredFile(url, attachment.filename, attachment.mime_type, datetime.fromtimestamp(expires, UTC))

    def _write(self, file_id: str, content: bytes, meta: dict[str, object]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.purge()
        data, info = self._paths(file_id)
        data.write_bytes(content)
        info.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    def purge(self) -> int:
        """Delete expired files; returns how many."""
        removed, now = 0, self.clock()
        for info in self.directory.glob("*.json"):
            try:
                expires = json.loads(info.read_text(encoding="utf-8"))["expires"]
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if expires <= now:
                for path in self._paths(info.stem):
                    path.unlink(missing_ok=True)
                removed += 1
        return removed

    def _read(self, file_id: str) -> tuple[bytes, dict[str, str]] | None:
        data, info = self._paths(file_id)
        try:
            return data.read_bytes(), json.loads(info.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    # --- serving ---------------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.Response:
        try:
            file_id = self.verify(request.match_info["token"])
        except BadToken:
            raise web.HTTPForbidden(text="forbidden") from None
        except Expired:
            raise web.HTTPNotFound(text="this link has expired") from None
        found = await asyncio.to_thread(self._read, file_id)
        if found is None:
            raise web.HTTPNotFound(text="not found")
        content, meta = found
        filename = str(meta.get("filename") or "file")
        ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
        disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
        return web.Response(body=content, headers={
            "Content-Type": str(meta.get("mime_type") or "application/octet-stream"),
            "Content-Disposition": disposition, "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff"})
