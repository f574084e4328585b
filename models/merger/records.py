"""What the merger rules let heads and commune staff record (plain functions; the caller commits).

- the head was already the branch secretary when elected (``/baucu``): merged at once, if a full member;
- the commune Party committee's approval (chuẩn y) of the secretary: number and date;
- the head's party status changing (``/dangvien``): an event with audit, not an election revision;
- a commune's congress plan: the deadline for its villages' congresses.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.election.reports import (
    Actor,
    as_text,
    get_congress,
    get_election,
    save_congress,
)
from models.election.tables import AuditEvent, CongressReport, ElectionReport
from models.merger.rules import add_months, full_member_on
from models.merger.tables import CongressPlan, PartyEvent
from models.refusal import Refused


async def _election(session: AsyncSession, village_id: int) -> ElectionReport:
    election = await get_election(session, village_id)
    if election is None:
        raise Refused("no_election")
    return election


async def record_already_secretary(session: AsyncSession, village_id: int, already: bool, actor: Actor,
                                   now: datetime) -> CongressReport | None:
    """The head is (``already``) or is not the sitting branch secretary. Yes: merged at once (method
    ``already_secretary``), provided the head is a full member when elected. No: an earlier yes is undone."""
    election = await _election(session, village_id)
    current = await get_congress(session, village_id)
    if not already:
        if current is None or current.method != "already_secretary":
            return current
        return await save_congress(session, village_id, {
            "secretary_name": None, "merged": None, "method": None, "approval_number": None,
            "approval_date": None}, actor, now)
    if not full_member_on(election.party_status, election.party_date, election.election_date):
        raise Refused("head_not_full_member")
    if current is not None and current.merged is not None and current.method != "already_secretary":
        raise Refused("already_held")
    return await save_congress(session, village_id, {
        "held_date": None, "secretary_name": election.head_name, "merged": True, "method": "already_secretary",
        "not_merged_reason": None, "not_merged_note": None}, actor, now)


async def approve_secretary(session: AsyncSession, village_id: int, number: str, on: date, actor: Actor,
                            now: datetime, today: date) -> CongressReport:
    """The commune Party committee approved (chuẩn y) the secretary: decision ``number`` of ``on``."""
    congress = await get_congress(session, village_id)
    if congress is None or congress.merged is None:
        raise Refused("no_secretary")
    if on > today:
        raise Refused("date_in_future")
    if congress.held_date is not None and on < congress.held_date:
        raise Refused("approval_before_choice")
    number = " ".join(number.split())
    if not number:
        raise Refused("approval_number")
    return await save_congress(session, village_id, {"approval_number": number[:40], "approval_date": on},
                                actor, now)


async def record_party_event(session: AsyncSession, village_id: int, kind: str, on: date, actor: Actor,
                             now: datetime, today: date, months: int = 12) -> ElectionReport:
    """The head became a full member on ``on`` (``full_member``: was probationary, 12 months after
    admission at the earliest), was admitted (``admitted``: was not a member; becomes probationary), or
    is to be admitted on ``on`` (``admission_planned``). An event and audit rows; no election revision."""
    election = await _election(session, village_id)
    status = election.party_status
    if kind == "full_member":
        if status != "probationary":
            raise Refused("not_probationary" if status == "non_member" else "already_member")
        if on > today:
            raise Refused("date_in_future")
        if election.party_date is not None and on < add_months(election.party_date, months):
            raise Refused("before_eligible")
        changes: dict[str, object] = {"party_status": "member", "party_date": on, "admission_planned_date": None}
    elif kind == "admitted":
        if status != "non_member":
            raise Refused("already_admitted")
        if on > today:
            raise Refused("date_in_future")
        changes = {"party_status": "probationary", "party_date": on, "admission_planned_date": None}
    elif kind == "admission_planned":
        if status != "non_member":
            raise Refused("already_admitted")
        if on < today:
            raise Refused("planned_in_past")
        changes = {"admission_planned_date": on}
    else:
        raise Refused("kind")
    session.add(PartyEvent(village_id=village_id, kind=kind, on=on, head_name=election.head_name,
                           account_id=actor.account_id, channel=actor.channel, created_at=now))
    for field, value in changes.items():
        old = getattr(election, field)
        if old != value:
            session.add(AuditEvent(at=now, account_id=actor.account_id, channel=actor.channel,
                                   action=f"party.{kind}", village_id=village_id, field=field,
                                   old=as_text(old), new=as_text(value)))
            setattr(election, field, value)
    await session.flush()
    return election


async def party_events(session: AsyncSession, village_id: int) -> list[PartyEvent]:
    rows = await session.execute(select(PartyEvent).where(col(PartyEvent.village_id) == village_id)
                                 .order_by(col(PartyEvent.created_at), col(PartyEvent.id)))
    return list(rows.scalars().all())


async def get_plan(session: AsyncSession, commune_id: int) -> CongressPlan | None:
    return (await session.execute(select(CongressPlan).where(col(CongressPlan.unit_id) == commune_id))
            ).scalar_one_or_none()


async def set_congress_plan(session: AsyncSession, commune_id: int, deadline: date, actor: Actor,
                            now: datetime) -> CongressPlan:
    """Set or move a commune's congress deadline (audited; the old date is in the audit event)."""
    plan = await get_plan(session, commune_id)
    old = plan.deadline if plan else None
    if plan is None:
        plan = CongressPlan(unit_id=commune_id, deadline=deadline, updated_at=now,
                            updated_by_account_id=actor.account_id)
        session.add(plan)
    plan.deadline, plan.updated_at, plan.updated_by_account_id = deadline, now, actor.account_id
    if old != deadline:
        session.add(AuditEvent(at=now, account_id=actor.account_id, channel=actor.channel, action="congress_plan.set",
                               village_id=None, field=f"deadline:{commune_id}", old=as_text(old),
                               new=as_text(deadline)))
    await session.flush()
    return plan


async def village_deadline(session: AsyncSession, village_parent_id: int | None, default: date | None) -> date | None:
    """The congress deadline for a village under ``village_parent_id``: the commune's plan, else ``default``."""
    if village_parent_id is None:
        return default
    plan = await get_plan(session, village_parent_id)
    return plan.deadline if plan else default
