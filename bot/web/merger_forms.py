"""Commune staff record from the dashboard what only they decide: a head's full membership,
admission or planned admission (on the village page), the approval (chuẩn y) of the branch secretary,
and the commune's congress deadline (on the commune page). Each write goes through models/ functions
(an event or a revision with audit, channel ``dashboard``), then back to the page (303)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from aiohttp import web

from bot.web.guard import Signed, page
from bot.web.html import Html, esc, hidden_csrf, join, tag
from models.clock import utcnow
from models.db import DbSession
from models.election.reports import Actor
from models.merger.records import approve_secretary, record_party_event, set_congress_plan
from models.progress.dashboard import unit_by_code
from models.refusal import Refused
from models.units.tables import Unit
from texts.catalog import t

ACTOR = Actor(account_id=None, channel="dashboard")
KINDS = ("full_member", "admitted", "admission_planned")


def village_forms(ctx: Signed, code: str) -> Html:
    """The two staff forms of a village page."""
    options = join(tag("option", t(f"merger.party_choice.{k}"), value=k) for k in KINDS)
    csrf = hidden_csrf(ctx.csrf)
    return Html(f"""<section class="card" id="staff-forms"><h2>{esc(t("web.merger.staff_title"))}</h2>
<form method="post" action="/v/{esc(code)}/party">{csrf}
<label>{esc(t("web.merger.party"))}<select name="kind">{options}</select></label>
<label>{esc(t("web.merger.date"))}<input type="date" name="on" required></label>
<button type="submit">{esc(t("web.merger.save"))}</button></form>
<form method="post" action="/v/{esc(code)}/approve">{csrf}
<label>{esc(t("web.merger.approval_number"))}<input name="number" required maxlength="40"></label>
<label>{esc(t("web.merger.date"))}<input type="date" name="on" required></label>
<button type="submit">{esc(t("web.merger.approve"))}</button></form></section>""")


def plan_form(ctx: Signed, unit: Unit) -> Html:
    """The commune page's congress-deadline form (communes only)."""
    if unit.level != "commune":
        return Html("")
    return Html(f"""<section class="card" id="plan-form"><h2>{esc(t("web.merger.plan_title"))}</h2>
<form method="post" action="/u/{esc(unit.code)}/plan">{hidden_csrf(ctx.csrf)}
<label>{esc(t("web.merger.deadline"))}<input type="date" name="deadline" required></label>
<button type="submit">{esc(t("web.merger.save"))}</button></form></section>""")


def _date(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _refused(ctx: Signed, key: str) -> web.Response:
    body = Html(f'<p class="error" id="refused">{esc(t(key))}</p>')
    return ctx.render(t("web.merger.refused_title"), body, status=400)


async def _on_village(request: web.Request, ctx: Signed, refused: str,
                      action: Callable[[DbSession, int], Awaitable[object]]) -> web.StreamResponse:
    """Run ``action`` on the village of the URL (404 outside the reader's scope), in one transaction;
    a rule it breaks is shown as ``<refused>.<reason>``; done: back to the village page."""
    code = request.match_info["code"]
    async with ctx.sessions() as db, db.begin():
        village = await unit_by_code(db, ctx.config.bot.period, code)
        if village is None or village.id is None or village.level != "village" or not await ctx.within(db, village):
            return ctx.not_found()
        try:
            await action(db, village.id)
        except Refused as err:
            return _refused(ctx, f"{refused}.{err.reason}")
    raise web.HTTPSeeOther(f"/v/{code}")


@page()
async def party_submit(request: web.Request, ctx: Signed) -> web.StreamResponse:
    form = await request.post()
    kind, on = str(form.get("kind", "")), _date(form.get("on"))
    if kind not in KINDS or on is None:
        return _refused(ctx, "web.merger.bad_form")
    return await _on_village(request, ctx, "merger.party.refused",
                             lambda db, vid: record_party_event(db, vid, kind, on, ACTOR, utcnow(), ctx.today))


@page()
async def approve_submit(request: web.Request, ctx: Signed) -> web.StreamResponse:
    form = await request.post()
    number, on = str(form.get("number", "")), _date(form.get("on"))
    if on is None or not number.strip():
        return _refused(ctx, "web.merger.bad_form")
    return await _on_village(request, ctx, "web.merger.refused",
                             lambda db, vid: approve_secretary(db, vid, number, on, ACTOR, utcnow(), ctx.today))


@page()
async def plan_submit(request: web.Request, ctx: Signed) -> web.StreamResponse:
    deadline = _date((await request.post()).get("deadline"))
    if deadline is None:
        return _refused(ctx, "web.merger.bad_form")
    code = request.match_info["code"]
    async with ctx.sessions() as db, db.begin():
        unit = await unit_by_code(db, ctx.config.bot.period, code)
        if unit is None or unit.id is None or unit.level != "commune" or not await ctx.within(db, unit):
            return ctx.not_found()
        await set_congress_plan(db, unit.id, deadline, ACTOR, utcnow())
    raise web.HTTPSeeOther(f"/u/{code}")
