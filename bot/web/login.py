"""Log in and out: scrypt-checked passwords, a fresh session nonce, and a logout that ends every copy of
the session. Failures are throttled two ways, neither a lockout of the account:
- per client address (behind a proxy: the address it forwarded for, :mod:`bot.web.client`): after
  ``login_max_failures`` that address waits ``login_lockout_minutes``;
- per account, from any address: after ``login_slow_after`` failures each further try must wait, 1 s,
  2 s, 4 s … up to ``login_slow_max_seconds`` after the last failure (a try too early is answered "wait"
  and checks nothing), so a hundred guesses from twenty addresses take hours.
A browser where this account logged in before carries a signed device cookie for it and skips both: the
clerk at her usual desk is never held up by somebody guessing her password, or by a colleague's typos
on the same address."""

from __future__ import annotations

import asyncio
import math
from datetime import timedelta

from aiohttp import web

from bot.config import WebConfig
from bot.web.client import client_address, networks
from bot.web.guard import Ctx, page
from bot.web.html import Html, esc, hidden_csrf, tag
from bot.web.security import DEVICE_COOKIE, DEVICE_MAX_AGE, Session, device_cookie, device_ok
from handlers.clean import clean_name
from models.accounts.access import end_web_sessions, web_user_for_login
from models.accounts.passwords import DUMMY_HASH, verify_password
from models.accounts.throttle import Limit, forget, held_off_until, hold_off, record_failure, wait_left
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


def account_limit(cfg: WebConfig) -> Limit:
    """Failed logins per account name, from any address (the window: long enough to hold the slow-down)."""
    return Limit("login_user", 10**6, timedelta(hours=1))


ACCOUNT_WAIT = "login_wait"  # throttle scope: when an account may be tried again


def slow_down(cfg: WebConfig, failures: int) -> timedelta | None:
    """How long an account waits after its ``failures``-th failure (None: not yet)."""
    if failures < cfg.login_slow_after:
        return None
    return timedelta(seconds=min(2.0 ** (failures - cfg.login_slow_after), cfg.login_slow_max_seconds))


@page(login=False)
async def login_submit(request: web.Request, ctx: Ctx) -> web.StreamResponse:
    """Every failure — unknown name, wrong password, too many tries from this address — gets the same
    message and status, after the same work (one scrypt check, the counters updated); a try on an
    account that must still wait is told so (the same for every name, known or not)."""
    form = await request.post()
    username = (clean_name(str(form.get("username", ""))) or "")[:64]
    password = str(form.get("password", ""))[:256]
    cfg = ctx.config.web
    address = client_address(request, networks(cfg.trusted_proxies))
    account_key = username.casefold()
    known = device_ok(request.cookies.get(DEVICE_COOKIE), account_key, ctx.secret)
    limit, now = login_limit(cfg), utcnow()
    async with ctx.sessions() as db, db.begin():
        if not known:
            until = await held_off_until(db, ACCOUNT_WAIT, account_key)
            if until is not None and until > now:
                seconds = max(1, math.ceil((until - now).total_seconds()))
                return _form(ctx, username, t("web.login.slow", seconds=seconds), status=429)
        throttled = not known and await wait_left(db, limit, address, now) is not None
        user = None if throttled else await web_user_for_login(db, username)
        stored = user.password_hash if user is not None else DUMMY_HASH
        good = await asyncio.to_thread(verify_password, password, stored)
        if user is None or not good or user.disabled:  # a disabled login gets the same answer as a wrong one
            await record_failure(db, limit, address, now)
            wait = slow_down(cfg, await record_failure(db, account_limit(cfg), account_key, now))
            if wait is not None:
                await hold_off(db, ACCOUNT_WAIT, account_key, now + wait)
            return _form(ctx, username, t("web.login.refused", minutes=cfg.login_lockout_minutes), status=401)
        await forget(db, account_limit(cfg), account_key)
        await hold_off(db, ACCOUNT_WAIT, account_key, now)
        user.last_login_at = now
        ctx.session = Session.fresh(user.id, user.session_epoch)  # a new nonce: no session fixation
    redirect = web.HTTPSeeOther("/")
    redirect.set_cookie(DEVICE_COOKIE, device_cookie(account_key, ctx.secret), httponly=True, samesite="Lax",
                        path="/login", max_age=DEVICE_MAX_AGE, secure=(cfg.public_url or "").startswith("https://"))
    raise redirect


@page(login=False)
async def logout(request: web.Request, ctx: Ctx) -> web.StreamResponse:
    """End this session and every copy of its cookie (the login's session epoch moves on)."""
    if ctx.user is not None and ctx.user.id is not None:
        async with ctx.sessions() as db, db.begin():
            await end_web_sessions(db, ctx.user.id)
    ctx.session = Session.fresh()
    raise web.HTTPSeeOther("/login")
