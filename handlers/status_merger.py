"""``/trangthai``'s merger lines: when a probationary head is eligible, a planned admission, how the
secretary was chosen and whether the commune has approved it."""

from __future__ import annotations

from models.election.tables import CongressReport, ElectionReport
from models.merger.rules import CHOSEN, SELF_APPROVED, eligible_from
from texts.catalog import t
from texts.fmt import fmt_date


def merger_lines(election: ElectionReport | None, congress: CongressReport | None) -> list[str]:
    lines: list[str] = []
    if election is not None:
        eligible = eligible_from(election.party_status, election.party_date)
        if eligible is not None:
            lines.append(t("merger.status.eligible", date=fmt_date(eligible)))
        if election.party_status == "non_member" and election.admission_planned_date is not None:
            lines.append(t("merger.status.admission_planned", date=fmt_date(election.admission_planned_date)))
    if congress is not None and congress.method is not None:
        lines.append(t("merger.summary.method", method=t(f"merger.method.{congress.method}")))
        if congress.approval_date is not None:
            lines.append(t("merger.status.approved", number=congress.approval_number or "",
                           date=fmt_date(congress.approval_date)))
        elif congress.method in CHOSEN and congress.method not in SELF_APPROVED and congress.merged is not None:
            lines.append(t("merger.summary.approval_pending"))
    return lines
