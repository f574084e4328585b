"""Changing a giao ban after it was set: cancel a meeting, move it (time or place), stop or replace a
commune's recurring schedule — and tell the villages, through the outbox.

One domain function per change, shared by the web pages and the command line (``giaoban cancel ID``
calls :func:`cancel_meeting`). Each checks, writes an audit event, and enqueues one notice per head
account of every village of the commune (key ``giaoban:cancel:<m>:<v>:a<acc>`` or
``giaoban:moved:<m>:<v>:<new start>:a<acc>``: a rerun or a second worker tells nobody twice).
Invitations still waiting in the outbox (quiet hours) are withdrawn rather than sent stale. Nothing
commits: the caller's transaction does.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.delivery.outbox import PENDING, SKIPPED, enqueue
from models.delivery.tables import OutboxMessage
from models.election.tables import AuditEvent
from models.giaoban.meetings import MeetingView, add_schedule, get_meeting
from models.giaoban.people import giaoban_contacts
from models.giaoban.sweep import HEAD_KIND, GbNotice, Render
from models.giaoban.tables import GiaobanMeeting, GiaobanSchedule
from models.giaoban.tasks import villages_of
from models.refusal import Refused
from models.units.tables import Unit


async def _changeable(session: AsyncSession, meeting_id: int, now: datetime) -> MeetingView:
    view = await get_meeting(session, meeting_id)
    if view is None:
        raise Refused("no_meeting")
    if view.meeting.cancelled:
        raise Refused("already_cancelled")
    if view.meeting.starts_at <= now:
        raise Refused("meeting_started")
    return view


async def _withdraw_invitations(session: AsyncSession, meeting_id: int) -> int:
    """Invitations to ``meeting_id`` not sent yet are not sent at all (their time or place is stale)."""
    result = await session.execute(update(OutboxMessage).where(
        col(OutboxMessage.key).startswith(f"giaoban:invite:{meeting_id}:"), col(OutboxMessage.status) == PENDING)
        .values(status=SKIPPED, last_error="withdrawn: the meeting changed"))
    return int(getattr(result, "rowcount", 0) or 0)


async def _tell_villages(session: AsyncSession, view: MeetingView, kind: str, key: str, render: Render,
                         now: datetime, suffix: str = "") -> int:
    """One notice of ``kind`` per account of whoever answers for each of the commune's villages in the giao
    ban (the secretary, or the head); how many were queued."""
    assert view.commune.id is not None
    villages = await villages_of(session, view.commune.id)
    contacts = await giaoban_contacts(session, [v.id for v in villages if v.id is not None])
    queued = 0
    for village in villages:
        text: str | None = None
        contact = contacts.get(village.id or 0)
        for aid in contact.accounts if contact is not None else []:
            text = text if text is not None else render(GbNotice(kind, view.commune, view.meeting, village))
            queued += await enqueue(session, key=f"giaoban:{key}:{view.meeting.id}:{village.code}{suffix}:a{aid}",
                                    kind=HEAD_KIND, account_id=aid, text=text, now=now, village_id=village.id)
    return queued


def _audit(session: AsyncSession, action: str, meeting: GiaobanMeeting, old: str, new: str, by: str | None,
           channel: str, now: datetime) -> None:
    who = f" ({by})" if by else ""
    session.add(AuditEvent(at=now, channel=channel, action=action, field=f"meeting:{meeting.id}", old=old,
                           new=new + who))


async def cancel_meeting(session: AsyncSession, meeting_id: int, *, by: str | None, channel: str, now: datetime,
                         render: Render) -> tuple[MeetingView, int]:
    """Cancel a meeting that has not started; the villages are told. Returns the meeting and the number
    of notices queued. Refused (:class:`Refused`): no such meeting, already cancelled, started."""
    view = await _changeable(session, meeting_id, now)
    view.meeting.cancelled = True
    _audit(session, "giaoban.cancel", view.meeting, "scheduled", "cancelled", by, channel, now)
    await _withdraw_invitations(session, meeting_id)
    await session.flush()
    return view, await _tell_villages(session, view, "cancelled", "cancel", render, now)


async def move_meeting(session: AsyncSession, meeting_id: int, starts_at: datetime, place: str, *, by: str | None,
                       channel: str, now: datetime, render: Render) -> tuple[MeetingView, int]:
    """A new time and/or place for a meeting that has not started; the villages are told — the notice
    invites them under the new time and place (invitations still waiting are withdrawn)."""
    view = await _changeable(session, meeting_id, now)
    if starts_at <= now:
        raise Refused("in_past")
    m = view.meeting
    place = place.strip()[:200]
    if starts_at == m.starts_at and place == m.place:
        return view, 0
    clash = (await session.execute(select(col(GiaobanMeeting.id)).where(
        col(GiaobanMeeting.commune_id) == m.commune_id, col(GiaobanMeeting.starts_at) == starts_at,
        col(GiaobanMeeting.id) != m.id))).first()
    if clash is not None:
        raise Refused("same_time")
    old = f"{m.starts_at.isoformat()} {m.place}"
    m.starts_at, m.place = starts_at, place
    _audit(session, "giaoban.move", m, old, f"{starts_at.isoformat()} {place}", by, channel, now)
    await _withdraw_invitations(session, meeting_id)
    await session.flush()
    stamp = starts_at.strftime("%Y%m%dT%H%M")
    return view, await _tell_villages(session, view, "moved", "moved", render, now, f":{stamp}")


async def _future_meetings(session: AsyncSession, schedule_id: int, now: datetime) -> list[int]:
    rows = await session.execute(select(col(GiaobanMeeting.id)).where(
        col(GiaobanMeeting.schedule_id) == schedule_id, col(GiaobanMeeting.starts_at) > now,
        col(GiaobanMeeting.cancelled).is_(False)))
    return [int(i) for i in rows.scalars().all() if i is not None]


async def stop_schedule(session: AsyncSession, schedule_id: int, *, by: str | None, channel: str, now: datetime,
                        render: Render) -> int:
    """End a recurring schedule; its meetings already set and not begun are cancelled (villages told).
    Returns how many meetings were cancelled."""
    schedule = await session.get(GiaobanSchedule, schedule_id)
    if schedule is None or not schedule.active:
        raise Refused("no_schedule")
    schedule.active = False
    session.add(AuditEvent(at=now, channel=channel, action="giaoban.schedule_stop", field=f"schedule:{schedule_id}",
                           old="active", new="stopped" + (f" ({by})" if by else "")))
    meetings = await _future_meetings(session, schedule_id, now)
    for meeting_id in meetings:
        await cancel_meeting(session, meeting_id, by=by, channel=channel, now=now, render=render)
    return len(meetings)


async def replace_schedule(session: AsyncSession, commune: Unit, kind: str, at: str, place: str, *, by: str | None,
                           channel: str, now: datetime, render: Render, weekday: int | None = None,
                           day: int | None = None, nth: int | None = None) -> GiaobanSchedule:
    """A new recurrence for the commune in place of its current one: the old one's meetings not begun
    are cancelled (villages told) and the scheduler sets the new one's."""
    assert commune.id is not None
    current = (await session.execute(select(GiaobanSchedule).where(
        col(GiaobanSchedule.commune_id) == commune.id, col(GiaobanSchedule.active)))).scalars().all()
    schedule = await add_schedule(session, commune, kind, at, place, now, weekday=weekday, day=day, nth=nth)
    for old in current:  # add_schedule checked the new one first: a refused form changes nothing
        assert old.id is not None
        for meeting_id in await _future_meetings(session, old.id, now):
            await cancel_meeting(session, meeting_id, by=by, channel=channel, now=now, render=render)
    return schedule
