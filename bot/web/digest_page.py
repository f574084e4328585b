"""The briefing digest of the user's unit (the same text the bot sends) and its chart."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.web.dashboard import progress_body
from bot.web.guard import Ctx, page
from bot.web.html import Html, esc, tag
from models.progress.dashboard import unit_by_code
from models.progress.digest import changes, compute, previous_snapshot, worst_first
from models.progress.tallies import progress_by_child
from reports.chart import progress_chart
from reports.digest_text import render_digest
from texts.catalog import t


@page()
async def digest_page(request: web.Request, ctx: Ctx) -> web.StreamResponse:
    unit = ctx.unit
    assert unit is not None and unit.id is not None
    async with ctx.sessions() as db:
        figures = await compute(db, unit, ctx.rules, ctx.today)
        previous = await previous_snapshot(db, unit.id, None)
        current = await progress_body(ctx, db, unit, ctx.today)
    text = render_digest(figures, changes(figures, previous), previous.created_at.date() if previous else None)
    chart = tag("img", "", src=f"/digest/chart.png?unit={unit.code}", alt=t("web.digest.chart_alt"),
                class_="chart", loading="lazy") if figures.villages else ""
    body = Html(f'<section class="card"><h2>{esc(t("web.digest.latest"))}</h2>'
                f'<pre class="digest" id="digest-text">{esc(text)}</pre></section>{chart}'
                f"<h2>{esc(t('web.digest.current'))}</h2>{current}")
    return ctx.render(t("web.digest.title", unit=unit.full_name), body)


@page()
async def digest_chart(request: web.Request, ctx: Ctx) -> web.StreamResponse:
    async with ctx.sessions() as db:
        unit = ctx.unit
        code = request.query.get("unit")
        if code:
            unit = await unit_by_code(db, ctx.config.bot.period, code)
            if unit is None or not await ctx.within(db, unit):
                return ctx.not_found()
        assert unit is not None and unit.id is not None
        lines = await progress_by_child(db, unit.id, ctx.today, ctx.rules.congress_deadline)
    png = await asyncio.to_thread(progress_chart, unit.full_name, worst_first(lines))
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "private, max-age=60"})
