"""The Telegram webhook route on the project's aiohttp server.

Telegram sends the ``secret_token`` given to ``setWebhook`` in ``X-Telegram-Bot-Api-Secret-Token``.
It is compared in constant time before anything of the request is read; a wrong or missing secret
gets 403 and nothing else happens. A good request's update is written to the inbox first and
Telegram gets 200 only then (503 when it cannot be written: Telegram delivers it again); the
processing happens after. A redelivery is harmless (the inbox keys updates by message / callback id).
A body that is no update (not JSON, too deep, not an Update) gets 200 and a log line: Telegram would
redeliver a non-2xx answer forever.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web
from telegram import Update

from bot.channels.webhook_body import read_json_object

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def secret_ok(request: web.Request, secret: bytes) -> bool:
    given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
    return hmac.compare_digest(given, secret)


def webhook_handler(secret: str, channel: TelegramChannel) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The handler of the webhook route (the composition root adds it at ``telegram.webhook_path``)."""
    expected = secret.encode("utf-8")

    async def telegram_webhook(request: web.Request) -> web.Response:
        if not secret_ok(request, expected):
            return web.Response(status=403, text="forbidden")
        if not channel.running:
            return web.Response(status=503, text="not ready")  # Telegram retries later
        try:
            data = await read_json_object(request)
            update = Update.de_json(data, channel.application.bot)
            items = channel.items([update], [data])
        except Exception as exc:  # any body at all: never a 4xx/5xx that Telegram would redeliver
            log.warning("telegram webhook: unreadable update ignored (%s: %s)", type(exc).__name__, exc)
            return web.Response(text="ignored")
        try:
            await channel.pipeline.accept(items)
        except Exception as exc:
            log.warning("telegram webhook: could not write the update down (%s); Telegram will retry", exc)
            try:
                await channel.tell_delayed([update])
            except Exception:  # (an update PTB read but cannot tell about: nothing to say)
                log.exception("telegram webhook: could not tell the sender to wait")
            return web.Response(status=503, text="try again")
        return web.Response(text="ok")

    return telegram_webhook
