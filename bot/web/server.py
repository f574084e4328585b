"""The project's aiohttp server: health check, dashboard and web chat routes (channels' webhooks and
file links are added by the composition root)."""

from __future__ import annotations

from aiohttp import web

from bot.config import Config
from bot.web import keys
from bot.web.chat import WebChatChannel
from bot.web.routes import add_routes
from handlers.engine import Engine
from models.accounts.access import ping
from models.db import DbEngine, SessionFactory


async def healthz(request: web.Request) -> web.Response:
    try:
        await ping(request.app[keys.DB_ENGINE])
    except Exception as exc:  # the point is to report it, whatever it is
        return web.json_response({"ok": False, "database": "unreachable", "error": type(exc).__name__},
                                 status=503)
    status = request.app.get(keys.SCHEDULER_STATUS)
    return web.json_response({"ok": True, "database": "ok", "scheduler": status() if status else "off"})


def make_web_app(config: Config, engine: DbEngine, sessions: SessionFactory, dialog: Engine,
                 web_chat: WebChatChannel | None) -> web.Application:
    web_app = web.Application(client_max_size=2 * 1024 * 1024)
    web_app[keys.CONFIG] = config
    web_app[keys.DB_ENGINE] = engine
    web_app[keys.SESSIONS] = sessions
    web_app[keys.DIALOG] = dialog
    if web_chat is not None:
        web_app[keys.WEB_CHAT] = web_chat
    web_app.router.add_get("/healthz", healthz)
    add_routes(web_app)
    return web_app
