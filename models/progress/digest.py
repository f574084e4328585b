"""The figures of a briefing digest for one unit, and the snapshots that say what changed since.

Three queries, nothing loads the tree or the villages into memory: ONE aggregate over the villages
under the unit (:func:`models.progress.status.village_groups_stmt`) counts, per group of villages, the
statuses, the heads' party statuses and the late villages (with the oldest one); then the lines per
unit directly under it, with their names; then the oldest late villages, from the few groups that
hold them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Date, String, and_, bindparam, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from models.election.recognition import TERM_NEAR_DAYS
from models.election.tables import PARTY_STATUSES, CongressReport, ElectionReport
from models.merger.rules import SELF_APPROVED, eligible_from
from models.progress.status import ELECTED, HELD, STATUSES, const
from models.progress.tables import DigestSnapshot
from models.progress.tallies import (
    TODAY,
    Tally,
    UnitProgress,
    lines_by_child,
    party_tally,
    status_code,
    status_tally,
    total,
)
from models.reminders.rules import Due, Rules, groups_with_late, late_tally
from models.typed_sql import id_col
from models.units.tables import Unit

# the figures kept in a snapshot and compared with the previous digest, in display order
TRACKED = ("elected", "member", "planned", "held", "merged", "overdue", "late")


@dataclass(slots=True)
class DigestFigures:
    unit_id: int
    unit_code: str
    unit_name: str
    today: date
    villages: int = 0
    elected: int = 0
    by_party: dict[str, int] = field(default_factory=dict)
    planned: int = 0  # congress date set, in the future
    overdue: int = 0  # congress date passed, no result
    held: int = 0  # congress held (merged or not)
    merged: int = 0
    late_total: int = 0
    late: list[Due] = field(default_factory=list)
    late_parent: dict[int, str] = field(default_factory=dict)  # late village id → its commune's name
    children: list[UnitProgress] = field(default_factory=list)
    level: str = ""  # the unit's level (a commune's digest is one phone screen)
    eligible: list[tuple[date, int]] = field(default_factory=list)  # probationary heads: eligible from → how many
    admission_planned: int = 0  # non-member heads with an admission date planned
    revote: int = 0  # invalid results (or a new vote ordered): the village votes again
    pending_recognition: int = 0  # valid results the commune has not yet recognised
    terms_ending: int = 0  # terms ending within 90 days: the next election is near
    # the heads in office by party status (``by_party``: the same, summed), and the full members split by
    # status: every full-member head in exactly one of MEMBER_BUCKETS
    members: dict[str, int] = field(default_factory=dict)
    merger_no_recognition: int = 0  # merger_pending: the commune has not recognised the head's election
    merger_no_approval: int = 0  # merger_pending: the Party committee has not approved the secretary

    @staticmethod
    def pct(part: int, whole: int) -> float:
        return 100.0 * part / whole if whole else 0.0

    @property
    def elected_pct(self) -> float:
        return self.pct(self.elected, self.villages)

    @property
    def merged_pct(self) -> float:
        return self.pct(self.merged, self.villages)

    def tracked(self) -> dict[str, int]:
        return {"villages": self.villages, "elected": self.elected, "member": self.by_party.get("member", 0),
                "planned": self.planned, "held": self.held, "merged": self.merged, "overdue": self.overdue,
                "late": self.late_total}


def worst_first(children: list[UnitProgress]) -> list[UnitProgress]:
    """Least elected share first, then least merged share, then code."""
    def key(p: UnitProgress) -> tuple[float, float, str]:
        n = p.villages or 1
        return (p.elected / n, p.merged / n, p.code)

    return sorted(children, key=key)


TERM_NEAR = bindparam("term_near", type_=Date)
# where a full-member head in office stands, one bucket each (their sum: the full-member heads)
MEMBER_BUCKETS = ("merged", "merger_pending", "not_merged", "congress_planned", "congress_overdue", "elected_member")


@cache
def member_tally() -> Tally:
    """Per group: the full-member heads in office by status (:data:`MEMBER_BUCKETS`), the probationary
    and the non-member heads in office (``PARTY_STATUSES`` order after ``member``), and the pending
    mergers waiting for the recognition and for the approval. Its aggregates read the ``status`` and
    ``party`` columns of :func:`status_tally` and :func:`party_tally`, given before it in the same tallies."""
    e, c = ElectionReport, CongressReport
    no_recognition = case((func.coalesce(col(e.recognition), const("")) != const("recognised"), 1))
    no_approval = case((and_(col(c.approval_date).is_(None),
                             func.coalesce(col(c.method), const("")).not_in([const(m) for m in SELF_APPROVED])), 1))

    def aggregates(v: Any) -> list[ColumnElement[Any]]:
        in_office = v.status.in_([status_code(s) for s in STATUSES if s in ELECTED])
        pending = v.status == status_code("merger_pending")
        return [*(func.count().filter(and_(v.party == const("member"), v.status == status_code(s)))
                  for s in MEMBER_BUCKETS),
                *(func.count().filter(and_(v.party == const(p), in_office)) for p in PARTY_STATUSES[1:]),
                func.count().filter(and_(pending, v.no_recognition == 1)),
                func.count().filter(and_(pending, v.no_approval == 1))]

    return Tally((no_recognition.label("no_recognition"), no_approval.label("no_approval")), aggregates)


@cache
def record_tally() -> Tally:
    """Per group, in the digest's one aggregate (not one more query each over the scope's reports): valid
    results awaiting the commune's recognition, terms ending by ``term_near`` (today +
    :data:`TERM_NEAR_DAYS`), non-member heads with an admission planned
    (:func:`models.election.recognition.record_counts`, :func:`models.merger.digest.party_breakdown`), and
    the probationary heads' admission dates, joined in one text (a few per group; counted by
    :func:`eligible_counts`)."""
    e = ElectionReport
    live = and_(col(e.vacated_on).is_(None), col(e.valid).is_not(False))
    pending = case((and_(live, col(e.recognition).is_(None), col(e.reported_on).is_not(None)), 1))
    term = case((live, col(e.term_end)))
    planned = case((and_(col(e.party_status) == const("non_member"), col(e.admission_planned_date).is_not(None)), 1))
    admitted = case((and_(col(e.party_status) == const("probationary"), col(e.party_date).is_not(None)),
                     cast(col(e.party_date), String)))
    return Tally((pending.label("pending"), term.label("term_live"), planned.label("planned"),
                  admitted.label("admitted")),
                 lambda c: [func.count(c.pending),
                            func.count().filter(and_(c.term_live >= TODAY, c.term_live <= TERM_NEAR)),
                            func.count(c.planned), func.aggregate_strings(c.admitted, ",")])


def eligible_counts(joined: list[str | None]) -> list[tuple[date, int]]:
    """Eligibility date → how many probationary heads, earliest first, from the groups' admission dates
    (:func:`record_tally`), as :func:`models.merger.digest.party_breakdown` counts them."""
    admitted = Counter(d for text in joined if text for d in text.split(","))
    eligible: Counter[date] = Counter()
    for day, n in admitted.items():
        when = eligible_from("probationary", date.fromisoformat(day[:10]))
        if when is not None:
            eligible[when] += n
    return sorted(eligible.items())


async def compute(session: AsyncSession, unit: Unit, rules: Rules, today: date,
                  late_limit: int = 15) -> DigestFigures:
    """All the figures of the digest for ``unit`` (any level) as of ``today``."""
    assert unit.id is not None
    deadline = rules.congress_deadline
    tallies = (status_tally(deadline), party_tally(), record_tally(), member_tally(), late_tally(rules))
    groups, late = await groups_with_late(session, unit.id, tallies, rules, today, late_limit,
                                          {"today": today, "term_near": today + timedelta(days=TERM_NEAR_DAYS)})
    children = await lines_by_child(session, unit.id, groups, today, deadline)
    whole = total(children, unit.id)
    record_at = len(STATUSES) + 1 + len(PARTY_STATUSES)
    member_at = record_at + 4
    late_at = member_at + len(MEMBER_BUCKETS) + len(PARTY_STATUSES) - 1 + 2

    def summed(i: int) -> int:
        return sum(int(g.values[i]) for g in groups)

    members = {s: summed(member_at + i) for i, s in enumerate(MEMBER_BUCKETS)}
    others = {p: summed(member_at + len(MEMBER_BUCKETS) + i) for i, p in enumerate(PARTY_STATUSES[1:])}
    by_party = {"member": sum(members.values()), **others}
    figures = DigestFigures(
        unit_id=unit.id, unit_code=unit.code, unit_name=unit.full_name or unit.name, today=today,
        villages=whole.villages, elected=whole.elected, by_party={p: n for p, n in by_party.items() if n},
        planned=whole.count("congress_planned"), overdue=whole.overdue,
        held=whole.count(*HELD), merged=whole.merged,
        late_total=summed(late_at), late=[due for due, _ in late],
        late_parent={due.village_id: name for due, name in late}, children=worst_first(children),
        level=unit.level, eligible=eligible_counts([g.values[record_at + 3] for g in groups]),
        admission_planned=summed(record_at + 2),
    )
    figures.revote = whole.count("revote_needed")
    figures.pending_recognition = summed(record_at)
    figures.terms_ending = summed(record_at + 1)
    figures.members = members
    extra = member_at + len(MEMBER_BUCKETS) + len(PARTY_STATUSES) - 1
    figures.merger_no_recognition, figures.merger_no_approval = summed(extra), summed(extra + 1)
    return figures


async def parent_names(session: AsyncSession, unit_ids: list[int]) -> dict[int, str]:
    """unit id → the full name of its parent (for a handful of units: the listed late villages)."""
    if not unit_ids:
        return {}
    parent = aliased(Unit)
    rows = await session.execute(select(id_col(Unit.id), col(parent.full_name))
                                 .join(parent, col(parent.id) == Unit.parent_id).where(col(Unit.id).in_(unit_ids)))
    return {uid: name for uid, name in rows.all()}


async def head_names(session: AsyncSession, village_ids: list[int]) -> dict[int, str]:
    """village id → the elected head's name on file (the late list searches by it)."""
    if not village_ids:
        return {}
    rows = await session.execute(select(col(ElectionReport.village_id), col(ElectionReport.head_name))
                                 .where(col(ElectionReport.village_id).in_(village_ids)))
    return {vid: name for vid, name in rows.all() if name}


