"""The export's rows (DESIGN §4), driven by ONE column list: each :class:`ExportColumn` names its column,
gives its SQL expression, its kind (how a cell is written), its XLSX width and the catalog key of its
Vietnamese header. A new column is one entry, appended after the fixed ones (§4 fixes their order).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple, TypeAlias

from sqlalchemy import String, and_, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import ScalarSelect, Subquery
from sqlmodel import col

from models.election.head import head_name, in_office, interim_head
from models.election.tables import CongressReport, ElectionReport
from models.merger.rules import CHOSEN, SELF_APPROVED, eligible_from
from models.progress.status import const, status_expr, with_reports
from models.units.tables import Unit, UnitAncestor

SqlValue: TypeAlias = "ColumnElement[Any] | Mapped[Any] | ScalarSelect[Any]"
BATCH = 1000  # export rows fetched at a time
KINDS = ("text", "int", "date", "datetime", "yes_no")


class Sources(NamedTuple):
    """What a column's SQL may read beside ``Unit`` (the village) and its reports."""

    commune: Any  # aliased(Unit)
    province: Subquery
    district: Subquery
    today: date
    deadline: date | None


@dataclass(frozen=True, slots=True)
class ExportColumn:
    """``name`` (the CSV header), ``sql`` (its value per village), ``kind`` (:data:`KINDS`), ``width`` in
    the XLSX, ``words``: the catalog table that puts a code in words in the XLSX (``status`` →
    ``status.<code>``), ``header``: the catalog key of the Vietnamese header (default ``export.<name>``),
    ``post``: a conversion in Python of the value read (one SQL cannot do the same on both databases)."""

    name: str
    sql: Callable[[Sources], SqlValue]
    kind: str = "text"
    width: int = 14
    words: str | None = None
    header: str = ""
    post: Callable[[Any], Any] | None = None

    @property
    def header_key(self) -> str:
        return self.header or f"export.{self.name}"


def _updated_at(s: Sources) -> SqlValue:
    e, c = col(ElectionReport.updated_at), col(CongressReport.updated_at)
    return case((c.is_(None), e), (e.is_(None), c), (e >= c, e), else_=c)


def _approval(s: Sources) -> SqlValue:
    """``<number> <date>`` of the approval, or ``pending`` for a secretary chosen and not yet approved (an
    appointment is its own approval)."""
    c = CongressReport
    approved = func.trim(func.coalesce(col(c.approval_number), const("")) + const(" ")
                         + cast(col(c.approval_date), String))
    needs_approval = [const(m) for m in CHOSEN if m not in SELF_APPROVED]
    return case((col(c.approval_date).is_not(None), approved),
                (and_(col(c.method).in_(needs_approval), col(c.merged).is_not(None)), const("pending")))


