"""Reminder rules: what is due for which village today, derived from the reports (DESIGN §2).

Each rule is a query over the villages and their reports; it stops matching as soon as the report
arrives. How often a village has been reminded is read back from the outbox (keys
``reminder:<rule>:<village_code>:<date>:a<account>``), so the scheduler remembers nothing itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any

from sqlalchemy import CompoundSelect, Date, Integer, SQLColumnExpression, String, and_, bindparam, case, func, literal
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import literal_column, null, or_, select, type_coerce, union_all
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import col

from models.election.record import BY_ELECTION_MONTHS
from models.election.tables import CongressReport, ElectionReport
from models.merger.rules import add_months
from models.merger.tables import CongressPlan
from models.progress.status import const, with_reports
from models.progress.tallies import Group, Tally, core_rows, village_groups_stmt
from models.typed_sql import AnySelect
from models.units.tables import Unit, UnitAncestor

# a village matching one of these is late (they exclude each other)
LATE_RULES = ("election", "revote", "by_election", "plan_congress", "congress_result")
# reminded to the head, then escalated (a vacant post's by-election is the commune's: models/vacancy.py)
REPEATING = ("election", "revote", "plan_congress", "congress_result", "probation", "admission")
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
    congress_deadline: date | None = None  # the province's default congress plan (a commune may set its own)
    # a new vote is late this many days after the invalid result or the commune's order: the commune's
    # plan comes at least 20 days before the village meeting (Nghị định 59/2023), so about a month
    revote_after_days: int = 30
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


def _villages(scope_id: int | None, period: str | None, *cols: SQLColumnExpression[Any]) -> AnySelect:
    stmt = select(col(Unit.id), col(Unit.code), col(Unit.full_name), *cols).where(col(Unit.level) == "village")
    if period is not None:
        stmt = stmt.where(col(Unit.period) == period)
    if scope_id is not None:
        stmt = stmt.join(UnitAncestor, and_(col(UnitAncestor.descendant_id) == Unit.id,
                                            col(UnitAncestor.ancestor_id) == scope_id))
    return stmt


def _no_congress() -> ColumnElement[bool]:
    c = CongressReport
    return or_(col(c.id).is_(None), and_(col(c.planned_date).is_(None), col(c.held_date).is_(None),
                                         col(c.merged).is_(None)))


def _head_in_office() -> ColumnElement[bool]:
    """The election on file stands and its head holds the post: not vacant, not invalid, no new vote
    ordered (those villages are late, if at all, for the new vote or the by-election)."""
    e = ElectionReport
    return and_(col(e.vacated_on).is_(None), col(e.valid).is_not(False),
                func.coalesce(col(e.recognition), const("")) != const("new_vote"))


def plan_deadline(rules: Rules) -> ColumnElement[date]:
    """A full-member head's branch must plan its congress by: the commune's plan, else the province's
    default — if the head was elected before it (``models.merger.rules.deadline_applies``: a deadline that
    passed before the head was elected could not be kept) — else ``plan_congress_after_days`` after the
    election, as before plans."""
    n = rules.plan_congress_after_days - 1
    elected = col(ElectionReport.election_date)
    fallback = add_days(elected, literal_column(str(int(n))))
    chosen: ColumnElement[date] = type_coerce(col(CongressPlan.deadline), Date)
    if rules.congress_deadline is not None:
        chosen = func.coalesce(chosen, literal_column(f"'{rules.congress_deadline.isoformat()}'", Date))
    return case((chosen > elected, chosen), else_=fallback)


def _by_election_due() -> ColumnElement[date]:
    """A vacant post's by-election is due 6 months after it fell vacant
    (``models.election.vacancy.by_election_due``)."""
    return add_months_sql(col(ElectionReport.vacated_on), BY_ELECTION_MONTHS)


def _revote_day() -> ColumnElement[date]:
    """When the village learnt it must vote again: the commune's order, else the invalid result's day."""
    e = ElectionReport
    return case((col(e.recognition) == const("new_vote"), func.coalesce(col(e.recognition_date), col(e.election_date))),
                else_=col(e.election_date))


def _election_day(rules: Rules) -> ColumnElement[date]:
    return func.coalesce(col(Unit.election_date), literal_column(f"'{rules.election_date.isoformat()}'", Date))


# how many days after its date each late rule starts to match
_GRACE = {"election": "election_grace_days", "plan_congress": "plan_congress_after_days",
          "congress_result": "congress_result_grace_days", "revote": "revote_after_days"}


def _cutoff(rule: str, rules: Rules, today: date | None) -> Any:
    """The last date (election day, election, planned congress) for which ``rule`` matches ``today``;
    without ``today``, a parameter ``<rule>_cutoff`` (see :func:`late_params`)."""
    if today is None:
        return bindparam(f"{rule}_cutoff", type_=Date)
    if rule in ("plan_congress", "by_election"):  # late the day after the deadline
        return today - timedelta(days=1)
    return today - timedelta(days=getattr(rules, _GRACE[rule]))


def late_params(rules: Rules, today: date) -> dict[str, date]:
    """The parameters of statements built with ``today=None``."""
    return {f"{rule}_cutoff": _cutoff(rule, rules, today) for rule in LATE_RULES}


def rule_condition(rule: str, rules: Rules, today: date | None) -> ColumnElement[bool]:
    """Whether ``rule`` matches today, over ``Unit`` (as the village) OUTER-joined to its election and
    congress reports: the one definition of each rule, for the per-rule queries and for the late
    villages' aggregate. ``today=None`` (late rules only) leaves the cut-off dates as parameters."""
    e, c = ElectionReport, CongressReport
    if rule == "election":
        return and_(col(e.id).is_(None), _election_day(rules) <= _cutoff(rule, rules, today))
    if rule == "revote":
        return and_(col(e.vacated_on).is_(None),
                    or_(col(e.valid).is_(False), col(e.recognition) == const("new_vote")),
                    _revote_day() <= _cutoff(rule, rules, today))
    if rule == "by_election":
        return and_(col(e.vacated_on).is_not(None), _by_election_due() <= _cutoff(rule, rules, today))
    if rule == "plan_congress":
        return and_(col(e.party_status) == const("member"), _head_in_office(), _no_congress(),
                    plan_deadline(rules) <= _cutoff(rule, rules, today))
    if rule == "congress_result":
        return and_(_head_in_office(), col(c.held_date).is_(None), col(c.planned_date) <= _cutoff(rule, rules, today))
    assert today is not None
    if rule == "congress_soon":
        days = [today + timedelta(days=d) for d in rules.congress_soon_days]
        return and_(col(c.held_date).is_(None), col(c.planned_date).in_(days))
    if rule == "admission":
        return and_(col(e.party_status) == const("non_member"), col(e.admission_planned_date) < today)
    if rule == "probation":
        # loose cut-off in SQL, exact month arithmetic in Python (see _due)
        cutoff = add_months(today + timedelta(days=rules.probation_notice_days), -rules.probation_months)
        return and_(col(e.party_status) == const("probationary"), col(e.party_date).is_not(None),
                    col(e.party_date) <= cutoff + timedelta(days=3), _no_congress())
    raise ValueError(f"unknown rule {rule}")


