"""Village status, derived from reports in one place (DESIGN §3), and progress figures.

The status is a SQL expression, so that a digest over 80,000 villages is one aggregate query and a
single village's status is the same expression evaluated for one row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import String, and_, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from models.tables import CongressReport, ElectionReport, Unit, UnitAncestor

STATUSES = ("no_election", "elected_non_member", "elected_probationary", "elected_member",
            "congress_planned", "congress_overdue", "merged", "not_merged")
ELECTED = frozenset(STATUSES[1:])


def status_expr(today: date) -> ColumnElement[str]:
    """The status of a village row outer-joined to its election and congress reports."""
    e, c = ElectionReport, CongressReport
    return case(
        (e.id.is_(None), literal("no_election", String)),  # type: ignore[union-attr]
        (and_(c.held_date.is_not(None), c.merged.is_(True)), literal("merged", String)),  # type: ignore[union-attr, attr-defined]
        (c.held_date.is_not(None), literal("not_merged", String)),  # type: ignore[union-attr]
        (and_(c.planned_date.is_not(None), c.planned_date < today), literal("congress_overdue", String)),  # type: ignore[union-attr, operator]
        (c.planned_date.is_not(None), literal("congress_planned", String)),  # type: ignore[union-attr]
        (e.party_status == "member", literal("elected_member", String)),
        (e.party_status == "probationary", literal("elected_probationary", String)),
        else_=literal("elected_non_member", String),
    )


def with_reports(stmt):  # type: ignore[no-untyped-def]
    """Outer-join a statement selecting from ``Unit`` (as the village) to its reports."""
    return (stmt.outerjoin(ElectionReport, ElectionReport.village_id == Unit.id)
            .outerjoin(CongressReport, CongressReport.village_id == Unit.id))


async def village_status(session: AsyncSession, village_id: int, today: date) -> str:
    stmt = with_reports(select(status_expr(today)).select_from(Unit)).where(Unit.id == village_id)
    return (await session.execute(stmt)).scalar_one()


@dataclass(slots=True)
class UnitProgress:
    """Counts for the villages under one unit."""

    unit_id: int
    code: str = ""
    name: str = ""
    villages: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    def count(self, *statuses: str) -> int:
        return sum(self.by_status.get(s, 0) for s in statuses)

    @property
    def elected(self) -> int:
        return self.count(*ELECTED)

    @property
    def merged(self) -> int:
        return self.count("merged")

    @property
    def overdue(self) -> int:
        return self.count("congress_overdue")

    def add(self, other: UnitProgress) -> None:
        self.villages += other.villages
        for s, n in other.by_status.items():
            self.by_status[s] = self.by_status.get(s, 0) + n


async def progress_by_child(session: AsyncSession, unit_id: int, today: date) -> list[UnitProgress]:
    """One :class:`UnitProgress` per unit directly under ``unit_id`` (a village under a commune
    counts as its own line), from one aggregate query over the closure table."""
    top = aliased(UnitAncestor)
    child = aliased(UnitAncestor)
    status = status_expr(today).label("status")
    stmt = with_reports(
        select(child.ancestor_id, status, func.count())
        .select_from(Unit)
        .join(top, and_(top.descendant_id == Unit.id, top.ancestor_id == unit_id))
        .join(child, and_(child.descendant_id == Unit.id, child.distance == top.distance - 1))
    ).where(Unit.level == "village").group_by(child.ancestor_id, status)
    lines: dict[int, UnitProgress] = {}
    for child_id, st, n in (await session.execute(stmt)).all():
        p = lines.setdefault(child_id, UnitProgress(unit_id=child_id))
        p.by_status[st] = p.by_status.get(st, 0) + n
        p.villages += n
    if lines:
        names = await session.execute(select(Unit.id, Unit.code, Unit.full_name).where(Unit.id.in_(list(lines))))  # type: ignore[union-attr]
        for uid, code, name in names.all():
            lines[uid].code, lines[uid].name = code, name
    return sorted(lines.values(), key=lambda p: p.code)


def total(lines: list[UnitProgress], unit_id: int) -> UnitProgress:
    out = UnitProgress(unit_id=unit_id)
    for line in lines:
        out.add(line)
    return out


EXPORT_COLUMNS = ("province_code", "district_code", "commune_code", "commune_name", "village_code",
                  "village_name", "status", "election_date", "head_name", "head_party_status", "votes_for",
                  "valid_ballots", "roll", "congress_planned_date", "congress_held_date", "secretary_name",
                  "merged", "updated_at")


def _ancestor_code(level: str):  # type: ignore[no-untyped-def]
    a, u = aliased(UnitAncestor), aliased(Unit)
    return (select(u.code).join(a, a.ancestor_id == u.id)
            .where(a.descendant_id == Unit.id, u.level == level).limit(1).scalar_subquery())


async def export_rows(session: AsyncSession, period: str, today: date,
                      scope_id: int | None = None) -> AsyncIterator[dict[str, str]]:
    """One row per village (DESIGN §4), streamed, optionally only under ``scope_id``."""
    commune = aliased(Unit)
    e, c = ElectionReport, CongressReport
    stmt = with_reports(
        select(_ancestor_code("province"), _ancestor_code("district"), commune.code, commune.full_name,
               Unit.code, Unit.full_name, status_expr(today), e.election_date, e.head_name, e.party_status,
               e.votes_for, e.valid_ballots, e.roll, c.planned_date, c.held_date, c.secretary_name, c.merged,
               e.updated_at, c.updated_at)
        .select_from(Unit).join(commune, commune.id == Unit.parent_id)
    ).where(Unit.period == period, Unit.level == "village").order_by(commune.code, Unit.code)
    if scope_id is not None:
        stmt = stmt.join(UnitAncestor, and_(UnitAncestor.descendant_id == Unit.id,
                                            UnitAncestor.ancestor_id == scope_id))
    result = await session.stream(stmt)
    async for row in result:
        *values, e_upd, c_upd = row
        updated = max((d for d in (e_upd, c_upd) if d is not None), default=None)
        out = {k: _cell(v) for k, v in zip(EXPORT_COLUMNS[:-1], values, strict=True)}
        out["updated_at"] = updated.isoformat(timespec="seconds") if updated else ""
        yield out


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


async def party_status_counts(session: AsyncSession, unit_id: int) -> dict[str, int]:
    """How many elected heads under ``unit_id`` are full members, probationary, or not members."""
    stmt = (select(ElectionReport.party_status, func.count())
            .join(UnitAncestor, and_(UnitAncestor.descendant_id == ElectionReport.village_id,
                                     UnitAncestor.ancestor_id == unit_id))
            .group_by(ElectionReport.party_status))
    return {status: n for status, n in (await session.execute(stmt)).all()}
