"""Photos heads sent with their reports: the list on the village page, and the download (for staff whose
scope holds the photo's village; 404 otherwise). The pack and the task table link to ``/photo/{id}``."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiohttp import web

from bot.web.guard import Signed, page
from bot.web.html import Html, esc
from models.photos.store import PhotoInfo, get_photo
from models.progress.dashboard import units_by_ids
from models.units.tables import Unit
from texts.catalog import t
from texts.fmt import fmt_datetime

FILE_STEM = {"election": "bien-ban-bau-cu", "congress": "bien-ban-dai-hoi", "giaoban": "giao-ban",
             "task": "nhiem-vu"}


def photo_url(photo_id: int) -> str:
    return f"/photo/{photo_id}"


def photo_links(ids: tuple[int, ...] | list[int]) -> Html:
    """Numbered links ("ảnh 1", "ảnh 2", …) to photos, for a table cell."""
    return Html(" ".join(f'<a class="photo" href="{photo_url(i)}">{esc(t("web.photos.link", n=n))}</a>'
                         for n, i in enumerate(ids, 1)))


def photo_list(photos: list[PhotoInfo], tz: ZoneInfo) -> Html:
    """The photos kept for a village (and the villages it took over), as links; nothing when none."""
    if not photos:
        return Html("")

    def label(p: PhotoInfo) -> str:
        return t("web.photos.item", kind=t(f"web.photos.kind_{p.kind}"), at=fmt_datetime(p.created_at, tz),
                 kb=(p.size + 1023) // 1024)

    items = "".join(f'<li><a href="{photo_url(p.id)}">{esc(label(p))}</a></li>' for p in photos)
    return Html(f'<section class="card" id="photos"><h2>{esc(t("web.photos.title"))}</h2><ul>{items}</ul></section>')


@page()
async def photo_download(request: web.Request, ctx: Signed) -> web.StreamResponse:
    """One photo, for staff whose scope holds the village it belongs to."""
    try:
        photo_id = int(request.match_info["photo_id"])
    except ValueError:
        return ctx.not_found()
    async with ctx.sessions() as db:
        photo = await get_photo(db, photo_id)
        owner: list[Unit] = await units_by_ids(db, [photo.village_id]) if photo is not None else []
        if photo is None or not owner or not await ctx.within(db, owner[0]):
            return ctx.not_found()
    ext = "png" if photo.mime_type == "image/png" else "jpg"
    name = f"{FILE_STEM.get(photo.kind, 'anh')}-{owner[0].code}-{photo.id}.{ext}"
    return web.Response(body=photo.content, content_type=photo.mime_type, headers={
        "Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff"})
