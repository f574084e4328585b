"""The project's aiohttp server: health check, webhooks, web chat and dashboard routes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy import text

if TYPE_CHECKING:
    from bot.app import App

APP_KEY: web.AppKey[App] = web.AppKey("bot_app", object)  # type: ignore[arg-type]


async def healthz(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    try:
        async with app.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # the point is to report it, whatever it is
        return web.json_response({"ok": False, "database": "unreachable", "error": type(exc).__name__},
                                 status=503)
    return web.json_response({"ok": True, "database": "ok"})


def make_web_app(app: App) -> web.Application:
    web_app = web.Application(client_max_size=2 * 1024 * 1024)
    web_app[APP_KEY] = app
    web_app.router.add_get("/healthz", healthz)
    try:
        from bot.web.routes import add_routes
    except ImportError:
        pass
    else:
        add_routes(web_app)
    return web_app