def rule_query(rule: str, rules: Rules, today: date, scope_id: int | None = None,
               period: str | None = None) -> AnySelect:
    """Villages matching ``rule`` today: (id, code, full_name, date column it is ordered by)."""
    e, c = ElectionReport, CongressReport
    day: SQLColumnExpression[date | None] = {
        "election": _election_day(rules), "revote": _revote_day(), "by_election": _by_election_due(),
        "plan_congress": plan_deadline(rules), "congress_soon": col(c.planned_date),
        "congress_result": col(c.planned_date), "probation": col(e.party_date),
        "admission": col(e.admission_planned_date)}[rule]
    stmt = _villages(scope_id, period, day.label("d"))
    if rule in ("plan_congress", "probation", "admission", "revote", "by_election"):
        stmt = stmt.join(e, col(e.village_id) == Unit.id).outerjoin(c, col(c.village_id) == Unit.id)
        if rule == "plan_congress":
            stmt = stmt.outerjoin(CongressPlan, col(CongressPlan.unit_id) == Unit.parent_id)
    elif rule == "election":
        stmt = stmt.outerjoin(e, col(e.village_id) == Unit.id)
    else:
        stmt = stmt.join(c, col(c.village_id) == Unit.id).outerjoin(e, col(e.village_id) == Unit.id)
    return stmt.where(rule_condition(rule, rules, today))


def _due(rule: str, rules: Rules, today: date, vid: int, code: str, name: str, d: date) -> Due | None:
    if rule == "election":
        return Due(rule, vid, code, name, since=d)
    if rule in ("plan_congress", "admission"):  # d: the deadline, or the planned admission
        return Due(rule, vid, code, name, since=d + timedelta(days=1), on=d)
    if rule == "revote":  # d: the invalid result or the order; late once the village had time to vote
        return Due(rule, vid, code, name, since=d + timedelta(days=rules.revote_after_days), on=d)
    if rule == "by_election":  # d: the by-election's deadline, 6 months after the post fell vacant
        return Due(rule, vid, code, name, since=d + timedelta(days=1), on=d)
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
        rows = await session.execute(rule_query(rule, rules, today, scope_id, period).order_by(col(Unit.code)))
        for vid, code, name, d in rows.all():
            due = _due(rule, rules, today, vid, code, name, d)
            if due is not None:
                out.append(due)
    return out


