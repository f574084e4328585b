"""Log in and out: scrypt-checked passwords, failures throttled per client address (never a lockout
of the account), a fresh session nonce, and a logout that ends every copy of the session."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiohttp import web

from bot.config import WebConfig
from bot.web.guard import Ctx, page
from bot.web.html import Html, esc, hidden_csrf, tag
from bot.web.security import Session
from handlers.clean import clean_name
from models.accounts.access import end_web_sessions, web_user_for_login
from models.accounts.passwords import DUMMY_HASH, verify_password
from models.accounts.throttle import Limit, record_failure, wait_left
from models.clock import utcnow
from texts.catalog import t


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


def login_limit(cfg: WebConfig) -> Limit:
    """Failed logins per client address (kept in the database: every worker counts them)."""
    return Limit("login", cfg.login_max_failures, timedelta(minutes=cfg.login_lockout_minutes))


@page(login=False)
async def login_submit(request: web.Request, ctx: Ctx) -> web.StreamResponse:
    """Every failure — unknown name, wrong password, too many tries from this address — gets the same
    message and status, after the same work (one scrypt check, one counter update). No account is
    ever locked: a throttled address waits, the staffer at another desk does not."""
    form = await request.post()
    username = (clean_name(str(form.get("username", ""))) or "")[:64]
    password = str(form.get("password", ""))[:256]
    address = request.remote or "unknown"
    limit, now = login_limit(ctx.config.web), utcnow()
    async with ctx.sessions() as db, db.begin():
        throttled = await wait_left(db, limit, address, now) is not None
        user = None if throttled else await web_user_for_login(db, username)
        stored = user.password_hash if user is not None else DUMMY_HASH
        good = await asyncio.to_thread(verify_password, password, stored)
        if user is None or not good:
            await record_failure(db, limit, address, now)
            return _form(ctx, username, t("web.login.refused", minutes=ctx.config.web.login_lockout_minutes),
                         status=401)
        ctx.session = Session.fresh(user.id, user.session_epoch)  # a new nonce: no session fixation
    raise web.HTTPSeeOther("/")


@page(login=False)
async def logout(request: web.Request, ctx: Ctx) -> web.StreamResponse:
    """End this session and every copy of its cookie (the login's session epoch moves on)."""
    if ctx.user is not None and ctx.user.id is not None:
        async with ctx.sessions() as db, db.begin():
            await end_web_sessions(db, ctx.user.id)
    ctx.session = Session.fresh()
    raise web.HTTPSeeOther("/login")
