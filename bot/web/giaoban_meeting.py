"""One giao ban meeting: the briefing pack (prints on A4), its XLSX, the villages' reports and attendance,
the conclusions and tasks with their acknowledgement and completion per village.

``/giaoban/m/{id}``, ``/giaoban/m/{id}/pack.xlsx``, ``POST /giaoban/m/{id}/conclusion``. A meeting of a
commune outside the user's unit is "not found".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from aiohttp import web

from bot.web.giaoban import date_field, parse_day, time_field
from bot.web.giaoban_doc import pack_document
from bot.web.guard import Signed, page
from bot.web.html import Html, attachment_headers, esc, hidden_csrf, join, table, tag
from bot.web.photos import photo_links
from bot.web.sending import when_note
from models.clock import utcnow
from models.db import DbSession
from models.giaoban.changes import cancel_meeting, move_meeting
from models.giaoban.delivery import invitation_delivery
from models.giaoban.meetings import MeetingView, get_meeting
from models.giaoban.pack import Pack, VillageLine, build_pack
from models.giaoban.rules import parse_hhmm
from models.giaoban.tables import GiaobanDirective
from models.giaoban.tasks import add_conclusion, conclusions_of, villages_of
from models.photos.store import photo_ids_by
from models.refusal import Refused
from models.units.tables import Unit
from reports.giaoban_text import renderer
from reports.giaoban_xlsx import pack_xlsx
from texts.catalog import t
from texts.fmt import fmt_date, fmt_time_date


async def _view(ctx: Signed, db: DbSession, request: web.Request) -> MeetingView | None:
    raw = request.match_info["id"]
    view = await get_meeting(db, int(raw)) if raw.isdigit() else None
    if view is None or not await ctx.within(db, view.commune):
        return None
    return view


async def _conclusions(ctx: Signed, db: DbSession, pack: Pack) -> Html:
    assert pack.view.meeting.id is not None
    tz = ctx.config.tz
    parts: list[Html] = []
    conclusions = await conclusions_of(db, pack.view.meeting.id)
    photos = await photo_ids_by(db, "task", [d.id for _c, ds in conclusions for d, _v in ds if d.id is not None])

    def done_cell(d: GiaobanDirective, v: Unit) -> Html:
        text = fmt_time_date(d.done_at, tz) + (f" — {d.done_note}" if d.done_note else "")
        ids = photos.get((d.id or 0, v.id or 0), [])
        return Html(esc(text) + (" " + photo_links(ids) if ids else ""))

    for i, (c, directives) in enumerate(conclusions, 1):
        acked = sum(d.acknowledged_at is not None for d, _ in directives)
        done = sum(d.done_at is not None for d, _ in directives)
        kind = t("gb.web.task_due", due=fmt_date(c.due_date)) if c.is_task else t("gb.web.conclusion_only")
        count = t("gb.web.ack_count", n=acked, total=len(directives))
        if c.is_task:
            count += ", " + t("gb.web.done_count", n=done, total=len(directives))
        rows = ([v.full_name, fmt_time_date(d.acknowledged_at, tz),
                 done_cell(d, v) if c.is_task else "—"]
                for d, v in directives)
        parts.append(Html(f'<section class="card conclusion" id="conclusion-{i}"><h3>{i}. {esc(c.text)}</h3>'
                          f'<p>{esc(kind)} · <span class="counts">{esc(count)}</span></p>'
                          + table([t("gb.web.col_village"), t("gb.web.col_ack"), t("gb.web.col_done")], rows,
                                  class_="grid acks") + "</section>"))
    return join(parts) if parts else tag("p", t("gb.web.no_conclusions"))


def _conclusion_form(ctx: Signed, pack: Pack) -> Html:
    if pack.view.meeting.starts_at > utcnow():  # conclusions come after the meeting has begun
        return tag("p", t("gb.refused.not_started"), class_="note no-print", id="conclusion-later")
    boxes = join(Html(f'<label class="check"><input type="checkbox" name="village" value="{esc(line.village.code)}">'
                      f"{esc(line.village.full_name)}</label>") for line in pack.lines)
    return Html(f"""<form method="post" action="/giaoban/m/{pack.view.meeting.id}/conclusion" id="conclusion-form"
class="card no-print">{hidden_csrf(ctx.csrf)}
<label>{esc(t("gb.web.conclusion_text"))}<textarea name="text" rows="3" required></textarea></label>
{date_field("due", "", "gb.web.is_task", required=False)}
<fieldset><legend>{esc(t("gb.web.for_villages"))}</legend>{boxes}</fieldset>
{when_note(ctx, "directives")}
<button type="submit">{esc(t("gb.web.add_conclusion"))}</button></form>""")


def _change_form(ctx: Signed, pack: Pack) -> Html:
    """New time or place, or cancel: the villages are told through the outbox (``models/giaoban/changes.py``)."""
    m, tz = pack.view.meeting, ctx.config.tz
    local = m.starts_at.astimezone(tz)
    csrf = hidden_csrf(ctx.csrf)
    return Html(f"""<section class="card no-print" id="change"><h2>{esc(t("gb.web.change_title"))}</h2>