class add_days(FunctionElement[date]):
    """``add_days(d, n)``: the date ``n`` days after ``d`` (``n``: an integer ``literal_column``)."""

    type = Date()
    name = "add_days"
    inherit_cache = True


@compiles(add_days, "postgresql")
def _add_days_pg(element: add_days, compiler: Any, **kw: Any) -> str:
    d, n = (compiler.process(c, **kw) for c in element.clauses)
    return f"({d} + {n})"


@compiles(add_days, "sqlite")
def _add_days_sqlite(element: add_days, compiler: Any, **kw: Any) -> str:
    d, n = (compiler.process(c, **kw) for c in element.clauses)  # SQLite keeps dates as YYYY-MM-DD text
    return f"date({d}, '{int(n):+d} days')"


class add_months_sql(FunctionElement[date]):
    """``add_months_sql(d, n)``: ``models.merger.rules.add_months`` in SQL (the day clamped to the month's end)."""

    type = Date()
    name = "add_months_sql"
    inherit_cache = True

    def __init__(self, d: Any, months: int) -> None:
        super().__init__(d, literal_column(str(int(months))))


@compiles(add_months_sql, "postgresql")
def _add_months_pg(element: add_months_sql, compiler: Any, **kw: Any) -> str:
    d, n = (compiler.process(c, **kw) for c in element.clauses)
    return f"(({d}) + interval '{n} months')::date"


@compiles(add_months_sql, "sqlite")
def _add_months_sqlite(element: add_months_sql, compiler: Any, **kw: Any) -> str:
    d, n = (compiler.process(c, **kw) for c in element.clauses)  # '+n months' overflows into the next month
    return f"min(date({d}, '+{n} months'), date({d}, 'start of month', '+{int(n) + 1} months', '-1 day'))"


class day_key(FunctionElement[str]):
    """``day_key(d[, code])``: the date ``d`` as text of fixed width that sorts like the date, followed by
    ``code``, in binary (C) collation: one string that sorts like (date, code), for ``MIN`` per group and
    ``ORDER BY``. PostgreSQL writes the day number (``to_char`` cost 0.3 ms a province); SQLite keeps
    its dates as ``YYYY-MM-DD`` already."""

    type = String()
    name = "day_key"
    inherit_cache = True


@compiles(day_key, "postgresql")
def _day_key_pg(element: day_key, compiler: Any, **kw: Any) -> str:
    d, *code = (compiler.process(c, **kw) for c in element.clauses)
    return f"((({d}) - DATE '2000-01-01' + 1000000)::text{''.join(f' || {c}' for c in code)}) COLLATE \"C\""


@compiles(day_key, "sqlite")
def _day_key_sqlite(element: day_key, compiler: Any, **kw: Any) -> str:
    return "(" + " || ".join(compiler.process(c, **kw) for c in element.clauses) + ")"


def _late(rules: Rules, value: Callable[[str, SQLColumnExpression[date | None], int], Any]) -> ColumnElement[Any]:
    """A CASE over the late rules (they exclude each other), cut-off dates left as parameters:
    ``value(rule, day, offset)`` for the rule a village matches, NULL when it is not late. ``day`` +
    ``offset`` days is when it became late (``Due.since``, as in :func:`_due`)."""
    c = CongressReport
    days: dict[str, tuple[SQLColumnExpression[date | None], int]] = {
        "election": (_election_day(rules), 0),
        "revote": (_revote_day(), rules.revote_after_days),
        "by_election": (_by_election_due(), 1),
        "plan_congress": (plan_deadline(rules), 1),
        "congress_result": (col(c.planned_date), 0)}
    return case(*((rule_condition(r, rules, None), value(r, *days[r])) for r in LATE_RULES))


def _late_key(rules: Rules) -> ColumnElement[str]:
    """Per village: (since, code) as one sortable string if it is late, else NULL."""
    return _late(rules, lambda _r, day, n: day_key(add_days(day, literal_column(str(int(n)))) if n else day,
                                                    col(Unit.code)))


@cache
def late_tally(rules: Rules) -> Tally:
    """Per group: how many villages are late and the oldest one's key; how many are late since the
    campaign's election day or before (in a campaign, most of them) and the newest such key
    (parameters: :func:`late_params`)."""
    def aggregates(c: Any) -> list[ColumnElement[Any]]:
        early = c.late_key < day_key(literal_column(f"'{rules.election_date + timedelta(days=1)}'", Date))
        return [func.count(c.late_key), func.min(c.late_key), func.count().filter(early),
                func.max(c.late_key).filter(early)]
    return Tally((_late_key(rules).label("late_key"),), aggregates)


