"""Reminder rules: what is due for which village today, derived from the reports (DESIGN §2).

Each rule is a query over the villages and their reports; it stops matching as soon as the report
arrives. How often a village has been reminded is read back from the outbox (keys
``reminder:<rule>:<village_code>:<date>:a<account>``), so the scheduler remembers nothing itself.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, Select, and_, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import CongressReport, ElectionReport, Unit, UnitAncestor

LATE_RULES = ("election", "plan_congress", "congress_result")  # a village matching one of these is late
REPEATING = (*LATE_RULES, "probation")
RULES = (*REPEATING, "congress_soon")


@dataclass(frozen=True, slots=True)
class Rules:
    """The reminder settings (``[reminders]`` of config.toml)."""

    election_date: date
    election_grace_days: int = 1
    plan_congress_after_days: int = 7
    congress_soon_days: tuple[int, ...] = (3, 1)
    congress_result_grace_days: int = 1
    probation_months: int = 12
    probation_notice_days: int = 14
    repeat_every_days: int = 2
    escalate_after: int = 3
    quiet_start: time = time(21, 0)
    quiet_end: time = time(7, 0)

    def is_quiet(self, local: datetime) -> bool:
        t = local.time()
        if self.quiet_start <= self.quiet_end:
            return self.quiet_start <= t < self.quiet_end
        return t >= self.quiet_start or t < self.quiet_end


@dataclass(frozen=True, slots=True)
class Due:
    """One rule matching one village. ``since``: the day it became due (election day, congress date,
    end of probation, …); ``on``: the date the message is about (congress date, end of probation)."""

    rule: str
    village_id: int
    village_code: str
    village_name: str
    since: date
    on: date | None = None


def add_months(d: date, months: int) -> date:
    m = d.month - 1 + months
    year, month = d.year + m // 12, m % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _villages(scope_id: int | None, period: str | None, *cols) -> Select:  # type: ignore[no-untyped-def]
    stmt = select(Unit.id, Unit.code, Unit.full_name, *cols).where(Unit.level == "village")
    if period is not None:
        stmt = stmt.where(Unit.period == period)
    if scope_id is not None:
        stmt = stmt.join(UnitAncestor, and_(UnitAncestor.descendant_id == Unit.id,
                                            UnitAncestor.ancestor_id == scope_id))
    return stmt


def _no_congress() -> object:
    c = CongressReport
    return or_(c.id.is_(None), and_(c.planned_date.is_(None), c.held_date.is_(None)))  # type: ignore[union-attr]


def rule_query(rule: str, rules: Rules, today: date, scope_id: int | None = None,
               period: str | None = None) -> Select:
    """Villages matching ``rule`` today: (id, code, full_name, date column it is ordered by)."""
    e, c = ElectionReport, CongressReport
    if rule == "election":
        day = func.coalesce(Unit.election_date, literal(rules.election_date, Date))
        return (_villages(scope_id, period, day.label("d"))
                .outerjoin(e, e.village_id == Unit.id)
                .where(e.id.is_(None), day <= today - timedelta(days=rules.election_grace_days)))  # type: ignore[union-attr]
    if rule == "plan_congress":
        return (_villages(scope_id, period, e.election_date.label("d"))
                .join(e, e.village_id == Unit.id).outerjoin(c, c.village_id == Unit.id)
                .where(e.party_status == "member", _no_congress(),  # type: ignore[arg-type]
                       e.election_date <= today - timedelta(days=rules.plan_congress_after_days)))
    if rule == "congress_soon":
        days = [today + timedelta(days=d) for d in rules.congress_soon_days]
        return (_villages(scope_id, period, c.planned_date.label("d")).join(c, c.village_id == Unit.id)
                .where(c.held_date.is_(None), c.planned_date.in_(days)))  # type: ignore[union-attr]
    if rule == "congress_result":
        return (_villages(scope_id, period, c.planned_date.label("d")).join(c, c.village_id == Unit.id)
                .where(c.held_date.is_(None),  # type: ignore[union-attr]
                       c.planned_date <= today - timedelta(days=rules.congress_result_grace_days)))  # type: ignore[operator]
    if rule == "probation":
        # loose cut-off in SQL, exact month arithmetic in Python (see _due)
        cutoff = add_months(today + timedelta(days=rules.probation_notice_days), -rules.probation_months)
        return (_villages(scope_id, period, e.party_date.label("d"))
                .join(e, e.village_id == Unit.id).outerjoin(c, c.village_id == Unit.id)
                .where(e.party_status == "probationary", e.party_date.is_not(None),  # type: ignore[union-attr]
                       e.party_date <= cutoff + timedelta(days=3), _no_congress()))  # type: ignore[operator, arg-type]
    raise ValueError(f"unknown rule {rule}")


def _due(rule: str, rules: Rules, today: date, vid: int, code: str, name: str, d: date) -> Due | None:
    if rule == "election":
        return Due(rule, vid, code, name, since=d)
    if rule == "plan_congress":
        return Due(rule, vid, code, name, since=d + timedelta(days=rules.plan_congress_after_days), on=d)
    if rule == "probation":
        end = add_months(d, rules.probation_months)
        if end - timedelta(days=rules.probation_notice_days) > today:
            return None
        return Due(rule, vid, code, name, since=end, on=end)
    return Due(rule, vid, code, name, since=d, on=d)


async def due_today(session: AsyncSession, rules: Rules, today: date, *, period: str | None = None,
                    scope_id: int | None = None, only: tuple[str, ...] = RULES) -> list[Due]:
    """Every (rule, village) due today, in rule order then village code."""
    out: list[Due] = []
    for rule in only:
        rows = await session.execute(rule_query(rule, rules, today, scope_id, period).order_by(Unit.code))
        for vid, code, name, d in rows.all():
            due = _due(rule, rules, today, vid, code, name, d)
            if due is not None:
                out.append(due)
    return out


async def late_villages(session: AsyncSession, rules: Rules, today: date, scope_id: int,
                        limit: int = 20) -> tuple[list[Due], int]:
    """The late villages under ``scope_id``, oldest first (at most ``limit``), and how many in all.

    A village late on two counts is listed once, under its older one. Counting and listing are done
    in SQL (``COUNT(*) OVER ()`` and ``ORDER BY … LIMIT``), so a national scope never loads 40,000 rows."""
    listed: dict[int, Due] = {}
    total = 0
    for rule in LATE_RULES:
        q = rule_query(rule, rules, today, scope_id)
        # one query per rule: the oldest ``limit`` rows, each carrying the rule's total (a window count)
        q = q.add_columns(func.count().over().label("n")).order_by(q.selected_columns.d, Unit.code).limit(limit)
        rows = (await session.execute(q)).all()
        total += rows[0][-1] if rows else 0
        for vid, code, name, d, _n in rows:
            due = _due(rule, rules, today, vid, code, name, d)
            if due is not None and (vid not in listed or due.since < listed[vid].since):
                listed[vid] = due
    # one village cannot match both "election" and a congress rule; plan_congress and congress_result
    # exclude each other too (no plan vs. a plan), so the sum is the number of late villages
    ordered = sorted(listed.values(), key=lambda x: (x.since, x.village_code))[:limit]
    return ordered, total
