"""Conclusions of a giao ban meeting and their directives to villages: acknowledged, reported done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.election.reports import Actor
from models.election.tables import AuditEvent
from models.giaoban.tables import GiaobanConclusion, GiaobanDirective, GiaobanMeeting
from models.refusal import Refused
from models.units.tables import Unit


@dataclass(frozen=True, slots=True)
class Item:
    """A directive as a village sees it."""

    directive: GiaobanDirective
    conclusion: GiaobanConclusion
    meeting: GiaobanMeeting


async def villages_of(session: AsyncSession, commune_id: int) -> list[Unit]:
    rows = await session.execute(select(Unit).where(col(Unit.parent_id) == commune_id, col(Unit.level) == "village")
                                 .order_by(col(Unit.code)))
    return list(rows.scalars().all())


async def add_conclusion(session: AsyncSession, meeting: GiaobanMeeting, text: str, *, due: date | None,
                         village_ids: list[int] | None, by: str | None, now: datetime,
                         today: date) -> GiaobanConclusion:
    """A conclusion for all the commune's villages (``village_ids`` None) or the named ones; a task when
    it has a due date. One directive row per village (the scheduler delivers them). Refused before the
    meeting has begun (its conclusions do not exist yet) and for a cancelled meeting."""
    assert meeting.id is not None
    if meeting.cancelled:
        raise Refused("meeting_cancelled")
    if meeting.starts_at > now:
        raise Refused("not_started")
    text = text.strip()
    if len(text) < 3:
        raise Refused("conclusion_empty")
    if due is not None and due < today:
        raise Refused("due_in_past")
    all_ids = [v.id for v in await villages_of(session, meeting.commune_id) if v.id is not None]
    targets = all_ids if not village_ids else [v for v in village_ids if v in all_ids]
    if not targets:
        raise Refused("no_villages")
    conclusion = GiaobanConclusion(meeting_id=meeting.id, text=text[:4000], is_task=due is not None, due_date=due,
                                   created_at=now, created_by=by)
    session.add(conclusion)
    await session.flush()
    assert conclusion.id is not None
    for vid in targets:
        session.add(GiaobanDirective(conclusion_id=conclusion.id, village_id=vid))
    await session.flush()
    return conclusion


async def open_items(session: AsyncSession, village_id: int) -> list[Item]:
    """A village's directives still open: not acknowledged, or a task not done; oldest first."""
    d, c = GiaobanDirective, GiaobanConclusion
    rows = await session.execute(
        select(d, c, GiaobanMeeting).join(c, col(c.id) == d.conclusion_id)
        .join(GiaobanMeeting, col(GiaobanMeeting.id) == c.meeting_id)
        .where(col(d.village_id) == village_id,
               or_(col(d.acknowledged_at).is_(None), (col(c.is_task)) & col(d.done_at).is_(None)))
        .order_by(col(c.created_at), col(d.id)))
    return [Item(*row) for row in rows.all()]


async def _own(session: AsyncSession, directive_id: int, village_id: int) -> GiaobanDirective:
    row = await session.get(GiaobanDirective, directive_id)
    if row is None or row.village_id != village_id:
        raise Refused("not_yours")
    return row


async def acknowledge(session: AsyncSession, directive_id: int, village_id: int, actor: Actor,
                      now: datetime) -> bool:
    """Mark a directive received; False when it already was."""
    row = await _own(session, directive_id, village_id)
    if row.acknowledged_at is not None:
        return False
    row.acknowledged_at, row.acknowledged_by = now, actor.account_id
    session.add(AuditEvent(at=now, account_id=actor.account_id, channel=actor.channel, action="giaoban.ack",
                           village_id=village_id, field=f"directive:{directive_id}", new="ack"))
    await session.flush()
    return True


async def report_done(session: AsyncSession, directive_id: int, village_id: int, note: str | None, actor: Actor,
                      now: datetime) -> None:
    """A task reported done (acknowledged too, if it was not)."""
    row = await _own(session, directive_id, village_id)
    conclusion = await session.get(GiaobanConclusion, row.conclusion_id)
    if conclusion is None or not conclusion.is_task:
        raise Refused("not_a_task")
    if row.acknowledged_at is None:
        row.acknowledged_at, row.acknowledged_by = now, actor.account_id
    old = row.done_note if row.done_at else None
    row.done_at, row.done_note, row.done_by = now, (note or "").strip()[:1000] or None, actor.account_id
    session.add(AuditEvent(at=now, account_id=actor.account_id, channel=actor.channel, action="giaoban.done",
                           village_id=village_id, field=f"directive:{directive_id}", old=old, new=row.done_note))
    await session.flush()


async def latest_done(session: AsyncSession, village_id: int) -> GiaobanDirective | None:
    """The village's task most recently reported done (a photo sent right after joins it)."""
    return (await session.execute(select(GiaobanDirective).where(
        col(GiaobanDirective.village_id) == village_id, col(GiaobanDirective.done_at).is_not(None))
        .order_by(col(GiaobanDirective.done_at).desc()).limit(1))).scalar_one_or_none()


async def conclusions_of(session: AsyncSession, meeting_id: int) -> list[tuple[GiaobanConclusion,
                                                                               list[tuple[GiaobanDirective, Unit]]]]:
    """A meeting's conclusions, each with its directives and their villages (the dashboard's table)."""
    d, c = GiaobanDirective, GiaobanConclusion
    rows = await session.execute(select(c, d, Unit).join(d, col(d.conclusion_id) == c.id)
                                 .join(Unit, col(Unit.id) == d.village_id)
                                 .where(col(c.meeting_id) == meeting_id).order_by(col(c.id), col(Unit.code)))
    out: dict[int, tuple[GiaobanConclusion, list[tuple[GiaobanDirective, Unit]]]] = {}
    for conclusion, directive, village in rows.all():
        assert conclusion.id is not None
        out.setdefault(conclusion.id, (conclusion, []))[1].append((directive, village))
    return list(out.values())
