"""What the commune has left past its deadline (DESIGN §3), escalated to its staff by the reminder sweep:
a valid result still without recognition or a new vote 5 working days after it was reported
(models/election/recognition.py), and a vacant post still without a by-election 6 months after it
fell vacant (models/election/vacancy.py).

ONE message per staff account and sweep lists every village not yet escalated for its deadline (name
and code), the late recognitions first, then the late by-elections. A village is escalated once per
deadline: an audit event (``escalation``, the village, ``recognition_late`` or ``by_election_late``,
the deadline) is written with the message and read back by later sweeps, as the reminder sweep does
(models/reminders/sweep.py). Key: ``decision_late:<local date>:<digest of the list>:a<account>`` —
running the sweep twice, or in two processes, enqueues nothing twice. Plain functions over a session;
they never commit.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.delivery.outbox import enqueue
from models.election.record import recognition_deadline
from models.election.tables import ElectionReport, Vacancy
from models.election.vacancy import by_election_due
from models.reminders.sweep import escalated_episodes, record_escalated, staff_accounts
from models.units.tables import Unit
from texts.catalog import t
from texts.fmt import fmt_date

# what is late, in the order a message lists it, and the catalog family of its words
KINDS = {"recognition_late": "recognition", "by_election_late": "vacancy"}


@dataclass(frozen=True, slots=True)
class LateDecision:
    """A village whose deadline (``kind``) passed: its line in the message says the rest."""

    kind: str
    village_id: int
    code: str
    deadline: date
    line: str


async def late_recognitions(session: AsyncSession, today: date) -> list[LateDecision]:
    """Valid results (the post not vacant) still undecided after the commune's 5 working days."""
    rows = (await session.execute(
        select(ElectionReport, Unit).join(Unit, col(Unit.id) == ElectionReport.village_id)
        .where(col(ElectionReport.recognition).is_(None), col(ElectionReport.valid).is_not(False),
               col(ElectionReport.vacated_on).is_(None), col(ElectionReport.reported_on).is_not(None),
               col(ElectionReport.reported_on) < today - timedelta(days=5), col(Unit.level) == "village"))).all()
    out = []
    for report, village in rows:
        assert village.id is not None and report.reported_on is not None
        deadline = recognition_deadline(report.reported_on)
        if deadline < today:
            out.append(LateDecision("recognition_late", village.id, village.code, deadline, t(
                "recognition.late_line", village=village.full_name or village.name, code=village.code,
                name=report.head_name, date=fmt_date(report.election_date), reported=fmt_date(report.reported_on),
                deadline=fmt_date(deadline))))
    return out


async def late_by_elections(session: AsyncSession, today: date) -> list[LateDecision]:
    """Posts still vacant after the 6 months the by-election had."""
    rows = (await session.execute(
        select(Vacancy, Unit).join(Unit, col(Unit.id) == Vacancy.village_id)
        .join(ElectionReport, col(ElectionReport.village_id) == Vacancy.village_id)
        .where(col(ElectionReport.vacated_on).is_not(None), col(ElectionReport.election_no) == Vacancy.election_no,
               col(Unit.level) == "village"))).all()
    out = []
    for vacancy, village in rows:
        assert village.id is not None
        due = by_election_due(vacancy)
        if due < today:
            out.append(LateDecision("by_election_late", village.id, village.code, due, t(
                "vacancy.late_line", village=village.full_name or village.name, code=village.code,
                since=fmt_date(vacancy.on), due=fmt_date(due))))
    return out


def render(items: list[LateDecision]) -> str:
    """One message: for each kind with villages, its title, a line per village, what to do."""
    parts = []
    for kind, family in KINDS.items():
        lines = [i.line for i in items if i.kind == kind]
        if lines:
            parts.append("\n".join([t(f"{family}.late_title", n=len(lines)), *lines, t(f"{family}.late_ask")]))
    return "\n\n".join(parts)


async def escalate_late_decisions(session: AsyncSession, now: datetime, tz: ZoneInfo) -> int:
    """Queue one message per staff account listing the villages late for the commune's decision and not
    yet escalated for that deadline; how many messages were queued."""
    today = now.astimezone(tz).date()
    late = [*await late_recognitions(session, today), *await late_by_elections(session, today)]
    done = await escalated_episodes(session, {i.village_id for i in late})
    fresh = [i for i in late if (i.village_id, i.kind, i.deadline.isoformat()) not in done]
    if not fresh:
        return 0
    order = list(KINDS)
    staff = await staff_accounts(session, {i.village_id for i in fresh})
    lists: dict[int, list[LateDecision]] = defaultdict(list)
    for item in sorted(fresh, key=lambda i: (order.index(i.kind), i.deadline, i.code, i.village_id)):
        for account_id in staff.get(item.village_id, []):
            lists[account_id].append(item)
    queued = 0
    told: set[tuple[int, str, date]] = set()
    for account_id, items in sorted(lists.items()):
        listed = ",".join(f"{i.kind}:{i.village_id}:{i.deadline.isoformat()}" for i in items)
        digest = hashlib.sha1(listed.encode()).hexdigest()[:10]
        key = f"decision_late:{today.isoformat()}:{digest}:a{account_id}"
        if await enqueue(session, key=key, kind="escalation", account_id=account_id, text=render(items), now=now):
            queued += 1
            told |= {(i.village_id, i.kind, i.deadline) for i in items}
    await record_escalated(session, told, now)
    return queued
