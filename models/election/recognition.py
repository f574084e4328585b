"""The commune's decision on a village's result (DESIGN §3): recognition (decision number and date) or
a new vote; the staff told at once of an invalid result (a result left undecided past its 5 working
days is escalated to them with the other late decisions: models/election/escalation.py). Plain
functions over a session; they never commit.

Outbox key: ``election_invalid:<village>:<election no>:a<account>``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.delivery.outbox import enqueue
from models.election.record import validity
from models.election.reports import ELECTION_FIELDS, Actor, get_election, write_revision
from models.election.tables import ElectionReport
from models.refusal import Refused
from models.reminders.sweep import head_accounts, staff_accounts
from models.units.tables import Unit, UnitAncestor
from models.units.tree import get_unit, is_within
from texts.catalog import t
from texts.fmt import fmt_date, pct

DECISION_FIELDS = ("recognition", "recognition_decision", "recognition_date")


async def notify_invalid(session: AsyncSession, village: Unit, report: ElectionReport, now: datetime) -> int:
    """Tell the commune staff at once that the village must vote again; how many messages were queued."""
    assert village.id is not None
    v = validity(report.roll, report.attendees, report.votes_for)
    why = []
    if v.quorum is False:
        why.append(t("recognition.why.quorum", attendees=report.attendees, roll=report.roll,
                     pct=pct(report.attendees or 0, report.roll)))
    if not v.majority:
        why.append(t("recognition.why.majority", votes=report.votes_for, roll=report.roll,
                     pct=pct(report.votes_for, report.roll)))
    text = t("recognition.invalid_notice", village=village.full_name or village.name,
             date=fmt_date(report.election_date), name=report.head_name, why="; ".join(why))
    sent = 0
    for account_id in (await staff_accounts(session, [village.id])).get(village.id, []):
        key = f"election_invalid:{village.code}:{report.election_no}:r{report.revision}:a{account_id}"
        sent += await enqueue(session, key=key, kind="notice", account_id=account_id, text=text, now=now,
                              village_id=village.id)
    return sent


def _snapshot(report: ElectionReport) -> dict[str, Any]:
    return {f: getattr(report, f) for f in (*ELECTION_FIELDS, *DECISION_FIELDS)}


async def decide(session: AsyncSession, village_id: int, *, new_vote: bool, decision: str | None,
                 on: date | None, actor: Actor, now: datetime, today: date) -> ElectionReport:
    """Record the commune's decision: recognised (number and date) or a new vote ordered. A revision
    with an audit event; refused (``Refused``) without a result, for an invalid result (it needs no
    recognition: the village votes again), or with a date in the future."""
    report = await get_election(session, village_id)
    if report is None or report.vacated_on is not None:
        raise Refused("no_election")
    if report.valid is False and not new_vote:
        raise Refused("invalid_result")
    if on is not None and on > today:
        raise Refused("date_in_future")
    old = _snapshot(report)
    report.recognition = "new_vote" if new_vote else "recognised"
    report.recognition_decision = None if new_vote else decision
    report.recognition_date = on
    new = _snapshot(report)
    if new == old:
        return report
    report.revision += 1
    report.updated_at, report.updated_by_account_id = now, actor.account_id
    await write_revision(session, "election", village_id, report.revision, new, old, actor, now,
                          action="election.new_vote" if new_vote else "election.recognise")
    await session.flush()
    return report


async def village_in_scope(session: AsyncSession, period: str, code: str, scope_id: int) -> Unit | None:
    """The village with this code, if it lies in the staff member's scope."""
    unit = await get_unit(session, period, code.strip().upper()) or await get_unit(session, period, code.strip())
    if unit is None or unit.level != "village" or unit.id is None or not await is_within(session, unit.id, scope_id):
        return None
    return unit


async def tell_heads(session: AsyncSession, village: Unit, key: str, text: str, now: datetime) -> int:
    """Queue ``text`` for every reachable account of the village's heads (``key`` + ``:a<account>``)."""
    assert village.id is not None
    queued = 0
    for _person, account_id in (await head_accounts(session, village.period)).get(village.id, []):
        queued += await enqueue(session, key=f"{key}:a{account_id}", kind="notice", account_id=account_id,
                                text=text, now=now, village_id=village.id)
    return queued


TERM_NEAR_DAYS = 90  # a term ending this soon is in the digest (the next election is near)


async def record_counts(session: AsyncSession, scope_id: int, today: date) -> tuple[int, int]:
    """Under ``scope_id``: valid results awaiting the commune's recognition, and terms ending within
    :data:`TERM_NEAR_DAYS` (the next election to prepare)."""
    e = ElectionReport
    scoped = (select(func.count()).select_from(e)
              .join(UnitAncestor, and_(col(UnitAncestor.descendant_id) == e.village_id,
                                       col(UnitAncestor.ancestor_id) == scope_id))
              .join(Unit, and_(col(Unit.id) == e.village_id, col(Unit.level) == "village"))
              .where(col(e.vacated_on).is_(None)))
    pending = (await session.execute(scoped.where(col(e.recognition).is_(None), col(e.valid).is_not(False),
                                                  col(e.reported_on).is_not(None)))).scalar_one()
    ending = (await session.execute(scoped.where(col(e.valid).is_not(False), col(e.term_end) >= today,
                                                 col(e.term_end) <= today + timedelta(days=TERM_NEAR_DAYS))
                                    )).scalar_one()
    return pending, ending