@cache
def groups_with_late_stmt(tallies: tuple[Tally, ...], rules: Rules) -> CompoundSelect[*tuple[Any, ...]]:
    """:func:`models.progress.status.village_groups_stmt` for ``tallies`` (the last one a :func:`late_tally`)
    and, in the same statement, the ``limit`` oldest late villages under the scope. Rows:
    ``(0, group…, aggregates…)`` then ``(1, late village…)``.

    Only the villages of a few groups are read again, not the whole scope. Each group's oldest late
    village is a real one, so the ``limit`` oldest overall lie in the ``limit`` groups whose oldest is
    oldest (any other group has ``limit`` older villages elsewhere). And the groups' villages late since
    the election day, counted newest first, give ``limit`` real ones no newer than some key ``bound``: a
    group whose oldest is newer cannot hold any of the answer. In a campaign, that leaves a group or two.
    """
    g = village_groups_stmt(tallies).cte("g")
    n_late, oldest, n_early, newest_early = list(g.c)[-4:]
    limit = bindparam("limit", type_=Integer)
    run = select(newest_early, func.sum(n_early).over(order_by=newest_early).label("n")).where(n_early > 0).subquery()
    bound = select(func.min(run.c[0])).where(run.c.n >= limit).scalar_subquery()
    top = select(g.c.key).where(n_late > 0, oldest <= func.coalesce(bound, oldest)).order_by(oldest).limit(limit)
    key = _late_key(rules).label("late_key")
    # (the level is tested above the fence, so that SQLite reads the groups' villages by parent)
    candidates = (select(col(Unit.id), col(Unit.level), key)
                  .outerjoin(ElectionReport, col(ElectionReport.village_id) == Unit.id)
                  .outerjoin(CongressReport, col(CongressReport.village_id) == Unit.id)
                  .outerjoin(CongressPlan, col(CongressPlan.unit_id) == Unit.parent_id)
                  .where(col(Unit.parent_id).in_(top)).offset(0).subquery("candidates"))
    late = (select(candidates.c.id).where(candidates.c.level == const("village"), candidates.c.late_key.is_not(None))
            .order_by(candidates.c.late_key).limit(limit).subquery("late"))
    parent = aliased(Unit, name="lp")
    aggregates = list(g.c)[4:]
    return union_all(
        select(literal(0), *list(g.c)[:4], type_coerce(null(), String), type_coerce(null(), Date),
               type_coerce(null(), String), *aggregates),
        with_reports(select(literal(1), col(Unit.id), null(), col(Unit.code), col(Unit.full_name),
                            _late(rules, lambda r, _day, _n: const(r)), _late(rules, lambda _r, day, _n: day),
                            col(parent.full_name), *(null() for _ in aggregates))
                     .select_from(late).join(Unit, col(Unit.id) == late.c.id))
        .join(parent, col(parent.id) == Unit.parent_id))


async def groups_with_late(session: AsyncSession, scope_id: int, tallies: tuple[Tally, ...], rules: Rules, today: date,
                           limit: int, params: dict[str, Any]) -> tuple[list[Group], list[tuple[Due, str]]]:
    """Run :func:`groups_with_late_stmt`: the groups, and the oldest late villages with their parents' names."""
    rows = await core_rows(session, groups_with_late_stmt(tallies, rules),
                           {"scope_id": scope_id, "limit": limit, **late_params(rules, today), **params})
    groups, late = [], []
    for row in rows:
        if not row[0]:
            groups.append(Group(row[1], row[2], row[3], row[4], row[8:]))
        elif (due := _due(row[5], rules, today, row[1], row[3], row[4], row[6])) is not None:
            late.append((due, row[7]))
    late.sort(key=lambda x: (x[0].since, x[0].village_code))
    return groups, late


async def late_villages(session: AsyncSession, rules: Rules, today: date, scope_id: int,
                        limit: int = 20) -> tuple[list[Due], int]:
    """The late villages under ``scope_id``, oldest first (at most ``limit``), and how many in all.

    One statement (:func:`groups_with_late_stmt`) that never loads the scope's villages: the late
    villages counted per group, each group's oldest found, and only the groups holding the ``limit``
    oldest listed."""
    groups, late = await groups_with_late(session, scope_id, (late_tally(rules),), rules, today, limit, {})
    return [due for due, _ in late], sum(int(g.values[0]) for g in groups)
