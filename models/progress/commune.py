"""The villages of one commune, one row each, for the commune's own page (status, election, party
status, secretary); read-only, one statement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.election.tables import CongressReport, ElectionReport
from models.progress.status import status_expr, with_reports
from models.units.tables import Unit


@dataclass(frozen=True, slots=True)
class VillageRow:
    id: int
    code: str
    name: str
    status: str
    election_date: date | None
    head_name: str | None
    party_status: str | None
    secretary_name: str | None
    merged: bool | None


async def village_rows(session: AsyncSession, commune_id: int, today: date) -> list[VillageRow]:
    """The villages whose parent is ``commune_id``, by code."""
    e, c = ElectionReport, CongressReport
    stmt = with_reports(select(col(Unit.id), col(Unit.code), col(Unit.full_name), status_expr(today),
                               col(e.election_date), col(e.head_name), col(e.party_status),
                               col(c.secretary_name), col(c.merged)).select_from(Unit)) \
        .where(col(Unit.parent_id) == commune_id, col(Unit.level) == "village").order_by(col(Unit.code))
    return [VillageRow(int(r[0] or 0), r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8])
            for r in (await session.execute(stmt)).all()]
