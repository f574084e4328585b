"""The project's aiohttp server: health check and metrics, dashboard and web chat routes (channels' webhooks and
file links are added by the composition root)."""

from __future__ import annotations

from aiohttp import web

from bot.config import Config
from bot.web import health, keys
from bot.web.chat import WebChatChannel
from bot.web.headers import add_safety_headers
from bot.web.routes import add_routes
from handlers.engine import Engine
from models.db import DbEngine, SessionFactory


def make_web_app(config: Config, engine: DbEngine, sessions: SessionFactory, dialog: Engine,
                 web_chat: WebChatChannel | None) -> web.Application:
    web_app = web.Application(client_max_size=2 * 1024 * 1024)
    web_app[keys.CONFIG] = config
    web_app[keys.DB_ENGINE] = engine
    web_app[keys.SESSIONS] = sessions
    web_app[keys.DIALOG] = dialog
    if web_chat is not None:
        web_app[keys.WEB_CHAT] = web_chat
    web_app.router.add_get("/healthz", health.healthz)
    web_app.router.add_get("/metrics", health.metrics_page)
    add_routes(web_app)
    add_safety_headers(web_app)
    return web_app
