"""The merger rules' refusals as the head reads them: the reason, and what would make it possible."""

from __future__ import annotations

from datetime import date
from typing import Any

from models.merger.rules import Refusal, secretary_refusal
from texts.catalog import t
from texts.fmt import fmt_date, from_iso, iso


def party_facts(party_status: str, party_date: date | None, admission_planned: date | None) -> dict[str, Any]:
    """What a conversation keeps of the head's party status (JSON-friendly)."""
    return {"party": party_status, "party_date": iso(party_date), "admission_planned": iso(admission_planned)}


def refusal_for(data: dict[str, Any], on: date) -> Refusal | None:
    """Whether the head (facts from :func:`party_facts` in ``data``) may be the secretary chosen on ``on``."""
    return secretary_refusal(data.get("party"), from_iso(data.get("party_date")),
                             from_iso(data.get("admission_planned")), on)


def refusal_text(refusal: Refusal, head: str, on: date) -> str:
    r = refusal.reason
    if r == "member_later":
        return t("merger.refused.member_later", head=head, since=fmt_date(refusal.member_since), on=fmt_date(on))
    key = f"merger.refused.{r}" if refusal.eligible is not None else f"merger.refused.{r}_no_date"
    return t(key, head=head, admission=fmt_date(refusal.admission), eligible=fmt_date(refusal.eligible))
