"""The giao ban pages for commune staff: the meetings of their communes, scheduling one, a recurrence.

``/giaoban``, ``POST /giaoban/schedule`` (→ the meeting's page), ``POST /giaoban/recurrence``. Staff
see and schedule only the communes within their unit.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from aiohttp import web

from bot.web.guard import Signed, page
from bot.web.html import Html, esc, hidden_csrf, join, table, tag
from bot.web.sending import when_note
from models.clock import utcnow
from models.giaoban.changes import replace_schedule, stop_schedule
from models.giaoban.meetings import (
    active_schedules,
    communes_within,
    meetings_of,
    schedule_meeting,
)
from models.giaoban.rules import occurrences, parse_hhmm
from models.giaoban.tables import GiaobanSchedule
from models.refusal import Refused
from models.units.tables import Unit
from reports.giaoban_text import renderer
from texts.catalog import t
from texts.fmt import fmt_time_date

KINDS = ("weekly", "monthly_day", "monthly_nth")


def _commune_field(communes: list[Unit]) -> Html:
    if len(communes) == 1:
        return Html(f'<input type="hidden" name="commune" value="{esc(communes[0].code)}">')
    options = join(tag("option", c.full_name or c.name, value=c.code) for c in communes)
    return Html(f'<label>{esc(t("gb.web.commune"))}<select name="commune">{options}</select></label>')


def date_field(name: str, value: str, label_key: str = "gb.web.date", required: bool = True) -> Html:
    """A date typed and shown as 15/12/2026 (a browser's date picker shows the browser's own format)."""
    return Html(f'<label>{esc(t(label_key))} <span class="hint">({esc(t("gb.web.date_hint"))})</span>'
                f'<input name="{name}" value="{esc(value)}" placeholder="15/12/2026" inputmode="numeric"'
                f' pattern="\\s*\\d{{1,2}}/\\d{{1,2}}/\\d{{4}}\\s*" maxlength="10" autocomplete="off"'
                f'{" required" if required else ""}></label>')


def time_field(name: str, value: str) -> Html:
    """A time typed and shown as 08:00 (24 hours)."""
    return Html(f'<label>{esc(t("gb.web.time"))} <span class="hint">({esc(t("gb.web.time_hint"))})</span>'
                f'<input name="{name}" value="{esc(value)}" placeholder="08:00" inputmode="numeric" maxlength="5"'
                f' pattern="\\s*\\d{{1,2}}[:h.]?\\d{{0,2}}\\s*" autocomplete="off" required></label>')


def parse_day(text: str) -> date | None:
    """``15/12/2026`` (or ``15-12-2026``, ``2026-12-15``) → a date; None when it is not one."""
    raw = text.strip()
    for fmt in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    return None


def _forms(ctx: Signed, communes: list[Unit]) -> Html:
    csrf = hidden_csrf(ctx.csrf)
    single = Html(f"""<section class="card"><h2>{esc(t("gb.web.schedule_title"))}</h2>
<form method="post" action="/giaoban/schedule" id="schedule-form">{csrf}{_commune_field(communes)}
{date_field("date", "")}{time_field("time", "08:00")}
<label>{esc(t("gb.web.place"))}<input name="place" maxlength="200"></label>
{when_note(ctx, "invites")}
<button type="submit">{esc(t("gb.web.schedule"))}</button></form></section>""")
    kinds = join(tag("option", t(f"gb.web.kind_{k}"), value=k) for k in KINDS)
    days = join(tag("option", t(f"gb.web.weekday_{d}"), value=str(d)) for d in range(7))
    nths = join(tag("option", str(n) if n < 5 else t("gb.web.nth_last"), value=str(n)) for n in range(1, 6))
    recurring = Html(f"""<section class="card"><h2>{esc(t("gb.web.recurrence_title"))}</h2>
