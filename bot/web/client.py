"""Who is asking, behind a reverse proxy: the client's address and whether it came over https.

``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed only from ``web.trusted_proxies`` (anyone
can send them): the address is the rightmost one in ``X-Forwarded-For`` that is not itself a trusted
proxy; without a trusted proxy in front, it is the TCP peer. Unset, every request behind nginx comes
from nginx's address — one login throttle for everybody; set it to nginx's address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(items: Sequence[str]) -> list[Network]:
    return [ipaddress.ip_network(item, strict=False) for item in items]


def _trusted(address: str | None, trusted: Sequence[Network]) -> bool:
    if not address or not trusted:
        return False
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    return any(ip in net for net in trusted)


def client_address(request: web.Request, trusted: Sequence[Network]) -> str:
    """The client's address: the TCP peer, or what a trusted proxy says it forwarded for."""
    peer = request.remote or "unknown"
    if not _trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getall("X-Forwarded-For", [])).split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop.strip("[]")))
            except ValueError:
                return peer  # a proxy that forwards garbage: count it under the proxy itself
    return hops[0] if hops else peer


def forwarded_https(request: web.Request, trusted: Sequence[Network]) -> bool:
    """Whether a trusted proxy says the client used https."""
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return proto == "https" and _trusted(request.remote, trusted)
