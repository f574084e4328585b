"""The safety headers every response of the web server carries — pages, ``/healthz``, ``/static``,
file links, webhooks' answers, errors and 404s alike — set as each response is prepared.

A handler's own value wins (``setdefault``). HSTS only when the site is served over https: its
``web.public_url`` is https, or a trusted proxy says the request came over https.
"""

from __future__ import annotations

from aiohttp import web

from bot.web import keys
from bot.web.client import forwarded_https, networks

CSP = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
HSTS = "max-age=31536000"
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
           "Referrer-Policy": "same-origin"}


async def safety_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    web_cfg = request.app[keys.CONFIG].web
    if (web_cfg.public_url or "").startswith("https://") or forwarded_https(request, networks(web_cfg.trusted_proxies)):
        response.headers.setdefault("Strict-Transport-Security", HSTS)


def add_safety_headers(app: web.Application) -> None:
    app.on_response_prepare.append(safety_headers)
