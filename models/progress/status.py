"""A village's status in SQL: :func:`models.merger.rules.decide_status` written as one ``CASE`` over a village
row outer-joined to its reports and its commune's congress plan, so that a digest over 80,000 villages
is one aggregate query and a single village's status is the same expression evaluated for one row.

The rule itself is :func:`models.merger.rules.decide_status` (the specification); the branches below follow
it line by line, and ``tests/models/progress/test_status_rule.py`` compares both on SQLite and PostgreSQL over
generated facts that reach every branch.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import lru_cache
from typing import Any, TypeVarTuple

from sqlalchemy import Date, Select, String, and_, case, func, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import literal_column, select, type_coerce
from sqlmodel import col

from models.election.tables import CongressReport, ElectionReport
from models.merger.rules import SELF_APPROVED
from models.merger.tables import CongressPlan
from models.units.tables import Unit

STATUSES = ("no_election", "elected_non_member", "elected_probationary", "elected_member",
            "congress_planned", "congress_overdue", "merger_pending", "merged", "not_merged", "revote_needed")
ELECTED = frozenset(STATUSES[1:]) - {"revote_needed"}
HELD = ("merger_pending", "merged", "not_merged")  # the secretary chosen (congress held, or otherwise)


def const(value: str) -> ColumnElement[str]:
    """A string constant written into the SQL, not bound: a bound parameter is read again for every row
    (PostgreSQL evaluates a generic plan's parameters per row; 30 of them made the digest 25% slower)."""
    return literal_column("'" + value.replace("'", "''") + "'", String)


def deadline_expr(default: date | None = None) -> ColumnElement[date]:
    """The village's congress deadline: its commune's plan, else the province ``default``."""
    plan = type_coerce(col(CongressPlan.deadline), Date)
    if default is None:
        return plan
    return func.coalesce(plan, literal_column(f"'{default.isoformat()}'", Date))


def full_member_expr() -> ColumnElement[bool]:
    """``models.merger.rules.full_member_on`` the secretary's date (an already-secretary head: the election's)."""
    e, c = ElectionReport, CongressReport
    secretary_on = case((col(c.method) == const("already_secretary"), col(e.election_date)), else_=col(c.held_date))
    return and_(col(e.party_status) == const("member"), secretary_on.is_not(None),
                or_(col(e.party_date).is_(None), col(e.party_date) <= secretary_on))


def recognised_expr() -> ColumnElement[bool]:
    return col(ElectionReport.recognition) == const("recognised")


def approved_expr() -> ColumnElement[bool]:
    """The secretary approved, or needing no approval of its own (``models.merger.rules.SELF_APPROVED``)."""
    c = CongressReport
    return or_(col(c.approval_date).is_not(None), col(c.method).in_([const(m) for m in SELF_APPROVED]))


@lru_cache(maxsize=64)
def status_expr(today: date | ColumnElement[date], deadline: date | None = None,
                value: Callable[[str], ColumnElement[Any]] = const) -> ColumnElement[str]:
    """The status of a village row outer-joined to its reports and its commune's plan
    (:func:`with_reports`), as of ``today`` (a date, or a parameter such as ``TODAY``), with ``deadline``
    the province's default congress deadline. ``value`` writes a status in the SQL (a tally counts them
    as small integers: cheaper to compare per village than text). Built once per arguments (an
    expression is immutable; building it was a large part of a ``/trangthai`` step)."""
    e, c = ElectionReport, CongressReport
    chosen = and_(col(c.merged).is_(True), full_member_expr())
    plan = deadline_expr(deadline)
    return case(
        (col(e.id).is_(None), value("no_election")),
        *record_checks(today, value),
        (and_(chosen, recognised_expr(), approved_expr()), value("merged")),
        (chosen, value("merger_pending")),
        (col(c.merged).is_not(None), value("not_merged")),
        (and_(col(c.planned_date).is_not(None), col(c.planned_date) < today), value("congress_overdue")),
        (col(c.planned_date).is_not(None), value("congress_planned")),
        (and_(col(e.party_status) == const("member"), col(e.election_date) < plan, plan < today),
         value("congress_overdue")),
        (col(e.party_status) == const("member"), value("elected_member")),
        (col(e.party_status) == const("probationary"), value("elected_probationary")),
        else_=value("elected_non_member"),
    )


def record_checks(today: date | ColumnElement[date], value: Callable[[str], ColumnElement[Any]] = const,
                  ) -> list[tuple[ColumnElement[bool], ColumnElement[Any]]]:
    """What the vote-count record, the term and the commune decide before the party-side derivation: no
    head for the current term (the term ended, or the post fell vacant) → ``no_election``; an invalid
    result or a new vote ordered by the commune → ``revote_needed``."""
    e = ElectionReport
    return [(or_(and_(col(e.term_end).is_not(None), col(e.term_end) < today), col(e.vacated_on).is_not(None)),
             value("no_election")),
            (or_(col(e.valid).is_(False), col(e.recognition) == const("new_vote")), value("revote_needed"))]


_Ts = TypeVarTuple("_Ts")


def with_reports(stmt: Select[*_Ts]) -> Select[*_Ts]:
    """Outer-join a statement selecting from ``Unit`` (as the village) to its reports."""
    return (stmt.outerjoin(ElectionReport, col(ElectionReport.village_id) == Unit.id)
            .outerjoin(CongressReport, col(CongressReport.village_id) == Unit.id)
            .outerjoin(CongressPlan, col(CongressPlan.unit_id) == Unit.parent_id))


async def village_status(session: AsyncSession, village_id: int, today: date, deadline: date | None = None) -> str:
    stmt = with_reports(select(status_expr(today, deadline)).select_from(Unit)).where(col(Unit.id) == village_id)
    return (await session.execute(stmt)).scalar_one()