<form method="post" action="/giaoban/m/{m.id}/change" id="change-form">{csrf}
{date_field("date", local.strftime("%d/%m/%Y"))}{time_field("time", local.strftime("%H:%M"))}
<label>{esc(t("gb.web.place"))}<input name="place" maxlength="200" value="{esc(m.place)}"></label>
{when_note(ctx, "notices", swept=False)}
<button type="submit">{esc(t("gb.web.save_change"))}</button></form>
<form method="post" action="/giaoban/m/{m.id}/cancel" id="cancel-form">{csrf}
<button type="submit" class="secondary">{esc(t("gb.web.cancel_meeting"))}</button></form></section>""")


def _read(line: VillageLine) -> str:
    return t("gb.web.read_answered") if line.attendance is not None or line.report is not None \
        else t("gb.web.read_unknown")


async def _delivery(ctx: Signed, db: DbSession, pack: Pack) -> Html:
    """Per village: the invitations queued, sent (when, which channel), read where it shows, failed."""
    m, tz = pack.view.meeting, ctx.config.tz
    assert m.id is not None
    found = await invitation_delivery(db, m.id)
    rows, none = [], 0
    for line in pack.lines:
        d = found.get(line.village.id or 0)
        if d is None:
            none += 1
        sent = "" if d is None or not d.sent else (
            f"{d.sent} · {fmt_time_date(d.last_sent, tz)} · " + ", ".join(t(f"web.audit.channel.{c}")
                                                                   for c in sorted(d.channels)))
        if d is None:
            rows.append([line.village.full_name, "—", "", _read(line), ""])
        else:
            rows.append([line.village.full_name, str(d.queued or ""), sent, _read(line),
                         "; ".join(d.errors) if d.failed else ""])
    totals = t("gb.web.delivery_totals", queued=sum(d.queued for d in found.values()),
               sent=sum(d.sent for d in found.values()), failed=sum(d.failed for d in found.values()), none=none)
    earliest = ctx.config.giaoban.invite_days_before
    note = when_note(ctx, "invites", m.starts_at - timedelta(days=earliest)) if m.starts_at > utcnow() else Html("")
    return Html(f'<section class="no-print" id="delivery"><h2>{esc(t("gb.web.delivery_title"))}</h2>{note}'
                f'<p class="summary">{esc(totals)}</p><p class="hint">{esc(t("gb.web.delivery_none"))}</p>'
                + table([t("gb.web.col_village"), t("gb.web.col_queued"), t("gb.web.col_sent"), t("gb.web.col_read"),
                         t("gb.web.col_failed")], rows, class_="grid delivery") + "</section>")


async def _render(ctx: Signed, request: web.Request, message: Html | None = None, status: int = 200) -> web.Response:
    async with ctx.sessions() as db:
        view = await _view(ctx, db, request)
        if view is None:
            return ctx.not_found()
        pack = await build_pack(db, view, ctx.rules, ctx.today)
        conclusions = await _conclusions(ctx, db, pack)
        delivery = await _delivery(ctx, db, pack) if not view.meeting.cancelled else Html("")
    tz = ctx.config.tz
    mid = view.meeting.id
    actions = Html(f'<p class="actions no-print"><a class="button" href="/giaoban/m/{mid}/print">'
                   f'{esc(t("gb.web.print"))}</a> <a class="button" href="/giaoban/m/{mid}/pack.xlsx">'
                   f'{esc(t("gb.web.xlsx"))}</a></p>')
    banner = tag("p", t("gb.web.cancelled_banner"), class_="error", id="cancelled") if view.meeting.cancelled else ""
    changeable = not view.meeting.cancelled and view.meeting.starts_at > utcnow()
    body = Html('<link rel="stylesheet" href="/static/giaoban.css">' + banner + (message or "") + actions
                + pack_document(pack, ctx.config.tz, ctx.today)
                + delivery + (_change_form(ctx, pack) if changeable else "")
                + Html(f"<h2 class=\"no-print\">{esc(t('gb.web.conclusions_title'))}</h2>")
                + _conclusion_form(ctx, pack) + Html(f'<div class="no-print">{conclusions}</div>'))
    title = t("gb.web.pack_title", commune=view.commune.full_name, when=fmt_time_date(view.meeting.starts_at, tz))
    return ctx.render(title, body, status=status)


@page()
async def meeting_page(request: web.Request, ctx: Signed) -> web.StreamResponse:
    return await _render(ctx, request)


@page()
async def print_page(request: web.Request, ctx: Signed) -> web.StreamResponse:
    """The pack alone, as the document to print (A4, ``static/giaoban.css``)."""
    async with ctx.sessions() as db:
        view = await _view(ctx, db, request)
        if view is None:
            return ctx.not_found()
        pack = await build_pack(db, view, ctx.rules, ctx.today)
    back = Html(f'<p class="actions no-print"><a class="button secondary" href="/giaoban/m/{view.meeting.id}">'
                f'{esc(t("gb.web.back"))}</a> <button type="button" onclick="window.print()">'
                f'{esc(t("gb.web.print"))}</button></p>')
    body = Html('<link rel="stylesheet" href="/static/giaoban.css">' + back
                + pack_document(pack, ctx.config.tz, ctx.today))
    title = t("gb.web.pack_title", commune=view.commune.full_name,
              when=fmt_time_date(view.meeting.starts_at, ctx.config.tz))
    return ctx.render(title, body)


@page()
async def change_submit(request: web.Request, ctx: Signed) -> web.StreamResponse:
    """A new time or place; the villages are told."""
    form = await request.post()
    day, at = parse_day(str(form.get("date", ""))), parse_hhmm(str(form.get("time", "")))
    if day is None or at is None:
        return await _render(ctx, request, tag("p", t("gb.web.bad_input", what=t("gb.web.date")), class_="error"),
                             status=400)
    starts = datetime.combine(day, at, ctx.config.tz)
    try:
        async with ctx.sessions() as db, db.begin():
            view = await _view(ctx, db, request)
            if view is None:
                return ctx.not_found()
            assert view.meeting.id is not None
            _, n = await move_meeting(db, view.meeting.id, starts, str(form.get("place", "")), by=_by(ctx),
                                      channel="web", now=utcnow(), render=renderer(ctx.config.tz))
    except Refused as err:
        return await _render(ctx, request, tag("p", t(f"gb.refused.{err.reason}"), class_="error"), status=400)
    return await _render(ctx, request, Html(tag("p", t("gb.web.moved_done", n=n), class_="ok", id="changed")
                                            + when_note(ctx, "notices", swept=False)))


@page()
async def cancel_submit(request: web.Request, ctx: Signed) -> web.StreamResponse:
    """Cancel the meeting (``models.giaoban.changes.cancel_meeting``, as ``giaoban cancel ID``)."""
    try:
        async with ctx.sessions() as db, db.begin():
            view = await _view(ctx, db, request)
            if view is None:
                return ctx.not_found()
            assert view.meeting.id is not None
            _, n = await cancel_meeting(db, view.meeting.id, by=_by(ctx), channel="web", now=utcnow(),
                                        render=renderer(ctx.config.tz))
    except Refused as err:
        return await _render(ctx, request, tag("p", t(f"gb.refused.{err.reason}"), class_="error"), status=400)
    return await _render(ctx, request, Html(tag("p", t("gb.web.cancelled_done", n=n), class_="ok", id="cancel-done")
                                            + when_note(ctx, "notices", swept=False)))


def _by(ctx: Signed) -> str:
    return ctx.user.username


@page()
async def pack_xlsx_file(request: web.Request, ctx: Signed) -> web.StreamResponse:
    async with ctx.sessions() as db:
        view = await _view(ctx, db, request)
        if view is None:
            return ctx.not_found()
        assert view.meeting.id is not None
        pack = await build_pack(db, view, ctx.rules, ctx.today)
        data = pack_xlsx(pack, await conclusions_of(db, view.meeting.id), ctx.config.tz)
    name = f"giao-ban-{view.commune.code}-{view.meeting.starts_at.astimezone(ctx.config.tz):%Y-%m-%d}.xlsx"
    return web.Response(body=data, headers=attachment_headers(
        name, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))


@page()
async def conclusion_submit(request: web.Request, ctx: Signed) -> web.StreamResponse:
    form = await request.post()
    text = str(form.get("text", ""))
    raw_due = str(form.get("due", "")).strip()
    codes = {str(v) for v in form.getall("village", [])}
    due = parse_day(raw_due) if raw_due else None
    if raw_due and due is None:
        return await _render(ctx, request, tag("p", t("gb.web.bad_input", what=t("gb.web.is_task")), class_="error"),
                             status=400)
    error: str | None = None
    async with ctx.sessions() as db, db.begin():
        view = await _view(ctx, db, request)
        if view is None:
            return ctx.not_found()
        assert view.commune.id is not None
        villages = await villages_of(db, view.commune.id) if codes else []
        ids = [v.id for v in villages if v.code in codes and v.id is not None]
        try:
            if codes and not ids:
                raise Refused("no_villages")
            await add_conclusion(db, view.meeting, text, due=due, village_ids=ids or None,
                                 by=ctx.user.username, now=utcnow(), today=ctx.today)
        except Refused as err:
            error = t(f"gb.refused.{err.reason}")
    if error is not None:
        return await _render(ctx, request, tag("p", error, class_="error"), status=400)
    raise web.HTTPSeeOther(f"/giaoban/m/{request.match_info['id']}")
