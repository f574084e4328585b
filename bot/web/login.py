"""Log in and out: scrypt-checked passwords, a lockout after repeated failures, a fresh session nonce."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from aiohttp import web

from bot.web.guard import Ctx, page
from bot.web.html import Html, esc, hidden_csrf, tag
from bot.web.security import Session
from models.accounts import web_user_for_login
from models.clock import utcnow
from models.passwords import DUMMY_HASH, verify_password
from texts.catalog import t


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # SQLite hands back naive UTC
        return value.replace(tzinfo=UTC)
    return value


def _form(ctx: Ctx, username: str = "", message: str | None = None, status: int = 200) -> web.Response:
    error = tag("p", message, class_="error", role="alert") if message else ""
    chat = tag("a", t("web.nav.chat"), href="/chat") if ctx.config.web.chat_enabled else ""
    body = Html(f"""<p><strong>{esc(t("web.site_title"))}</strong><br>{esc(t("web.login.intro"))}</p>{error}
<form method="post" action="/login" class="card login">{hidden_csrf(ctx.csrf)}
<label>{esc(t("web.login.username"))}<input name="username" value="{esc(username)}" autocomplete="username"
 autocapitalize="none" required></label>
<label>{esc(t("web.login.password"))}<input name="password" type="password" autocomplete="current-password"
 required></label>
<button type="submit">{esc(t("web.login.submit"))}</button></form><p>{chat}</p>""")
    return ctx.render(t("web.login.title"), body, status=status)


@page(login=False)
async def login_form(request: web.Request, ctx: Ctx) -> web.StreamResponse:
    if ctx.user is not None:
        raise web.HTTPSeeOther("/")
    return _form(ctx)


@page(login=False)
async def login_submit(request: web.Request, ctx: Ctx) -> web.StreamResponse:
    form = await request.post()
    username = str(form.get("username", "")).strip()[:64]
    password = str(form.get("password", ""))[:256]
    cfg = ctx.config.web
    now = utcnow()
    async with ctx.sessions() as db, db.begin():
        user = await web_user_for_login(db, username)
        if user is None:
            await asyncio.to_thread(verify_password, password, DUMMY_HASH)
            return _form(ctx, username, t("web.login.failed"), status=401)
        locked_until = _aware(user.locked_until)
        if locked_until is not None and locked_until > now:
            minutes = max(1, -(-int((locked_until - now).total_seconds()) // 60))
            return _form(ctx, username, t("web.login.locked", minutes=minutes), status=429)
        if not await asyncio.to_thread(verify_password, password, user.password_hash):
            user.failed_logins += 1
            if user.failed_logins >= cfg.login_max_failures:
                user.failed_logins = 0
                user.locked_until = now + timedelta(minutes=cfg.login_lockout_minutes)
                return _form(ctx, username, t("web.login.locked", minutes=cfg.login_lockout_minutes), status=429)
            left = cfg.login_max_failures - user.failed_logins
            return _form(ctx, username, t("web.login.failed_left", left=left), status=401)
        user.failed_logins, user.locked_until = 0, None
        ctx.session = Session.fresh(user.id)  # a new nonce: no session fixation
    raise web.HTTPSeeOther("/")


@page(login=False)
async def logout(request: web.Request, ctx: Ctx) -> web.StreamResponse:
    ctx.session = Session.fresh()
    raise web.HTTPSeeOther("/login")
