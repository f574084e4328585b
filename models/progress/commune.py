"""The villages of one commune, one row each, for the commune's own page (status, election, party
status, secretary, the decisions a pending merger waits for); read-only, one statement. The page's
counts by status are tallied from these same rows (:func:`tally`), so a count never disagrees with the
rows below it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.election.head import head_name, in_office, interim_head
from models.election.tables import CongressReport, ElectionReport
from models.merger.rules import missing_decisions
from models.progress.status import status_expr, with_reports
from models.progress.tallies import UnitProgress
from models.units.tables import Unit


@dataclass(frozen=True, slots=True)
class VillageRow:
    id: int
    code: str
    name: str
    status: str
    election_date: date | None
    head_name: str | None  # the head in office (models.election.head): None after an invalid result or a vacancy
    party_status: str | None  # the head in office's
    secretary_name: str | None
    merged: bool | None
    missing: tuple[str, ...] = ()  # merger_pending: the decisions still missing (models.merger.rules.missing_decisions)
    interim_head: str | None = None  # standing in while the post is vacant
    vacant: bool = False  # the elected head left (or a new village waits for its first election, with an interim)
    nobody_elected: bool = False  # the result on file is invalid


async def village_rows(session: AsyncSession, commune_id: int, today: date,
                       deadline: date | None = None) -> list[VillageRow]:
    """The villages whose parent is ``commune_id``, by code, with their status as of ``today``
    (``deadline``: the province's default congress deadline, as everywhere else)."""
    e, c = ElectionReport, CongressReport
    stmt = with_reports(select(col(Unit.id), col(Unit.code), col(Unit.full_name), status_expr(today, deadline),
                               col(e.election_date), head_name(), case((in_office(), col(e.party_status))),
                               col(c.secretary_name), col(c.merged), col(e.recognition), col(c.method),
                               col(c.approval_date), interim_head(), col(e.vacated_on), col(e.valid))
                        .select_from(Unit)) \
        .where(col(Unit.parent_id) == commune_id, col(Unit.level) == "village").order_by(col(Unit.code))
    out = []
    for r in (await session.execute(stmt)).all():
        missing = tuple(missing_decisions(r[9], r[10], r[11] is not None)) if r[3] == "merger_pending" else ()
        out.append(VillageRow(int(r[0] or 0), r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], missing,
                              interim_head=r[12], vacant=r[13] is not None, nobody_elected=r[14] is False))
    return out


def tally(rows: list[VillageRow], unit_id: int) -> UnitProgress:
    """The counts by status of ``rows``: the figures of the page that lists them."""
    out = UnitProgress(unit_id=unit_id, villages=len(rows))
    for r in rows:
        out.by_status[r.status] = out.by_status.get(r.status, 0) + 1
    return out
