"""The briefing digest of the user's unit as a document (not the chat message: no command to send, no
"… and N more"): the figures, the changes since the last digest, the units worst first (a commune: its
villages by status), the late villages, the chart — with the same digest as an XLSX and a printable page.

``/digest``, ``/digest/print``, ``/digest.xlsx``, ``/digest/chart.png``.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.web.guard import Signed, page
from bot.web.html import Html, attachment_headers, bar, esc, join, table, tag
from models.progress.dashboard import unit_by_code
from models.progress.digest import (
    DigestFigures,
    changes,
    compute,
    parent_names,
    previous_snapshot,
    worst_first,
)
from models.progress.status import STATUSES
from models.progress.tallies import progress_by_child
from models.reminders.rules import late_villages
from reports.chart import is_villages, progress_chart
from reports.digest_text import change_lines
from reports.digest_xlsx import digest_xlsx, summary_lines
from reports.late_text import days_late, late_what
from texts.catalog import t
from texts.fmt import fmt_date, pct

LATE_SHOWN = 30  # late villages listed on the page (all of them: /late and the XLSX)
ALL = 100_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _section(title: str, body: Html, id_: str) -> Html:
    return Html(f'<section class="doc-part" id="{id_}"><h2>{esc(title)}</h2>{body}</section>')


def _units(f: DigestFigures) -> Html:
    if is_villages(f.children) or len(f.children) <= 1:
        counts = {s: sum(p.by_status.get(s, 0) for p in f.children) for s in STATUSES}
        rows = [[tag("span", t(f"status.{s}"), class_=f"status s-{s}"), counts[s], pct(counts[s], f.villages)]
                for s in STATUSES if counts[s]]
        return _section(t("digest.doc.status"), table([t("web.progress.status"), t("web.progress.villages"), "%"],
                                                      rows, class_="grid counts"), "units")
    rows = [[p.name or p.code, p.villages, f"{p.elected} ({pct(p.elected, p.villages)})",
             f"{p.merged} ({pct(p.merged, p.villages)})", p.overdue, bar(p.elected, p.merged, p.villages)]
            for p in f.children]
    return _section(t("digest.doc.units"), table([t("web.progress.unit"), t("web.progress.villages"),
                                                  t("web.progress.elected"), t("web.progress.merged"),
                                                  t("web.progress.overdue"), ""], rows, class_="grid progress"),
                    "units")


def _late(f: DigestFigures) -> Html:
    if not f.late_total:
        return _section(t("digest.doc.late", n=0), tag("p", t("web.late.none")), "late")
    one = f.level == "commune"  # a commune's own villages: no commune column
    rows = [[d.village_name, *([] if one else [f.late_parent.get(d.village_id, "")]), late_what(d),
             days_late(d, f.today)] for d in f.late]
    more = tag("p", t("digest.doc.late_more", shown=len(f.late), n=f.late_total)) \
        if f.late_total > len(f.late) else ""
    headers = [t("web.late.village"), *([] if one else [t("web.late.commune")]), t("web.late.reason"),
               t("web.late.days")]
    return _section(t("digest.doc.late", n=f.late_total), Html(table(headers, rows, class_="grid late-doc") + more),
                    "late")


async def _document(ctx: Signed, with_tools: bool) -> tuple[Html, str]:
    unit = ctx.unit
    async with ctx.sessions() as db:
        f = await compute(db, unit, ctx.rules, ctx.today, late_limit=LATE_SHOWN)
        previous = await previous_snapshot(db, ctx.unit_id, None)
    f.children = worst_first(f.children)
    head = Html(f'<p class="doc-sub">{esc(t("digest.as_of", date=fmt_date(f.today)))}</p>')
    if not f.villages:
        return Html(head + tag("p", t("digest.no_villages", unit=f.unit_name))), unit.full_name
    figures = _section(t("digest.doc.figures"), Html("<ul>" + "".join(f"<li>{esc(x)}</li>" for x in summary_lines(f))
                                                     + "</ul>"), "figures")
    change = _section(t("digest.doc.changes"), join(tag("p", x.strip()) for x in change_lines(
        changes(f, previous), previous.created_at.date() if previous else None)), "changes")
    chart = tag("img", "", src=f"/digest/chart.png?unit={unit.code}", alt=t("web.digest.chart_alt"), class_="chart",
                width="800", height="420")
    tools = Html(f'<p class="actions no-print"><a class="button" href="/digest.xlsx" id="digest-xlsx">'
                 f'{esc(t("digest.doc.download_xlsx"))}</a> <a class="button secondary" href="/digest/print">'
                 f'{esc(t("digest.doc.print"))}</a> <a class="button secondary" href="/late">'
                 f'{esc(t("digest.doc.late_all"))}</a></p>') if with_tools else Html("")
    body = Html(tools + '<article class="doc digest-doc" id="digest-doc">' + head + figures + change + _units(f)
                + _late(f) + _section(t("digest.doc.chart"), chart, "chart") + "</article>")
    return body, unit.full_name


@page()
async def digest_page(request: web.Request, ctx: Signed) -> web.StreamResponse:
    body, name = await _document(ctx, with_tools=True)
    return ctx.render(t("web.digest.title", unit=name), Html('<link rel="stylesheet" href="/static/giaoban.css">'
                                                             + body))


@page()
async def digest_print(request: web.Request, ctx: Signed) -> web.StreamResponse:
    body, name = await _document(ctx, with_tools=False)
    back = Html(f'<p class="actions no-print"><a class="button secondary" href="/digest">{esc(t("digest.doc.back"))}'
                f'</a> <button type="button" onclick="window.print()">{esc(t("digest.doc.print"))}</button></p>')
    return ctx.render(t("web.digest.title", unit=name), Html('<link rel="stylesheet" href="/static/giaoban.css">'
                                                             + back + body))


@page()
async def digest_xlsx_file(request: web.Request, ctx: Signed) -> web.StreamResponse:
    """The same digest as an XLSX, with every late village."""
    unit = ctx.unit
    async with ctx.sessions() as db:
        f = await compute(db, unit, ctx.rules, ctx.today)
        late, _ = await late_villages(db, ctx.rules, ctx.today, ctx.unit_id, limit=ALL)
        parents = await parent_names(db, [d.village_id for d in late])
    f.children = worst_first(f.children)
    data = await asyncio.to_thread(digest_xlsx, f, late, parents, ctx.today)
    return web.Response(body=data, headers=attachment_headers(f"tong-hop-{unit.code}-{ctx.today.isoformat()}.xlsx",
                                                              XLSX))


@page()
async def digest_chart(request: web.Request, ctx: Signed) -> web.StreamResponse:
    async with ctx.sessions() as db:
        unit, unit_id = ctx.unit, ctx.unit_id
        code = request.query.get("unit")
        if code:
            found = await unit_by_code(db, ctx.config.bot.period, code)
            if found is None or found.id is None or not await ctx.within(db, found):
                return ctx.not_found()
            unit, unit_id = found, found.id
        lines = await progress_by_child(db, unit_id, ctx.today, ctx.rules.congress_deadline)
    png = await asyncio.to_thread(progress_chart, unit.full_name, worst_first(lines))
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "private, max-age=60"})
