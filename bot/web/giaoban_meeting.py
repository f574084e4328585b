"""One giao ban meeting: the briefing pack (prints on A4), its XLSX, the villages' reports and attendance,
the conclusions and tasks with their acknowledgement and completion per village.

``/giaoban/m/{id}``, ``/giaoban/m/{id}/pack.xlsx``, ``POST /giaoban/m/{id}/conclusion``. A meeting of a
commune outside the user's unit is "not found".
"""

from __future__ import annotations

from datetime import date

from aiohttp import web

from bot.web.guard import Ctx, page
from bot.web.html import Html, attachment_headers, esc, hidden_csrf, join, table, tag
from bot.web.photos import photo_links
from models.clock import utcnow
from models.db import DbSession
from models.giaoban.meetings import MeetingView, get_meeting
from models.giaoban.pack import Pack, VillageLine, build_pack
from models.giaoban.reports import WHOLE
from models.giaoban.tables import FIELDS, GiaobanDirective
from models.giaoban.tasks import add_conclusion, conclusions_of, villages_of
from models.photos.store import photo_ids_by
from models.refusal import Refused
from models.units.tables import Unit
from reports.giaoban_text import render_pack
from reports.giaoban_xlsx import pack_xlsx
from texts.catalog import t
from texts.fmt import fmt_date, fmt_time_date


async def _view(ctx: Ctx, db: DbSession, request: web.Request) -> MeetingView | None:
    raw = request.match_info["id"]
    view = await get_meeting(db, int(raw)) if raw.isdigit() else None
    if view is None or not await ctx.within(db, view.commune):
        return None
    return view


def _attendance(line: VillageLine) -> str:
    a = line.attendance
    if a is None:
        return t("gb.web.attend_none")
    if a.deputy:
        return t("gb.deputy.web", deputy=a.deputy)
    return t("gb.web.attend_yes") if a.attending else t("gb.web.attend_no", reason=a.reason or "")


def _report(line: VillageLine) -> Html:
    photos = Html(f'<div class="photos">{photo_links(line.photos)}</div>') if line.photos else Html("")
    if line.report is None:
        return Html(tag("em", t("gb.web.not_reported")) + photos)
    keys = [WHOLE] if line.answer(WHOLE) else list(FIELDS)
    return Html(join(Html(f"<div><strong>{esc(t(f'gb.field.{k}'))}:</strong> "
                          f"{esc(line.answer(k) or t('gb.report.nothing_shown'))}</div>") for k in keys) + photos)


def _villages(pack: Pack) -> Html:
    rows = ([line.village.full_name, _attendance(line), _report(line)] for line in pack.lines)
    return table([t("gb.web.col_village"), t("gb.web.col_attendance"), t("gb.web.col_report")], rows,
                 class_="grid gb-villages")


async def _conclusions(ctx: Ctx, db: DbSession, pack: Pack) -> Html:
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


def _conclusion_form(ctx: Ctx, pack: Pack) -> Html:
    if pack.view.meeting.starts_at > utcnow():  # conclusions come after the meeting has begun
        return tag("p", t("gb.refused.not_started"), class_="note no-print", id="conclusion-later")
    boxes = join(Html(f'<label class="check"><input type="checkbox" name="village" value="{esc(line.village.code)}">'
                      f"{esc(line.village.full_name)}</label>") for line in pack.lines)
    return Html(f"""<form method="post" action="/giaoban/m/{pack.view.meeting.id}/conclusion" id="conclusion-form"
class="card no-print">{hidden_csrf(ctx.csrf)}
<label>{esc(t("gb.web.conclusion_text"))}<textarea name="text" rows="3" required></textarea></label>
<label>{esc(t("gb.web.is_task"))}<input type="date" name="due"></label>
<fieldset><legend>{esc(t("gb.web.for_villages"))}</legend>{boxes}</fieldset>
<button type="submit">{esc(t("gb.web.add_conclusion"))}</button></form>""")


async def _render(ctx: Ctx, request: web.Request, message: Html | None = None, status: int = 200) -> web.Response:
    async with ctx.sessions() as db:
        view = await _view(ctx, db, request)
        if view is None:
            return ctx.not_found()
        pack = await build_pack(db, view, ctx.rules, ctx.today)
        conclusions = await _conclusions(ctx, db, pack)
    tz = ctx.config.tz
    mid = view.meeting.id
    actions = Html(f'<p class="actions no-print"><a class="button" href="/giaoban/m/{mid}/pack.xlsx">'
                   f'{esc(t("gb.web.xlsx"))}</a></p>')
    body = Html('<link rel="stylesheet" href="/static/giaoban.css">' + actions
                + Html(f'<pre class="digest pack" id="pack-text">{esc(render_pack(pack, tz, limit=None))}</pre>')
                + Html(f"<h2>{esc(t('gb.web.villages_title'))}</h2>") + _villages(pack)
                + Html(f"<h2>{esc(t('gb.web.conclusions_title'))}</h2>") + (message or "")
                + _conclusion_form(ctx, pack) + conclusions)
    title = t("gb.web.pack_title", commune=view.commune.full_name, when=fmt_time_date(view.meeting.starts_at, tz))
    return ctx.render(title, body, status=status)


@page()
async def meeting_page(request: web.Request, ctx: Ctx) -> web.StreamResponse:
    return await _render(ctx, request)


@page()
async def pack_xlsx_file(request: web.Request, ctx: Ctx) -> web.StreamResponse:
    async with ctx.sessions() as db:
        view = await _view(ctx, db, request)
        if view is None:
            return ctx.not_found()
        data = pack_xlsx(await build_pack(db, view, ctx.rules, ctx.today))
    name = f"giao-ban-{view.commune.code}-{view.meeting.starts_at.astimezone(ctx.config.tz):%Y-%m-%d}.xlsx"
    return web.Response(body=data, headers=attachment_headers(
        name, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))


@page()
async def conclusion_submit(request: web.Request, ctx: Ctx) -> web.StreamResponse:
    form = await request.post()
    text = str(form.get("text", ""))
    raw_due = str(form.get("due", "")).strip()
    codes = {str(v) for v in form.getall("village", [])}
    try:
        due = date.fromisoformat(raw_due) if raw_due else None
    except ValueError:
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
                                 by=ctx.user.username if ctx.user else None, now=utcnow(), today=ctx.today)
        except Refused as err:
            error = t(f"gb.refused.{err.reason}")
    if error is not None:
        return await _render(ctx, request, tag("p", error, class_="error"), status=400)
    raise web.HTTPSeeOther(f"/giaoban/m/{request.match_info['id']}")
