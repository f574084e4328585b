"""Giao ban meetings: schedules, single meetings, the meetings a village is asked about, attendance.

Plain functions over a session; they validate, write, and never commit (the caller does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.db import insert_ignore
from models.election.tables import AuditEvent
from models.giaoban.rules import GiaobanRules, occurrences
from models.giaoban.tables import RECURRENCES, GiaobanAttendance, GiaobanMeeting, GiaobanSchedule
from models.refusal import Refused
from models.units.tables import Unit


@dataclass(frozen=True, slots=True)
class MeetingView:
    meeting: GiaobanMeeting
    commune: Unit


async def commune_of(session: AsyncSession, unit: Unit) -> Unit | None:
    """The commune a village belongs to (or the unit itself when it is a commune)."""
    if unit.level == "commune":
        return unit
    if unit.level == "village" and unit.parent_id is not None:
        return await session.get(Unit, unit.parent_id)
    return None


async def schedule_meeting(session: AsyncSession, commune: Unit, starts_at: datetime, place: str, now: datetime,
                           schedule_id: int | None = None) -> GiaobanMeeting:
    """A single meeting (or the occurrence of a schedule); the same commune and time is the same meeting."""
    if commune.level != "commune" or commune.id is None:
        raise Refused("not_commune")
    if starts_at <= now and schedule_id is None:
        raise Refused("in_past")
    await insert_ignore(session, GiaobanMeeting, commune_id=commune.id, starts_at=starts_at, place=place[:200],
                        schedule_id=schedule_id, cancelled=False, created_at=now)
    meeting = (await session.execute(select(GiaobanMeeting).where(
        col(GiaobanMeeting.commune_id) == commune.id, col(GiaobanMeeting.starts_at) == starts_at))).scalar_one()
    return meeting


async def add_schedule(session: AsyncSession, commune: Unit, kind: str, at: str, place: str, now: datetime, *,
                       weekday: int | None = None, day: int | None = None, nth: int | None = None) -> GiaobanSchedule:
    """A recurrence for the commune; it replaces the commune's previous one."""
    if commune.level != "commune" or commune.id is None:
        raise Refused("not_commune")
    if kind not in RECURRENCES or (kind != "monthly_day" and weekday is None) or (
            kind == "monthly_day" and not (day and 1 <= day <= 31)):
        raise Refused("bad_recurrence")
    for old in (await session.execute(select(GiaobanSchedule).where(
            col(GiaobanSchedule.commune_id) == commune.id, col(GiaobanSchedule.active)))).scalars():
        old.active = False
    schedule = GiaobanSchedule(commune_id=commune.id, kind=kind, weekday=weekday, day=day, nth=nth, at=at,
                               place=place[:200], created_at=now)
    session.add(schedule)
    await session.flush()
    return schedule


async def materialise(session: AsyncSession, rules: GiaobanRules, now: datetime, tz: ZoneInfo,
                      commune_ids: list[int] | None = None) -> int:
    """Create the meetings of active schedules that fall within the invitation horizon; idempotent."""
    stmt = select(GiaobanSchedule, Unit).join(Unit, col(Unit.id) == GiaobanSchedule.commune_id).where(
        col(GiaobanSchedule.active))
    if commune_ids is not None:
        stmt = stmt.where(col(GiaobanSchedule.commune_id).in_(commune_ids))
    created = 0
    today = now.astimezone(tz).date()
    for schedule, commune in (await session.execute(stmt)).all():
        hour, minute = (int(x) for x in schedule.at.split(":"))
        for day in occurrences(schedule.kind, today, today + timedelta(days=rules.invite_days_before),
                               weekday=schedule.weekday, day=schedule.day, nth=schedule.nth):
            starts = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
            if starts > now and await insert_ignore(
                    session, GiaobanMeeting, commune_id=commune.id, starts_at=starts, place=schedule.place,
                    schedule_id=schedule.id, cancelled=False, created_at=now):
                created += 1
    return created


async def meetings_of(session: AsyncSession, commune_ids: list[int], since: datetime | None = None,
                      limit: int = 50) -> list[MeetingView]:
    stmt = (select(GiaobanMeeting, Unit).join(Unit, col(Unit.id) == GiaobanMeeting.commune_id)
            .where(col(GiaobanMeeting.commune_id).in_(commune_ids), col(GiaobanMeeting.cancelled).is_(False))
            .order_by(col(GiaobanMeeting.starts_at).desc()).limit(limit))
    if since is not None:
        stmt = stmt.where(col(GiaobanMeeting.starts_at) >= since)
    return [MeetingView(m, u) for m, u in (await session.execute(stmt)).all()]


