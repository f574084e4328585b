"""CSV and XLSX downloads of the export (DESIGN §4), only the villages under the user's unit."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from aiohttp import web

from bot.web.guard import Signed, page
from bot.web.html import Html, attachment_headers, esc, tag
from bot.web.keys import FILES
from models.delivery.files import FileRequest
from models.progress.dashboard import unit_by_code
from reports.files import BuildConfig, build
from texts.catalog import t

MIME = {"csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@page()
async def downloads_page(request: web.Request, ctx: Signed) -> web.StreamResponse:
    code = ctx.unit.code
    body = Html(f"<p>{esc(t('web.downloads.intro'))}</p><p class=\"actions\">"
                f"{tag('a', t('web.downloads.csv'), href=f'/export.csv?unit={code}', class_='button')} "
                f"{tag('a', t('web.downloads.xlsx'), href=f'/export.xlsx?unit={code}', class_='button')}</p>")
    return ctx.render(t("web.downloads.title"), body)


async def _export(request: web.Request, ctx: Signed, fmt: str) -> web.StreamResponse:
    """The file is built off the loop (the bot's file builder, sharing a build in flight; without one,
    a thread) and streamed from disk."""
    period = ctx.config.bot.period
    unit = ctx.unit
    code = request.query.get("unit")
    if code:
        async with ctx.sessions() as db:
            found = await unit_by_code(db, period, code)
            if found is None or not await ctx.within(db, found):
                return ctx.not_found()
        unit = found
    assert unit.id is not None
    wanted = FileRequest(fmt, unit.id, ctx.today)
    filename = f"tien-do-{unit.code}-{ctx.today.isoformat()}.{fmt}"
    headers = attachment_headers(filename, MIME[fmt])
    builder = request.app.get(FILES)
    if builder is not None:  # the bot's: the file stays in its folder (pruned after a few days)
        built = await asyncio.shield(builder.file(wanted))
        assert built.path is not None
        return web.FileResponse(built.path, headers=headers)
    with tempfile.TemporaryDirectory() as tmp:  # a web app alone: built in a thread, nothing left behind
        built = await asyncio.to_thread(build, BuildConfig(ctx.config.database.url, period, ctx.rules, tmp), wanted)
        assert built.path is not None
        data = await asyncio.to_thread(Path(built.path).read_bytes)
    return web.Response(body=data, headers=headers)


@page()
async def export_csv_file(request: web.Request, ctx: Signed) -> web.StreamResponse:
    return await _export(request, ctx, "csv")


@page()
async def export_xlsx_file(request: web.Request, ctx: Signed) -> web.StreamResponse:
    return await _export(request, ctx, "xlsx")
