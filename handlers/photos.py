"""A photo sent by a village head: the vote-count record during ``/baucu``, the minutes during
``/daihoi``, a picture with the giao ban report (``/giaoban``) or with a task reported done
(``/nhiemvu``, at its note), or within an hour after saving one of those. Decoded and re-encoded
(:mod:`models.photos.image`: JPEG or PNG, at most 10 MB and 40 megapixels; what is stored is the
re-encoding) and stored with what it belongs to. The conversation in progress is not disturbed: its
question is asked again, and it holds the photo until its report is saved (``/huy`` or expiry discards
it). A photo that could not be fetched, does not decode or belongs to nothing gets a clear message and
changes nothing."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from handlers.context import Context, HeadContext, as_head
from models.dialog.state import StoredState
from models.election.reports import get_congress, get_election
from models.giaoban.reports import latest_report
from models.giaoban.tasks import latest_done
from models.photos.image import MAX_PIXELS, BadPhoto, reencode
from models.photos.store import MAX_PHOTO_BYTES, save_photo
from texts.catalog import t

RIGHT_AFTER = timedelta(hours=1)
Target = tuple[str, int | None]  # the photo's kind and what it refers to (a meeting, a directive)


def _in_flow(row: StoredState) -> Target | None:
    if row.flow in ("election", "congress"):
        return row.flow, None
    if row.flow == "giaoban" and isinstance(row.data.get("meeting"), int):
        return "giaoban", row.data["meeting"]
    if row.flow == "nhiemvu" and row.step == "note" and isinstance(row.data.get("item"), int):
        return "task", row.data["item"]
    return None


async def _just_saved(ctx: HeadContext) -> Target | None:
    """What the village saved last, if within the hour."""
    village = ctx.village_id
    candidates: list[tuple[datetime, Target]] = []
    for kind, report in (("election", await get_election(ctx.session, village)),
                         ("congress", await get_congress(ctx.session, village))):
        if report is not None:
            candidates.append((report.updated_at, (kind, None)))
    giaoban = await latest_report(ctx.session, village)
    if giaoban is not None:
        candidates.append((giaoban.updated_at, ("giaoban", giaoban.meeting_id)))
    done = await latest_done(ctx.session, village)
    if done is not None and done.done_at is not None:
        candidates.append((done.done_at, ("task", done.id)))
    recent = [(at, target) for at, target in candidates if ctx.now - _aware(at, ctx) <= RIGHT_AFTER]
    return max(recent, key=lambda c: _aware(c[0], ctx))[1] if recent else None


def _aware(value: datetime, ctx: Context) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=ctx.now.tzinfo)


async def receive_photo(context: Context, row: StoredState | None) -> int | None:
    """Take the photo; its id when it was stored (the caller re-asks the current question)."""
    photo = context.incoming.photo
    assert photo is not None
    ctx = as_head(context)  # only a village account's photos are taken (its head's or secretary's)
    if ctx is None:
        context.say(t("photo.not_expected"))
        return None
    mb, mp = MAX_PHOTO_BYTES // 2**20, MAX_PIXELS // 1_000_000
    if photo.error is not None or photo.content is None:
        ctx.say(t(f"photo.{photo.error or 'download_failed'}", mb=mb))
        return None
    if len(photo.content) > MAX_PHOTO_BYTES:
        ctx.say(t("photo.too_large", mb=mb))
        return None
    target = (_in_flow(row) if row is not None else None) or await _just_saved(ctx)
    if target is not None and ctx.role != "village_head" and target[0] not in ("giaoban", "task"):
        target = None  # a secretary's photos belong to the giao ban, never to the head's reports
    if target is None:
        ctx.say(t("photo.not_expected"))
        return None
    try:
        clean = await asyncio.to_thread(reencode, photo.content)
    except BadPhoto as exc:
        ctx.say(t(f"photo.{exc.reason}", mb=mb, mp=mp))
        return None
    if len(clean.content) > MAX_PHOTO_BYTES:
        ctx.say(t("photo.too_large", mb=mb))
        return None
    kind, ref_id = target
    stored = await save_photo(ctx.session, ctx.village_id, kind, clean, ctx.account.id, ctx.incoming.channel,
                              ctx.now, ref_id=ref_id)
    ctx.say(t(f"photo.saved_{kind}", village=ctx.unit.full_name))
    return stored.id
