"""The administrator's page of dashboard logins (``/admin/users``: role, unit, last login, disabled; a
login disabled or enabled with a button) and the revocation of an invite (``POST /admin/invite/revoke``,
from the invites' table on ``/admin``). Scoped to the administrator's unit, like everything else."""

from __future__ import annotations

from aiohttp import web

from bot.web.guard import Signed, page
from bot.web.html import Html, esc, hidden_csrf, table, tag
from models.accounts.web_users import list_web_users, revoke_invite, set_disabled
from models.clock import utcnow
from texts.catalog import t
from texts.fmt import fmt_datetime as fmt_dt


def _toggle(ctx: Signed, username: str, disabled: bool) -> Html:
    action = "enable" if disabled else "disable"
    return Html(f'<form method="post" action="/admin/users/{esc(username)}/{action}" class="inline">'
                f'{hidden_csrf(ctx.csrf)}<button type="submit" name="{action}">{esc(t(f"web.users.{action}"))}'
                "</button></form>")


async def _render(ctx: Signed, message: Html | None = None, status: int = 200) -> web.Response:
    async with ctx.sessions() as db:
        users = await list_web_users(db, ctx.unit_id)
    tz = ctx.config.tz
    rows = ([tag("span", u.username, class_="username"), t(f"web.admin.role_{u.role}"),
             f"{u.unit_name} ({u.unit_code})",
             fmt_dt(u.last_login_at, tz) if u.last_login_at else t("web.users.never"),
             t("web.users.disabled") if u.disabled else t("web.users.active"),
             "" if u.username == ctx.user.username else _toggle(ctx, u.username, u.disabled)] for u in users)
    listing = table([t("web.users.username"), t("web.users.role"), t("web.users.unit"), t("web.users.last_login"),
                     t("web.users.state"), ""], rows, class_="grid users")
    body = Html(f"<p>{esc(t('web.users.intro'))}</p>{message or ''}{listing}")
    return ctx.render(t("web.users.title"), body, status=status)


@page(admin=True)
async def users_page(request: web.Request, ctx: Signed) -> web.StreamResponse:
    return await _render(ctx)


@page(admin=True)
async def users_toggle(request: web.Request, ctx: Signed) -> web.StreamResponse:
    username, action = request.match_info["username"][:64], request.match_info["action"]
    if action not in ("disable", "enable"):
        return ctx.not_found()
    if username == ctx.user.username:
        return await _render(ctx, tag("p", t("web.users.not_yourself"), class_="error"), status=400)
    async with ctx.sessions() as db, db.begin():
        in_scope = {u.username for u in await list_web_users(db, ctx.unit_id)}
        done = username in in_scope and await set_disabled(db, username, action == "disable")
    if not done:
        return await _render(ctx, tag("p", t("web.users.not_found", username=username), class_="error"), status=404)
    text = t(f"web.users.done_{action}d", username=username)
    return await _render(ctx, tag("p", text, class_="ok", id="user-changed"))


@page(admin=True)
async def revoke_submit(request: web.Request, ctx: Signed) -> web.StreamResponse:
    from bot.web.admin import render_admin

    code = str((await request.post()).get("code", "")).strip()[:32]
    async with ctx.sessions() as db, db.begin():
        done = await revoke_invite(db, code, utcnow(), ctx.unit_id)
    if isinstance(done, str):
        return await render_admin(ctx, tag("p", t(f"web.admin.revoke_refused_{done}", code=code), class_="error"),
                                  status=404 if done == "unknown" else 400)
    invite, unit = done
    return await render_admin(ctx, tag("p", t("web.admin.revoked", code=invite.code, unit=unit.full_name), class_="ok",
                                       id="invite-revoked"))