E, C = ElectionReport, CongressReport
COLUMNS: tuple[ExportColumn, ...] = (
    # DESIGN §4's fixed columns, in its order
    ExportColumn("province_code", lambda s: s.province.c.code, width=10),
    ExportColumn("district_code", lambda s: s.district.c.code, width=10),
    ExportColumn("commune_code", lambda s: col(s.commune.code), width=10),
    ExportColumn("commune_name", lambda s: col(s.commune.full_name), width=26),
    ExportColumn("village_code", lambda s: col(Unit.code), width=12),
    ExportColumn("village_name", lambda s: col(Unit.full_name), width=22),
    ExportColumn("status", lambda s: status_expr(s.today, s.deadline), width=40, words="status"),
    ExportColumn("election_date", lambda s: col(E.election_date), "date", 12),
    # the head in office (models.election.head): none after an invalid result or once the head left
    ExportColumn("head_name", lambda s: head_name(), width=24),
    ExportColumn("head_party_status", lambda s: case((in_office(), col(E.party_status))), width=26, words="party"),
    ExportColumn("votes_for", lambda s: col(E.votes_for), "int", 10),
    ExportColumn("valid_ballots", lambda s: col(E.valid_ballots), "int", 10),
    ExportColumn("roll", lambda s: col(E.roll), "int", 10),
    ExportColumn("congress_planned_date", lambda s: col(C.planned_date), "date"),
    ExportColumn("congress_held_date", lambda s: col(C.held_date), "date"),
    ExportColumn("secretary_name", lambda s: col(C.secretary_name), width=24),
    ExportColumn("merged", lambda s: col(C.merged), "yes_no", 10, words="export"),
    ExportColumn("updated_at", _updated_at, "datetime", 17),
    # the merger rules
    ExportColumn("party_date", lambda s: col(E.party_date), "date"),
    ExportColumn("eligible_from", lambda s: case((col(E.party_status) == const("probationary"), col(E.party_date))),
                 "date", post=lambda d: eligible_from("probationary", d)),
    ExportColumn("admission_planned_date", lambda s: col(E.admission_planned_date), "date"),
    ExportColumn("secretary_method", lambda s: col(C.method), width=24, words="merger.method"),
    ExportColumn("secretary_approval", _approval, width=24, words="export.approval"),
    ExportColumn("not_merged_reason", lambda s: col(C.not_merged_reason), width=30, words="congress.reason"),
    # the vote-count record, recognition, term and vacancy
    ExportColumn("attendees", lambda s: col(E.attendees), "int", 10),
    ExportColumn("recognition_decision", lambda s: col(E.recognition_decision), width=18),
    ExportColumn("recognition_date", lambda s: col(E.recognition_date), "date"),
    ExportColumn("term_end", lambda s: col(E.term_end), "date"),
    ExportColumn("interim_head", lambda s: interim_head(), width=24),
    ExportColumn("head_phone", lambda s: col(E.head_phone)),
)
EXPORT_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS)
# personal contact data (Nghị định 13/2023): left out of every export unless asked for (export --with-phones)
PHONE_COLUMNS = frozenset({"head_phone"})
EXPORT_COLUMNS_NO_PHONES: tuple[str, ...] = tuple(c for c in EXPORT_COLUMNS if c not in PHONE_COLUMNS)


def _ancestor_codes(level: str) -> Subquery:
    """(unit id, the code of its ancestor at ``level``), to outer-join on the village: one hash join for
    the whole export (a correlated subquery per village was 0.6 s of the national export on PostgreSQL)."""
    a, u = aliased(UnitAncestor), aliased(Unit)
    return (select(col(a.descendant_id).label("unit_id"), col(u.code).label("code"))
            .join(u, and_(col(u.id) == a.ancestor_id, col(u.level) == level)).subquery(f"{level}_of"))


def cell(value: object) -> str:
    """A value as the CSV writes it: ISO dates, times to the second, yes/no, empty for unknown."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


async def export_rows(session: AsyncSession, period: str, today: date, scope_id: int | None = None,
                      deadline: date | None = None) -> AsyncIterator[dict[str, str]]:
    """One row per village (DESIGN §4), streamed, optionally only under ``scope_id``: column name → cell."""
    commune = aliased(Unit)
    province, district = _ancestor_codes("province"), _ancestor_codes("district")
    sources = Sources(commune, province, district, today, deadline)
    stmt = with_reports(
        select(*(c.sql(sources) for c in COLUMNS))
        .select_from(Unit).join(commune, col(commune.id) == Unit.parent_id)
        .outerjoin(province, province.c.unit_id == Unit.id).outerjoin(district, district.c.unit_id == Unit.id)
    ).where(col(Unit.period) == period, col(Unit.level) == "village").order_by(col(commune.code), col(Unit.code))
    if scope_id is not None:
        stmt = stmt.join(UnitAncestor, and_(col(UnitAncestor.descendant_id) == Unit.id,
                                            col(UnitAncestor.ancestor_id) == scope_id))
    names = [c.name for c in COLUMNS]
    posts = [(i, c.post) for i, c in enumerate(COLUMNS) if c.post is not None]
    # Core, not the ORM (which would buffer the whole result), fetched in batches
    result = await (await session.connection()).stream(stmt.execution_options(yield_per=BATCH))
    async for batch in result.partitions(BATCH):
        for row in batch:
            values = list(row)
            for i, post in posts:
                if values[i] is not None:
                    values[i] = post(values[i])
            yield {name: cell(v) for name, v in zip(names, values, strict=True)}
