"""``/trangthai``: my village's status and what is due."""

from __future__ import annotations

from typing import cast

from sqlalchemy import select
from sqlmodel import col

from handlers.context import HeadContext
from handlers.status_merger import merger_lines
from models.election.head import head_name
from models.election.record import record_notes
from models.election.tables import CongressReport, ElectionReport
from models.election.vacancy import vacancy_notes
from models.merger.records import village_deadline
from models.merger.rules import missing_decisions
from models.progress.status import status_expr, with_reports
from models.units.tables import Unit
from reports.merger_text import missing_text
from texts.catalog import t
from texts.fmt import fmt_date, fmt_values


async def _due(ctx: HeadContext, state: str, election: ElectionReport | None, congress: CongressReport | None) -> str:
    """What is still due: for a pending merger, which decision is missing; for an overdue congress, whether
    the planned date or the commune's deadline passed (a head who never planned a date is not told that
    "the planned date has passed")."""
    if state == "merger_pending" and election is not None:
        approved = congress is not None and congress.approval_date is not None
        missing = missing_decisions(election.recognition, congress.method if congress else None, approved)
        return t("statuscmd.due.merger_pending", missing=missing_text(missing))
    if state == "congress_overdue" and (congress is None or congress.planned_date is None):
        deadline = await village_deadline(ctx.session, ctx.unit.parent_id, ctx.settings.rules.congress_deadline)
        return t("statuscmd.due.congress_overdue_deadline", deadline=fmt_date(deadline))
    return t(f"statuscmd.due.{state}")


async def show_status(ctx: HeadContext, arg: str = "") -> None:
    village_id = ctx.village_id
    row = (await ctx.session.execute(
        with_reports(select(status_expr(ctx.today, ctx.settings.rules.congress_deadline), ElectionReport,
                            CongressReport, head_name()).select_from(Unit))
        .where(col(Unit.id) == village_id))).one()
    # the reports are outer-joined: None for a village that has not sent one; ``head``: the head in office
    # (models.election.head — nobody after an invalid result or a vacancy; the interim is in the notes)
    state, election, congress, head = cast("tuple[str, ElectionReport | None, CongressReport | None, str | None]",
                                           row)
    lines = [t("statuscmd.title", village=ctx.unit.full_name), t("statuscmd.status", status=t(f"status.{state}"))]
    if election is not None and election.valid is False:  # nobody was elected
        lines.append(t("statuscmd.no_head", name=election.head_name, date=fmt_date(election.election_date)))
    elif election is not None and head is not None:  # a head who left is not named as the head
        lines.append(t("statuscmd.head", name=head, party=t(f"party.{election.party_status}"),
                       date=fmt_date(election.election_date)))
    notes = record_notes(election) + await vacancy_notes(ctx.session, village_id)
    lines += [t(f"statuscmd.record.{key}", **fmt_values(values)) for key, values in notes]
    if congress is not None and congress.planned_date is not None:
        lines.append(t("statuscmd.planned", date=fmt_date(congress.planned_date)))
    if congress is not None and congress.held_date is not None:
        lines.append(t("statuscmd.held", date=fmt_date(congress.held_date), name=congress.secretary_name or ""))
    lines += merger_lines(election if election is None or election.vacated_on is None else None, congress)
    lines.append("")
    lines.append(await _due(ctx, state, election, congress))
    ctx.say("\n".join(lines))