<form method="post" action="/giaoban/recurrence" id="recurrence-form">{csrf}{_commune_field(communes)}
<label>{esc(t("gb.web.kind"))}<select name="kind" id="kind">{kinds}</select></label>
<label class="for-weekly for-monthly_nth">{esc(t("gb.web.weekday"))}<select name="weekday">{days}</select></label>
<label class="for-monthly_day">{esc(t("gb.web.day"))}<input type="number" name="day" min="1" max="31" value="1"
 inputmode="numeric"></label>
<label class="for-monthly_nth">{esc(t("gb.web.nth"))}<select name="nth">{nths}</select></label>
{time_field("time", "08:00")}
<label>{esc(t("gb.web.place"))}<input name="place" maxlength="200"></label>
<button type="submit">{esc(t("gb.web.save_recurrence"))}</button></form></section>""")
    return Html(single + recurring)


def _recurrence(ctx: Signed, schedule: GiaobanSchedule, commune: Unit) -> Html:
    """One commune's recurring meeting, when its next one is, and a button that stops it."""
    tz = ctx.config.tz
    hour, minute = (int(x) for x in schedule.at.split(":"))
    upcoming = occurrences(schedule.kind, ctx.today, ctx.today + timedelta(days=62), weekday=schedule.weekday,
                           day=schedule.day, nth=schedule.nth)
    starts = [datetime.combine(d, time(hour, minute), tz) for d in upcoming]
    nxt = next((s for s in starts if s > utcnow()), None)
    note = t("gb.web.when_recurrence", next=fmt_time_date(nxt, tz), days=ctx.config.giaoban.invite_days_before) \
        if nxt else ""
    stop = Html(f'<form method="post" action="/giaoban/recurrence/{schedule.id}/stop" class="inline-form">'
                f'{hidden_csrf(ctx.csrf)}<button type="submit" class="secondary">{esc(t("gb.web.stop_recurrence"))}'
                "</button></form>")
    return Html(f'<div class="recurrence"><p><strong>{esc(commune.full_name)}</strong>: {esc(describe(schedule))}'
                f'<br><span class="hint">{esc(note)}</span></p>{stop}</div>')


def describe(schedule: GiaobanSchedule) -> str:
    """``Hằng tháng, vào thứ … của tuần thứ …: Hai, 1 — 08:00, Hội trường``."""
    parts = [t("gb.web.weekday_" + str(schedule.weekday)) if schedule.weekday is not None else "",
             str(schedule.day or "") if schedule.kind == "monthly_day" else "",
             (str(schedule.nth) if (schedule.nth or 0) < 5 else t("gb.web.nth_last")) if schedule.nth else ""]
    what = ", ".join(p for p in parts if p)
    return f"{t('gb.web.kind_' + schedule.kind)}: {what} — {schedule.at}" + (f", {schedule.place}" if schedule.place
                                                                             else "")


async def _render(ctx: Signed, message: Html | None = None, status: int = 200) -> web.Response:
    tz = ctx.config.tz
    async with ctx.sessions() as db:
        communes = await communes_within(db, ctx.unit)
        ids = [c.id for c in communes if c.id is not None]
        views = await meetings_of(db, ids)
        schedules = await active_schedules(db, ids)
    if not communes:
        return ctx.not_found()
    rows = ([v.commune.full_name, fmt_time_date(v.meeting.starts_at, tz)
             + (" " + t("gb.web.cancelled_tag") if v.meeting.cancelled else ""), v.meeting.place,
             tag("a", t("gb.web.open"), href=f"/giaoban/m/{v.meeting.id}")] for v in views)
    listing = table([t("gb.web.col_commune"), t("gb.web.col_when"), t("gb.web.col_place"), ""], rows,
                    class_="grid meetings") if views else tag("p", t("gb.web.none"))
    current = Html("") if not schedules else Html(
        f'<section class="card" id="recurrences"><h2>{esc(t("gb.web.current_recurrence"))}</h2>'
        + join(_recurrence(ctx, s, u) for s, u in schedules)
        + tag("p", t("gb.web.edit_recurrence"), class_="hint") + "</section>")
    body = Html('<link rel="stylesheet" href="/static/giaoban.css">' + (message or "") + current
                + _forms(ctx, communes) + Html(f"<h2>{esc(t('gb.web.meetings'))}</h2>") + listing)
    return ctx.render(t("gb.web.title"), body, status=status)


