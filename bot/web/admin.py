"""The administrator's page: one-time invite codes (created, listed with their state, revoked), and the
outbox (sent, waiting, failed). The logins are on ``/admin/users`` (bot/web/admin_accounts.py)."""

from __future__ import annotations

from aiohttp import web

from bot.web.guard import Signed, page
from bot.web.html import Html, esc, hidden_csrf, join, table, tag
from models.accounts.people import InviteError, create_invite
from models.accounts.web_users import invite_state
from models.clock import utcnow
from models.progress.dashboard import outbox_counts, outbox_latest, recent_invites, unit_by_code
from texts.catalog import t
from texts.fmt import fmt_datetime as fmt_dt

ROLES = ("village_head", "village_secretary", "staff", "admin")


async def _render(ctx: Signed, message: Html | None = None, code: str = "", role: str = "village_head",
                  status: int = 200) -> web.Response:
    tz = ctx.config.tz
    async with ctx.sessions() as db:
        invites = await recent_invites(db, ctx.unit)
        counts = await outbox_counts(db, ctx.unit)
        latest = await outbox_latest(db, ctx.unit)
    options = join(tag("option", t(f"web.admin.role_{r}"), value=r, selected=r == role) for r in ROLES)
    form = Html(f"""<section class="card"><h2>{esc(t("web.admin.invite_title"))}</h2>
<p>{esc(t("web.admin.invite_intro", days=ctx.config.bot.invite_valid_days))}</p>{message or ""}
<form method="post" action="/admin/invite">{hidden_csrf(ctx.csrf)}
<label>{esc(t("web.admin.unit_code"))}<input name="unit" value="{esc(code)}" required></label>
<label>{esc(t("web.admin.role"))}<select name="role">{options}</select></label>
<button type="submit">{esc(t("web.admin.create"))}</button></form></section>""")
    now = utcnow()
    invite_rows = ([tag("code", i.code), t(f"web.admin.role_{i.role}"), u.full_name, fmt_dt(i.expires_at, tz),
                    fmt_dt(i.used_at, tz) if i.used_at else t("web.admin.unused"),
                    t(f"web.admin.state_{invite_state(i, now)}"),
                    _revoke(ctx, i.code) if invite_state(i, now) == "open" else ""] for i, u in invites)
    invites_html = table([t("web.admin.code"), t("web.admin.role"), t("web.admin.unit"), t("web.admin.expires"),
                          t("web.admin.used"), t("web.admin.state"), ""], invite_rows, class_="grid invites")
    tiles = join(Html(f'<div class="tile t-{k}"><strong id="outbox-{k}">{n}</strong>'
                      f"<span>{esc(t(f'web.admin.outbox_{k}'))}</span></div>") for k, n in counts.items())
    outbox_rows = ([fmt_dt(m.created_at, tz), m.kind, f"{a.channel}:{a.display_name or a.external_id}",
                    t(f"web.outbox_status.{m.status}") if m.status in _STATUSES else m.status, m.attempts,
                    m.text[:160], m.last_error or ""] for m, a in latest)
    outbox_html = table([t("web.village.at"), t("web.admin.outbox_kind"), t("web.admin.outbox_to"),
                         t("web.admin.outbox_status"), t("web.admin.outbox_attempts"), t("web.admin.outbox_text"),
                         t("web.admin.outbox_error")], outbox_rows, class_="grid outbox") if latest else \
        tag("p", t("web.admin.outbox_none"))
    users = Html(f'<p><a href="/admin/users">{esc(t("web.admin.users_link"))}</a></p>')
    body = Html(users + form + Html(f"<h2>{esc(t('web.admin.recent_invites'))}</h2>") + invites_html
                + Html(f"<h2>{esc(t('web.admin.outbox_title'))}</h2><div class=\"tiles\">{tiles}</div>")
                + Html(f"<h3>{esc(t('web.admin.outbox_latest'))}</h3>") + outbox_html)
    return ctx.render(t("web.admin.title"), body, status=status)


def _revoke(ctx: Signed, code: str) -> Html:
    return Html(f'<form method="post" action="/admin/invite/revoke" class="inline">{hidden_csrf(ctx.csrf)}'
                f'<input type="hidden" name="code" value="{esc(code)}"><button type="submit">'
                f'{esc(t("web.admin.revoke"))}</button></form>')


render_admin = _render  # the page with a message (bot/web/admin_accounts.py answers a revocation with it)

_STATUSES = ("pending", "sending", "sent", "failed", "dead", "skipped")


@page(admin=True)
async def admin_page(request: web.Request, ctx: Signed) -> web.StreamResponse:
    return await _render(ctx)


@page(admin=True)
async def create_invite_submit(request: web.Request, ctx: Signed) -> web.StreamResponse:
    form = await request.post()
    code = str(form.get("unit", "")).strip()[:32]
    role = str(form.get("role", ""))
    if role not in ROLES:
        return await _render(ctx, tag("p", t("web.admin.bad_role"), class_="error"), code, status=400)
    cfg = ctx.config
    error: str | None = None
    text, status = "", 400  # each path below sets the ones it uses
    async with ctx.sessions() as db, db.begin():  # no second session inside: SQLite would wait
        unit = await unit_by_code(db, cfg.bot.period, code)
        if unit is None or not await ctx.within(db, unit):
            error, status = t("web.admin.unit_not_found", code=code), 404
        else:
            try:
                invite = await create_invite(db, unit, role, utcnow(), cfg.bot.invite_valid_days)
            except InviteError as exc:
                error, status = t(f"web.admin.{exc.reason}"), 400
            else:
                text = t("web.admin.created", role=t(f"web.admin.role_{role}"), unit=unit.full_name,
                         code=invite.code)
    if error is not None:
        return await _render(ctx, tag("p", error, class_="error"), code, role, status=status)
    return await _render(ctx, tag("p", text, class_="ok", id="invite-created"), code, role)
