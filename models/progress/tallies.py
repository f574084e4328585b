"""Progress figures: the villages under a unit counted by status (``models.progress.status``) and party
status. The figures under a unit come from :func:`village_groups_stmt`: the villages under it, reached
through one closure range and grouped by parent like the bare aggregate, each group's counts rolled up
to the unit's children.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import Date, Executable, Integer, Select, and_, bindparam, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import literal_column, select
from sqlmodel import col

from models.election.tables import PARTY_STATUSES, ElectionReport
from models.progress.status import ELECTED, STATUSES, const, status_expr, with_reports
from models.typed_sql import AnyRow, AnySelect, id_col
from models.units.tables import LEVELS, Unit, UnitAncestor


@dataclass(slots=True)
class UnitProgress:
    """Counts for the villages under one unit."""

    unit_id: int
    code: str = ""
    name: str = ""
    villages: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    def count(self, *statuses: str) -> int:
        get = self.by_status.get
        return sum([get(s, 0) for s in statuses])

    @property
    def elected(self) -> int:
        return sum([n for s, n in self.by_status.items() if s in ELECTED])

    @property
    def merged(self) -> int:
        return self.by_status.get("merged", 0)

    @property
    def overdue(self) -> int:
        return self.by_status.get("congress_overdue", 0)

    def add(self, other: UnitProgress) -> None:
        self.villages += other.villages
        for s, n in other.by_status.items():
            self.by_status[s] = self.by_status.get(s, 0) + n


# Statements used on every digest are built once, with these parameters supplied at execution:
# building and hashing a statement of this size costs about as much as running it for a province.
# The scope is written into the SQL text (``literal_execute``): PostgreSQL plans a prepared statement
# generically after five runs, and a generic ``ancestor_id = $1`` (an average of four descendants
# instead of the 80,000 under the nation) picks nested loops that are several times slower.
TODAY = bindparam("today", type_=Date)
SCOPE = bindparam("scope_id", type_=Integer, literal_execute=True)


@dataclass(frozen=True, eq=False)
class Tally:
    """What to count over the villages of a scope: ``columns``, computed once per village (expressions
    over ``Unit`` as the village, outer-joined to its reports), and ``aggregates``, computed per group
    over those columns (given the columns of the per-village rows)."""

    columns: tuple[ColumnElement[Any], ...]
    aggregates: Callable[[Any], list[ColumnElement[Any]]]


@cache
def status_tally(deadline: date | None = None) -> Tally:
    """The number of villages, then how many have each status (``STATUSES`` order), as of ``TODAY``
    (``deadline``: the province's default congress deadline)."""
    return Tally((status_expr(TODAY, deadline, status_code).label("status"),),
                 lambda c: [func.count(), *(func.count().filter(c.status == status_code(s)) for s in STATUSES)])


def status_code(status: str) -> ColumnElement[int]:
    """A status as a small integer in the SQL (its place in ``STATUSES``)."""
    return literal_column(str(STATUSES.index(status)), Integer)


@cache
def party_tally() -> Tally:
    """How many heads are full members, probationary, not members (``PARTY_STATUSES`` order)."""
    return Tally((col(ElectionReport.party_status).label("party"),),
                 lambda c: [func.count().filter(c.party == const(p)) for p in PARTY_STATUSES])


class Group(NamedTuple):
    """The villages under a scope that share a parent (the scope itself, for villages directly under it)."""

    key: int  # the parent's id
    key_parent: int | None  # the parent's parent
    code: str  # the parent's code and name
    name: str
    values: Sequence[Any]  # the tallies' aggregates, in order


@cache
def village_groups_stmt(tallies: tuple[Tally, ...]) -> AnySelect:
    """One aggregate query over the villages under ``SCOPE``, grouped by parent, with the ``tallies``
    computed per group, and each parent's own parent, code and name.

    The villages are reached through ONE closure range, ``ancestor_id = scope`` (every unit under the
    scope, the scope included, each a possible parent), joined to the villages on ``parent_id``: the
    bare aggregate's join and grouping, restricted to the scope. The per-village columns are computed
    once, below an ``OFFSET 0`` fence, and counted above it."""
    s = aliased(UnitAncestor, name="s")
    v = with_reports(
        select(col(Unit.parent_id).label("key"), *(c for t in tallies for c in t.columns))
        .select_from(s).join(Unit, col(Unit.parent_id) == s.descendant_id)
    ).where(col(s.ancestor_id) == SCOPE, col(Unit.level) == const("village")).offset(0).subquery("v")
    aggregates = [agg for t in tallies for agg in t.aggregates(v.c)]
    g = select(v.c.key, *(agg.label(f"a{i}") for i, agg in enumerate(aggregates))).group_by(v.c.key).subquery("g")
    # a village's parent is never a village: saying so lets PostgreSQL read the few thousand units
    # above the villages (index on level) instead of hashing the whole unit table
    parent = aliased(Unit, name="p")
    return (select(g.c.key, col(parent.parent_id), col(parent.code), col(parent.full_name), *list(g.c)[1:])
            .join(parent, and_(col(parent.id) == g.c.key,
                               col(parent.level).in_([const(level) for level in LEVELS[:-1]]))))


async def village_groups(session: AsyncSession, scope_id: int, tallies: tuple[Tally, ...],
                         params: Mapping[str, Any]) -> list[Group]:
    """Run :func:`village_groups_stmt` for ``scope_id``; ``params`` supplies the tallies' parameters."""
    rows = await core_rows(session, village_groups_stmt(tallies), {"scope_id": scope_id, **params})
    return [Group(row[0], row[1], row[2], row[3], row[4:]) for row in rows]


async def core_rows(session: AsyncSession, stmt: Executable, params: Mapping[str, Any]) -> Sequence[AnyRow]:
    """Run a Core statement on the session's connection (no ORM result processing)."""
    return (await (await session.connection()).execute(stmt, params)).all()


@cache
def _holders_stmt() -> Select[int, int, str, str]:
    """The unit directly under ``SCOPE`` above each of ``ids``. Read from the ids' few ancestors (closure
    index on the descendant), not from the children's whole subtrees: ``+ 0`` keeps the planner off the
    index on ``parent_id`` (PostgreSQL drove the join from the children and filtered every descendant of
    each, 6 ms for the nation's 34 provinces; now 0.1 ms)."""
    up, ch = aliased(UnitAncestor, name="up"), aliased(Unit, name="ch")
    return (select(col(up.descendant_id), id_col(ch.id), col(ch.code), col(ch.full_name))
            .join(ch, col(ch.id) == up.ancestor_id)
            .where(col(up.descendant_id).in_(bindparam("ids", expanding=True)), col(ch.parent_id) + 0 == SCOPE))


@cache
def _direct_stmt(deadline: date | None) -> Select[int, str, str, str]:
    return with_reports(
        select(id_col(Unit.id), col(Unit.code), col(Unit.full_name), status_expr(TODAY, deadline)).select_from(Unit)
    ).where(col(Unit.parent_id) == SCOPE, col(Unit.level) == const("village"))


async def lines_by_child(session: AsyncSession, scope_id: int, groups: Sequence[Group],
                         today: date, deadline: date | None = None) -> list[UnitProgress]:
    """Roll groups whose first values are a :func:`status_tally` up to one line per unit directly under
    ``scope_id`` (with its code and name), sorted by code. A group's parent is such a unit, or lies
    under one: the one holding the parent's parent (a query, for a scope two levels or more above the
    parents of its villages). Villages directly under the scope are lines of their own (a query)."""
    lines: dict[int, UnitProgress] = {}
    holder: dict[int, int] = {}  # parent's parent → line
    params = {"scope_id": scope_id, "today": today}
    # (only the root has no parent: a group keyed by it is the scope's own, handled apart below)
    if deeper := sorted({p for g in groups if g.key != scope_id and (p := g.key_parent) is not None and p != scope_id}):
        for uid, ch_id, code, name in await core_rows(session, _holders_stmt(), {**params, "ids": deeper}):
            lines.setdefault(ch_id, UnitProgress(unit_id=ch_id, code=code, name=name))
            holder[uid] = ch_id
    rows: dict[int, list[Sequence[int]]] = {}  # line → the status counts of its groups
    width = len(STATUSES) + 1
    for g in groups:
        if g.key == scope_id:
            for uid, code, name, status in await core_rows(session, _direct_stmt(deadline), params):
                lines[uid] = UnitProgress(unit_id=uid, code=code, name=name, villages=1, by_status={status: 1})
            continue
        if g.key_parent == scope_id:
            uid = g.key
            if uid not in lines:
                lines[uid] = UnitProgress(unit_id=uid, code=g.code, name=g.name)
        else:
            assert g.key_parent is not None  # (see deeper)
            uid = holder[g.key_parent]
        rows.setdefault(uid, []).append(g.values[:width])
    for uid, counts in rows.items():
        n, *by_status = counts[0] if len(counts) == 1 else map(sum, zip(*counts, strict=True))
        lines[uid].villages = n
        lines[uid].by_status = {s: c for s, c in zip(STATUSES, by_status, strict=True) if c}
    return sorted(lines.values(), key=lambda p: p.code)


async def progress_by_child(session: AsyncSession, unit_id: int, today: date,
                            deadline: date | None = None) -> list[UnitProgress]:
    """One :class:`UnitProgress` per unit directly under ``unit_id`` (a village under a commune
    counts as its own line), from one aggregate query (:func:`village_groups_stmt`)."""
    groups = await village_groups(session, unit_id, (status_tally(deadline),), {"today": today})
    return await lines_by_child(session, unit_id, groups, today, deadline)


def total(lines: list[UnitProgress], unit_id: int) -> UnitProgress:
    out = UnitProgress(unit_id=unit_id)
    for line in lines:
        out.add(line)
    return out


async def party_status_counts(session: AsyncSession, unit_id: int) -> dict[str, int]:
    """How many elected heads under ``unit_id`` are full members, probationary, or not members."""
    stmt = (select(col(ElectionReport.party_status), func.count())
            .join(UnitAncestor, and_(col(UnitAncestor.descendant_id) == ElectionReport.village_id,
                                     col(UnitAncestor.ancestor_id) == unit_id))
            .group_by(col(ElectionReport.party_status)))
    return {status: n for status, n in (await session.execute(stmt)).all()}