async def get_meeting(session: AsyncSession, meeting_id: int) -> MeetingView | None:
    row = (await session.execute(select(GiaobanMeeting, Unit).join(Unit, col(Unit.id) == GiaobanMeeting.commune_id)
                                 .where(col(GiaobanMeeting.id) == meeting_id))).first()
    return MeetingView(row[0], row[1]) if row else None


async def next_meeting(session: AsyncSession, commune_id: int, now: datetime) -> GiaobanMeeting | None:
    """The commune's next meeting that has not started."""
    return (await session.execute(select(GiaobanMeeting).where(
        col(GiaobanMeeting.commune_id) == commune_id, col(GiaobanMeeting.starts_at) > now,
        col(GiaobanMeeting.cancelled).is_(False)).order_by(col(GiaobanMeeting.starts_at)).limit(1))).scalar_one_or_none()


async def latest_meeting(session: AsyncSession, commune_id: int, now: datetime) -> GiaobanMeeting | None:
    """The next meeting, or else the last one held (the pack's default)."""
    upcoming = await next_meeting(session, commune_id, now)
    if upcoming is not None:
        return upcoming
    return (await session.execute(select(GiaobanMeeting).where(
        col(GiaobanMeeting.commune_id) == commune_id, col(GiaobanMeeting.cancelled).is_(False))
        .order_by(col(GiaobanMeeting.starts_at).desc()).limit(1))).scalar_one_or_none()


async def get_attendance(session: AsyncSession, meeting_id: int, village_id: int) -> GiaobanAttendance | None:
    return (await session.execute(select(GiaobanAttendance).where(and_(
        col(GiaobanAttendance.meeting_id) == meeting_id, col(GiaobanAttendance.village_id) == village_id)))
    ).scalar_one_or_none()


def _answer(attending: bool, reason: str | None, deputy: str | None) -> str:
    """An attendance answer as the audit trail writes it."""
    if deputy:
        return f"deputy: {deputy}"
    return "yes" if attending else f"no: {reason or ''}"


async def record_attendance(session: AsyncSession, meeting: GiaobanMeeting, village_id: int, attending: bool,
                            reason: str | None, account_id: int | None, channel: str | None,
                            now: datetime, deputy: str | None = None) -> GiaobanAttendance:
    """Save (or change) a village's answer to the invitation, with an audit event. ``deputy``: the
    village attends, through the person named in the secretary's place."""
    assert meeting.id is not None
    if meeting.starts_at <= now:
        raise Refused("meeting_started")
    if deputy:
        attending, reason = True, None
    row = await get_attendance(session, meeting.id, village_id)
    old = None if row is None else _answer(row.attending, row.reason, row.deputy)
    if row is None:
        row = GiaobanAttendance(meeting_id=meeting.id, village_id=village_id, attending=attending, reason=reason,
                                account_id=account_id, answered_at=now, deputy=deputy or None)
        session.add(row)
    else:
        row.attending, row.reason, row.account_id, row.answered_at = attending, reason, account_id, now
        row.deputy = deputy or None
    session.add(AuditEvent(at=now, account_id=account_id, channel=channel, action="giaoban.attendance",
                           village_id=village_id, field=f"meeting:{meeting.id}", old=old,
                           new=_answer(attending, reason, deputy)))
    await session.flush()
    return row


def local_day(when: datetime, tz: ZoneInfo) -> date:
    return when.astimezone(tz).date()


async def communes_within(session: AsyncSession, scope: Unit) -> list[Unit]:
    """The communes a staff member of ``scope`` directs (the scope itself when it is a commune)."""
    if scope.level == "commune":
        return [scope]
    from models.units.tables import UnitAncestor

    rows = await session.execute(select(Unit).join(UnitAncestor, col(UnitAncestor.descendant_id) == Unit.id)
                                 .where(col(UnitAncestor.ancestor_id) == scope.id, col(Unit.level) == "commune")
                                 .order_by(col(Unit.code)))
    return list(rows.scalars().all())


async def active_schedules(session: AsyncSession, commune_ids: list[int]) -> list[tuple[GiaobanSchedule, Unit]]:
    rows = await session.execute(select(GiaobanSchedule, Unit).join(Unit, col(Unit.id) == GiaobanSchedule.commune_id)
                                 .where(col(GiaobanSchedule.commune_id).in_(commune_ids), col(GiaobanSchedule.active))
                                 .order_by(col(Unit.code)))
    return [(s, u) for s, u in rows.all()]
