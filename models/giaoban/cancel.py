"""Cancelling a giao ban meeting (``python -m bot giaoban cancel ID``): the meeting is marked cancelled
(the sweep sends nothing more for it) and every village of the commune is told through the outbox
(key ``giaoban:cancelled:<m>:<v>:a<acc>``: a second cancel, or a rerun, sends nothing twice)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.delivery.outbox import enqueue
from models.giaoban.people import giaoban_contacts
from models.giaoban.sweep import HEAD_KIND
from models.giaoban.tables import GiaobanMeeting
from models.units.tables import Unit


class CancelError(ValueError):
    """Why a meeting cannot be cancelled: ``unknown``, ``past`` (it has started)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def cancel_meeting(session: AsyncSession, meeting_id: int, now: datetime,
                         notice: Callable[[GiaobanMeeting, Unit], str]) -> tuple[GiaobanMeeting, Unit, int]:
    """Cancel the meeting; returns it, its commune and how many messages were enqueued (0 on a repeat)."""
    found = (await session.execute(
        select(GiaobanMeeting, Unit).join(Unit, col(Unit.id) == col(GiaobanMeeting.commune_id))
        .where(col(GiaobanMeeting.id) == meeting_id).with_for_update(of=GiaobanMeeting))).first()
    if found is None:
        raise CancelError("unknown")
    meeting, commune = found
    if meeting.starts_at <= now:
        raise CancelError("past")
    meeting.cancelled = True
    villages = list((await session.execute(
        select(Unit).where(col(Unit.parent_id) == commune.id, col(Unit.level) == "village")
        .order_by(col(Unit.code)))).scalars().all())
    contacts = await giaoban_contacts(session, [v.id for v in villages if v.id is not None])
    text = notice(meeting, commune)
    sent = 0
    for village in villages:
        contact = contacts.get(village.id or 0)
        for aid in contact.accounts if contact is not None else []:
            sent += await enqueue(session, key=f"giaoban:cancelled:{meeting_id}:{village.code}:a{aid}",
                                  kind=HEAD_KIND, account_id=aid, text=text, now=now, village_id=village.id)
    await session.flush()
    return meeting, commune, sent