@page()
async def giaoban_page(request: web.Request, ctx: Signed) -> web.StreamResponse:
    return await _render(ctx)


async def _commune(ctx: Signed, code: str) -> Unit | None:
    async with ctx.sessions() as db:
        return next((c for c in await communes_within(db, ctx.unit) if c.code == code), None)


def _error(what: str) -> Html:
    return tag("p", t("gb.web.bad_input", what=what), class_="error")


@page()
async def schedule_submit(request: web.Request, ctx: Signed) -> web.StreamResponse:
    form = await request.post()
    commune = await _commune(ctx, str(form.get("commune", "")))
    at = parse_hhmm(str(form.get("time", "")))
    day = parse_day(str(form.get("date", "")))
    if commune is None or at is None or day is None:
        return await _render(ctx, _error(t("gb.web.date")), status=400)
    starts = datetime.combine(day, at, ctx.config.tz)
    try:
        async with ctx.sessions() as db, db.begin():
            meeting = await schedule_meeting(db, commune, starts, str(form.get("place", "")).strip(), utcnow())
    except Refused as err:
        return await _render(ctx, tag("p", t(f"gb.refused.{err.reason}"), class_="error"), status=400)
    raise web.HTTPSeeOther(f"/giaoban/m/{meeting.id}")


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, str) and value.strip().isdigit() else None


@page()
async def recurrence_submit(request: web.Request, ctx: Signed) -> web.StreamResponse:
    form = await request.post()
    commune = await _commune(ctx, str(form.get("commune", "")))
    at = parse_hhmm(str(form.get("time", "")))
    kind = str(form.get("kind", ""))
    if commune is None or at is None or kind not in KINDS:
        return await _render(ctx, _error(t("gb.web.kind")), status=400)
    weekday, day, nth = _int(form.get("weekday")), _int(form.get("day")), _int(form.get("nth"))
    try:
        async with ctx.sessions() as db, db.begin():
            await replace_schedule(db, commune, kind, at.strftime("%H:%M"), str(form.get("place", "")).strip(),
                                   by=_by(ctx), channel="web", now=utcnow(), render=renderer(ctx.config.tz),
                                   weekday=None if kind == "monthly_day" else weekday,
                                   day=day if kind == "monthly_day" else None,
                                   nth=nth if kind == "monthly_nth" else None)
    except Refused as err:
        return await _render(ctx, tag("p", t(f"gb.refused.{err.reason}"), class_="error"), status=400)
    done = tag("p", t("gb.web.recurrence_saved", commune=commune.full_name), class_="ok", id="recurrence-saved")
    return await _render(ctx, done)


def _by(ctx: Signed) -> str:
    return ctx.user.username


@page()
async def recurrence_stop(request: web.Request, ctx: Signed) -> web.StreamResponse:
    """Stop a commune's recurring schedule (its meetings not begun are cancelled, the villages told)."""
    raw = request.match_info["id"]
    async with ctx.sessions() as db, db.begin():
        communes = {c.id: c for c in await communes_within(db, ctx.unit)}
        found = [(s, u) for s, u in await active_schedules(db, [i for i in communes if i is not None])
                 if str(s.id) == raw]
        if not found:
            return ctx.not_found()
        schedule, commune = found[0]
        assert schedule.id is not None
        n = await stop_schedule(db, schedule.id, by=_by(ctx), channel="web", now=utcnow(),
                                render=renderer(ctx.config.tz))
    done = tag("p", t("gb.web.stopped_done", commune=commune.full_name, n=n), class_="ok", id="recurrence-stopped")
    return await _render(ctx, Html(done + when_note(ctx, "notices", swept=False)) if n else done)