async def previous_snapshot(session: AsyncSession, unit_id: int, account_id: int | None) -> DigestSnapshot | None:
    stmt = (select(DigestSnapshot).where(col(DigestSnapshot.unit_id) == unit_id)
            .order_by(col(DigestSnapshot.created_at).desc(), col(DigestSnapshot.id).desc()).limit(1))
    stmt = stmt.where(col(DigestSnapshot.account_id) == account_id) if account_id is not None else stmt.where(
        col(DigestSnapshot.account_id).is_(None))
    return (await session.execute(stmt)).scalar_one_or_none()


def changes(figures: DigestFigures, previous: DigestSnapshot | None) -> dict[str, int] | None:
    """Tracked figure → difference since the previous snapshot (non-zero only); None without one."""
    if previous is None:
        return None
    now = figures.tracked()
    before: dict[str, Any] = previous.figures or {}
    return {k: now[k] - int(before.get(k, 0)) for k in TRACKED if now[k] != int(before.get(k, 0))}


async def save_snapshot(session: AsyncSession, figures: DigestFigures, account_id: int | None, period_key: str,
                        now: datetime) -> DigestSnapshot:
    snap = DigestSnapshot(unit_id=figures.unit_id, account_id=account_id, period_key=period_key,
                          figures=figures.tracked(), created_at=now)
    session.add(snap)
    await session.flush()
    return snap
