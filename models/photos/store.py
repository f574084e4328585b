"""Photos a village head sends with a report: the vote-count record (``election``), the congress minutes
(``congress``), a giao ban situation report (``giaoban``, ``ref_id`` the meeting) or a task reported done
(``task``, ``ref_id`` the directive).

Stored in the database as re-encoded by :mod:`models.photos.image` (never the bytes as received; a few
hundred KB each, in one transaction with the message that brought them);
listed on the village page, linked from the briefing pack and the task table, and downloadable by staff
in scope. Plain functions; no commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.photos.image import CleanPhoto
from models.photos.tables import ReportPhoto
from models.typed_sql import id_col, rowcount

MAX_PHOTO_BYTES = 10 * 1024 * 1024
KINDS = ("election", "congress", "giaoban", "task")
HELD = "_photos"  # a conversation's data: the ids of photos sent during a report not yet saved




async def save_photo(session: AsyncSession, village_id: int, kind: str, photo: CleanPhoto, account_id: int | None,
                     channel: str | None, now: datetime, ref_id: int | None = None) -> ReportPhoto:
    """Store a re-encoded photo (:func:`models.photos.image.reencode` made ``photo``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown photo kind {kind!r}")
    if len(photo.content) > MAX_PHOTO_BYTES:
        raise ValueError("a photo of at most 10 MB")
    row = ReportPhoto(village_id=village_id, kind=kind, ref_id=ref_id, mime_type=photo.mime_type,
                      size=len(photo.content), content=photo.content, account_id=account_id, channel=channel,
                      created_at=now)
    session.add(row)
    await session.flush()
    return row


def held_photos(data: dict[str, Any]) -> list[int]:
    """The photos a conversation in progress holds (sent before its report is saved)."""
    held = data.get(HELD)
    return [i for i in held if isinstance(i, int)] if isinstance(held, list) else []


def hold_photo(data: dict[str, Any], photo_id: int) -> None:
    data[HELD] = [*held_photos(data), photo_id]


async def discard_photos(session: AsyncSession, photo_ids: list[int]) -> int:
    """Delete photos that belonged to a report never saved (``/huy``, an expired conversation)."""
    if not photo_ids:
        return 0
    result = await session.execute(delete(ReportPhoto).where(id_col(ReportPhoto.id).in_(photo_ids)))
    return rowcount(result)


@dataclass(frozen=True, slots=True)
class PhotoInfo:
    """A photo without its bytes (lists)."""

    id: int
    village_id: int
    kind: str
    ref_id: int | None
    mime_type: str
    size: int
    created_at: datetime


async def list_photos(session: AsyncSession, village_ids: list[int]) -> list[PhotoInfo]:
    """The villages' photos, oldest first, without their bytes."""
    p = ReportPhoto
    rows = await session.execute(
        select(id_col(p.id), col(p.village_id), col(p.kind), col(p.ref_id), col(p.mime_type), col(p.size),
               col(p.created_at)).where(col(p.village_id).in_(village_ids)).order_by(col(p.created_at), id_col(p.id)))
    return [PhotoInfo(*row) for row in rows.all()]


async def photo_ids_by(session: AsyncSession, kind: str, ref_ids: list[int],
                       village_ids: list[int] | None = None) -> dict[tuple[int, int], list[int]]:
    """``{(ref_id, village_id): [photo id, …]}`` for one kind (the pack's and the task table's links)."""
    if not ref_ids:
        return {}
    query = (select(id_col(ReportPhoto.id), col(ReportPhoto.ref_id), col(ReportPhoto.village_id))
             .where(col(ReportPhoto.kind) == kind, col(ReportPhoto.ref_id).in_(ref_ids))
             .order_by(id_col(ReportPhoto.id)))
    if village_ids is not None:
        query = query.where(col(ReportPhoto.village_id).in_(village_ids))
    out: dict[tuple[int, int], list[int]] = defaultdict(list)
    for photo_id, ref_id, village_id in (await session.execute(query)).all():
        out[(ref_id or 0, village_id)].append(photo_id)
    return dict(out)


async def get_photo(session: AsyncSession, photo_id: int) -> ReportPhoto | None:
    return await session.get(ReportPhoto, photo_id)
