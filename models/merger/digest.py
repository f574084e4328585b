"""The merger side of a digest: when the probationary heads under a unit become eligible, and how
many non-member heads have an admission planned (one small query; the counts come from the aggregate)."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.election.tables import ElectionReport
from models.merger.rules import eligible_from
from models.units.tables import UnitAncestor


async def party_breakdown(session: AsyncSession, unit_id: int) -> tuple[list[tuple[date, int]], int, int]:
    """(eligibility date → how many probationary heads, earliest first; probationary heads without an
    admission date; non-member heads with an admission planned) under ``unit_id``."""
    e = ElectionReport
    scope = and_(col(UnitAncestor.descendant_id) == e.village_id, col(UnitAncestor.ancestor_id) == unit_id)
    rows = (await session.execute(
        select(col(e.party_status), col(e.party_date), func.count()).join(UnitAncestor, scope)
        .where(col(e.party_status) == "probationary").group_by(col(e.party_status), col(e.party_date)))).all()
    eligible: Counter[date] = Counter()
    undated = 0
    for status, admitted, n in rows:
        when = eligible_from(status, admitted)
        if when is None:
            undated += n
        else:
            eligible[when] += n
    planned = (await session.execute(
        select(func.count()).select_from(e).join(UnitAncestor, scope)
        .where(col(e.party_status) == "non_member", col(e.admission_planned_date).is_not(None)))).scalar_one()
    return sorted(eligible.items()), undated, int(planned)
