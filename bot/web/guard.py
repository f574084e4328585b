"""What every dashboard handler gets: the session, the logged-in user, the CSRF check, scope.

``@page()`` wraps a handler ``async def h(request, ctx) -> web.StreamResponse``: it reads the signed
cookie, refuses a POST without the right CSRF token (403), sends an anonymous visitor to the login
page, refuses a non-admin on admin pages (403), and sets the cookie and safety headers on the way out.
A page behind the login (``@page()``, ``@page(admin=True)``) gets a :class:`Signed` context, whose user
and scope unit are known; only ``@page(login=False)`` handlers see a :class:`Ctx` that may have neither.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, overload

from aiohttp import web

from bot.config import Config
from bot.web import keys
from bot.web.client import forwarded_https, networks
from bot.web.html import Html, layout, tag
from bot.web.security import Session, csrf_ok, csrf_token, dump_session, load_session
from models.accounts.access import web_user_with_unit
from models.accounts.tables import WebUser
from models.clock import local_date, utcnow
from models.db import DbSession, SessionFactory
from models.reminders.rules import Rules
from models.units.tables import Unit
from models.units.tree import is_within
from texts.catalog import t

COOKIE = "vrb_session"

Handler = Callable[[web.Request, "Ctx"], Awaitable[web.StreamResponse]]
SignedHandler = Callable[[web.Request, "Signed"], Awaitable[web.StreamResponse]]
_Either = Callable[[web.Request, Any], Awaitable[web.StreamResponse]]  # one of the two, as ``page`` chose


@dataclass(slots=True)
class Ctx:
    request: web.Request
    session: Session
    user: WebUser | None = None
    unit: Unit | None = None  # the user's scope

    @property
    def config(self) -> Config:
        return self.request.app[keys.CONFIG]

    @property
    def sessions(self) -> SessionFactory:
        return self.request.app[keys.SESSIONS]

    @property
    def secret(self) -> str:
        return self.config.web.secret_key.get_secret_value()

    @property
    def csrf(self) -> str:
        return csrf_token(self.session, self.secret)

    @property
    def rules(self) -> Rules:
        """The reminder rules the bot's /chamtre and digests use, so the pages list the same villages."""
        return self.request.app[keys.DIALOG].settings.rules

    @property
    def today(self) -> date:
        return local_date(utcnow(), self.config.tz)

    def render(self, title: str, body: Html, status: int = 200) -> web.Response:
        return layout(title, body, csrf=self.csrf, nav=self.nav() if self.user else None, status=status)

    def nav(self) -> Html:
        assert self.user is not None and self.unit is not None
        links = [("/", "progress"), ("/late", "late"), ("/digest", "digest"), ("/giaoban", "giaoban"),
                 ("/downloads", "downloads")]
        if self.user.role == "admin":
            links.append(("/admin", "admin"))
        if self.config.web.chat_enabled:
            links.append(("/chat", "chat"))
        items = "".join(tag("a", t(f"web.nav.{k}"), href=href) for href, k in links)
        who = tag("span", t("web.nav.signed_in_as", username=self.user.username, unit=self.unit.full_name),
                  class_="who")
        logout = (f'<form method="post" action="/logout" class="inline"><input type="hidden" name="csrf" '
                  f'value="{self.csrf}"><button type="submit" class="link">{t("web.nav.logout")}</button></form>')
        return Html(f'<nav>{items}</nav><div class="user">{who}{logout}</div>')

    async def within(self, db: DbSession, unit: Unit | None) -> bool:
        """Whether ``unit`` lies under the user's unit (or is it)."""
        if unit is None or self.unit is None or unit.id is None or self.unit.id is None:
            return False
        return await is_within(db, unit.id, self.unit.id)

    def not_found(self) -> web.Response:
        home = tag("a", t("web.error.back_home"), href="/")
        body = Html(f'<p>{tag("span", t("web.error.not_found"))}</p><p>{home}</p>')
        return self.render(t("web.error.not_found"), body, status=404)


