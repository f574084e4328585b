"""Fetching the image behind a Zalo ``photo_url``, which arrives in an update (by webhook or polling):
a URL anyone who knows the webhook secret could forge, so it is fetched only when it points where
Zalo serves photos.

- https only, to a host in ``zalo.photo_hosts`` (host suffixes: ``zdn.vn`` allows ``f1.photo.zdn.vn``;
  an IP address only when listed exactly). Loopback, private addresses, ``localhost``, the bot's own
  ``/healthz``: not on the list, never fetched.
- Redirects are followed by hand, at most a few, and only to hosts on the list.
- At most ``MAX_PHOTO_BYTES`` are read. ``zalo.photo_ca_file`` adds a CA to trust (a TLS-inspecting
  proxy's, or a test's) on top of the system's.
The caller fetches only for a bound account (an unbound one cannot attach a photo to anything).
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
from collections.abc import Sequence
from urllib.parse import urljoin, urlsplit

import aiohttp

from handlers.messages import IncomingPhoto
from models.photos.store import MAX_PHOTO_BYTES

log = logging.getLogger(__name__)

MAX_REDIRECTS = 3


def allowed_photo_url(url: str, hosts: Sequence[str]) -> bool:
    """Whether ``url`` is https to one of ``hosts`` (suffixes; IP addresses only exactly)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError:
        return False
    if parts.scheme != "https" or not host or parts.username is not None or parts.password is not None:
        return False
    try:
        ipaddress.ip_address(host)
        is_ip = True
    except ValueError:
        is_ip = False
    for allowed in (h.lower().strip(".") for h in hosts):
        if host == allowed or (not is_ip and allowed and host.endswith("." + allowed)):
            return True
    return False


class PhotoFetcher:
    def __init__(self, http: aiohttp.ClientSession, hosts: Sequence[str], ca_file: str | None = None) -> None:
        self.http, self.hosts = http, list(hosts)
        self.ssl: ssl.SSLContext | bool = True
        if ca_file:
            context = ssl.create_default_context()
            context.load_verify_locations(cafile=ca_file)
            self.ssl = context

    async def fetch(self, url: str) -> IncomingPhoto:
        """The image at ``url``, or why not (``download_failed`` | ``too_large``); never raises."""
        for _ in range(MAX_REDIRECTS + 1):
            if not allowed_photo_url(url, self.hosts):
                log.warning("zalo: photo_url %r is not https on zalo.photo_hosts; not fetched", url[:200])
                return IncomingPhoto(error="download_failed")
            try:
                async with self.http.get(url, allow_redirects=False, ssl=self.ssl,
                                         timeout=aiohttp.ClientTimeout(total=60)) as resp:
                    if resp.status in (301, 302, 303, 307, 308) and resp.headers.get("Location"):
                        url = urljoin(url, resp.headers["Location"])
                        continue
                    if resp.status != 200:
                        log.info("zalo: photo download answered %s", resp.status)
                        return IncomingPhoto(error="download_failed")
                    data = await resp.content.read(MAX_PHOTO_BYTES + 1)
            except (aiohttp.ClientError, TimeoutError, ssl.SSLError) as exc:
                log.info("zalo: photo download failed: %s", exc)
                return IncomingPhoto(error="download_failed")
            return IncomingPhoto(error="too_large") if len(data) > MAX_PHOTO_BYTES else IncomingPhoto(content=data)
        log.warning("zalo: photo_url redirected more than %d times; not fetched", MAX_REDIRECTS)
        return IncomingPhoto(error="download_failed")
