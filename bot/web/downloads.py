"""CSV and XLSX downloads of the export (DESIGN §4), only the villages under the user's unit."""

from __future__ import annotations

from aiohttp import web

from bot.web.guard import Ctx, page
from bot.web.html import Html, attachment_headers, esc, tag
from models.dashboard import unit_by_code
from reports.export import export_csv, export_xlsx
from texts.catalog import t

MIME = {"csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@page()
async def downloads_page(request: web.Request, ctx: Ctx) -> web.StreamResponse:
    assert ctx.unit is not None
    code = ctx.unit.code
    body = Html(f"<p>{esc(t('web.downloads.intro'))}</p><p class=\"actions\">"
                f"{tag('a', t('web.downloads.csv'), href=f'/export.csv?unit={code}', class_='button')} "
                f"{tag('a', t('web.downloads.xlsx'), href=f'/export.xlsx?unit={code}', class_='button')}</p>")
    return ctx.render(t("web.downloads.title"), body)


async def _export(request: web.Request, ctx: Ctx, fmt: str) -> web.StreamResponse:
    assert ctx.unit is not None
    period = ctx.config.bot.period
    async with ctx.sessions() as db:
        unit = ctx.unit
        code = request.query.get("unit")
        if code:
            found = await unit_by_code(db, period, code)
            if found is None or not await ctx.within(db, found):
                return ctx.not_found()
            unit = found
        writer = export_xlsx if fmt == "xlsx" else export_csv
        data = await writer(db, period, ctx.today, unit.id, ctx.rules.congress_deadline)
    filename = f"tien-do-{unit.code}-{ctx.today.isoformat()}.{fmt}"
    return web.Response(body=data, headers=attachment_headers(filename, MIME[fmt]))


@page()
async def export_csv_file(request: web.Request, ctx: Ctx) -> web.StreamResponse:
    return await _export(request, ctx, "csv")


@page()
async def export_xlsx_file(request: web.Request, ctx: Ctx) -> web.StreamResponse:
    return await _export(request, ctx, "xlsx")