@dataclass(slots=True)
class Signed(Ctx):
    """A signed-in user's request: the user, the scope unit and its id are known."""

    user: WebUser
    unit: Unit
    unit_id: int


def request_session(request: web.Request, secret: str) -> Session:
    return load_session(request.cookies.get(COOKIE), secret) or Session.fresh()


def finish(response: web.StreamResponse, session: Session, request: web.Request, secret: str) -> None:
    """Set the cookie when the session changed; pages are not cached."""
    if session.dirty:
        web_cfg = request.app[keys.CONFIG].web
        https = (web_cfg.public_url or "").startswith("https://") or forwarded_https(
            request, networks(web_cfg.trusted_proxies))
        response.set_cookie(COOKIE, dump_session(session, secret), httponly=True, samesite="Lax", path="/",
                            secure=https, max_age=12 * 3600)
    response.headers.setdefault("Cache-Control", "no-store")  # (the safety headers: bot.web.headers, on all)


async def check_csrf(request: web.Request, session: Session, secret: str) -> bool:
    token = request.headers.get("X-CSRF-Token")
    if token is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        field = (await request.post()).get("csrf")
        token = field if isinstance(field, str) else None  # a file part is no token (csrf_ok refuses it too)
    return csrf_ok(session, secret, token)


Wrapped = Callable[[web.Request], Awaitable[web.StreamResponse]]


@overload
def page(*, login: Literal[True] = True, admin: bool = False) -> Callable[[SignedHandler], Wrapped]: ...


@overload
def page(*, login: Literal[False], admin: Literal[False] = False) -> Callable[[Handler], Wrapped]: ...


def page(*, login: bool = True, admin: bool = False) -> Callable[[_Either], Wrapped]:
    def wrap(handler: _Either) -> Wrapped:
        @functools.wraps(handler)
        async def run(request: web.Request) -> web.StreamResponse:
            secret = request.app[keys.CONFIG].web.secret_key.get_secret_value()
            held = [Ctx(request=request, session=request_session(request, secret))]  # the context handed on
            try:
                response = await _guarded(handler, held, login=login, admin=admin)
            except web.HTTPException as exc:  # redirects carry the cookie too
                finish(exc, held[-1].session, request, secret)
                raise
            finish(response, held[-1].session, request, secret)
            return response

        return run

    return wrap


async def _guarded(handler: _Either, held: list[Ctx], *, login: bool, admin: bool) -> web.StreamResponse:
    ctx = held[0]
    request = ctx.request
    if request.method == "POST" and not await check_csrf(request, ctx.session, ctx.secret):
        body = Html(f'<p>{tag("span", t("web.error.csrf"))}</p><p>{tag("a", t("web.error.back_home"), href="/")}</p>')
        return ctx.render(t("web.error.csrf"), body, status=403)
    if ctx.session.user_id is not None:
        async with ctx.sessions() as db:
            ctx.user, ctx.unit = await web_user_with_unit(db, ctx.session.user_id)
        if (ctx.user is None or ctx.unit is None  # the user was deleted: start over
                or ctx.user.session_epoch != ctx.session.epoch  # logged out, or a new password, since
                or ctx.user.disabled):
            ctx.session, ctx.user, ctx.unit = Session.fresh(), None, None
    if not login:
        return await handler(request, ctx)
    if ctx.user is None or ctx.unit is None or ctx.unit.id is None:
        raise web.HTTPSeeOther("/login")
    if admin and ctx.user.role != "admin":
        body = Html(f'<p>{tag("span", t("web.error.forbidden"))}</p>')
        return ctx.render(t("web.error.forbidden"), body, status=403)
    signed = Signed(request=request, session=ctx.session, user=ctx.user, unit=ctx.unit, unit_id=ctx.unit.id)
    held.append(signed)
    return await handler(request, signed)
