"""The merger rules (DESIGN §3; Party Statute arts. 3 and 5), as plain functions over small facts.

:func:`decide_status` is THE definition of a village's status: the specification, read by people and
by tests. ``models.progress.status.status_expr`` writes the same decision in SQL so that a digest over
80,000 villages is one query; ``tests/models/progress/test_status_rule.py`` generates facts that reach every
branch below and compares both, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

METHODS = ("congress", "by_election", "appointment", "already_secretary")
CHOSEN = METHODS[:3]  # the ways /daihoi records; "already_secretary" comes from /baucu
# a secretary chosen this way needs no approval of its own: the committee appointed him (its decision
# is the approval), or he already was the approved secretary when elected head
SELF_APPROVED = ("appointment", "already_secretary")
PROBATION_MONTHS = 12


def add_months(d: date, months: int) -> date:
    m = d.month - 1 + months
    year, month = d.year + m // 12, m % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class Facts:
    """What decides one village's status (dates as of ``today``)."""

    today: date
    elected: bool = False
    election_date: date | None = None
    party_status: str | None = None  # member | probationary | non_member
    party_date: date | None = None  # admission (probationary) or full membership (member; None: before election)
    planned_date: date | None = None
    held_date: date | None = None
    method: str | None = None
    head_is_secretary: bool | None = None  # None: no secretary chosen yet
    deadline: date | None = None  # the commune's congress plan, else the province default
    # the record checks, decided before the merger rules
    valid: bool | None = None  # False: quorum or majority missed (None: not known, from before attendees were asked)
    recognition: str | None = None  # None: pending | "recognised" | "new_vote": the commune ordered a new vote
    approved: bool = False  # the commune Party committee approved (chuẩn y) the secretary
    term_end: date | None = None
    vacated_on: date | None = None


def secretary_date(f: Facts) -> date | None:
    """The day the secretary was chosen (an already-secretary head: the election day)."""
    return f.held_date if f.method != "already_secretary" else f.election_date


def full_member_on(party_status: str | None, party_date: date | None, on: date | None) -> bool:
    """A full member on ``on`` (a member reported without a date was one when elected)."""
    return party_status == "member" and on is not None and (party_date is None or party_date <= on)


def eligible_from(party_status: str | None, party_date: date | None,
                  months: int = PROBATION_MONTHS) -> date | None:
    """A probationary head may become secretary from admission + 12 months, once a full member."""
    if party_status == "probationary" and party_date is not None:
        return add_months(party_date, months)
    return None


def missing_decisions(recognition: str | None, method: str | None, approved: bool) -> list[str]:
    """Which decisions a head chosen secretary still waits for: ``recognition`` (the commune People's
    Committee recognises the election; the head takes office on it) and ``approval`` (the commune Party
    committee approves the secretary; an appointment is its own approval, and a head already secretary
    when elected was approved then)."""
    missing = [] if recognition == "recognised" else ["recognition"]
    if not approved and method not in SELF_APPROVED:
        missing.append("approval")
    return missing


def deadline_applies(deadline: date | None, election_date: date | None) -> bool:
    """The commune's congress deadline binds a head elected before it: a deadline that passed before the
    head was elected (or on the day) is not one the village could have kept."""
    return deadline is not None and election_date is not None and election_date < deadline


def decide_status(f: Facts) -> str:
    """A village's status (DESIGN §3). In order: no head for the current term; a result that does not
    stand; the secretary chosen (merged only once recognised and approved); the congress planned or its
    date passed; the commune's deadline passed with nothing planned; the head's party status."""
    if not f.elected:
        return "no_election"
    if (f.term_end is not None and f.term_end < f.today) or f.vacated_on is not None:
        return "no_election"  # no head for the current term: the term ended, or the post fell vacant
    if f.valid is False or f.recognition == "new_vote":
        return "revote_needed"
    if f.head_is_secretary is not None:
        if f.head_is_secretary and full_member_on(f.party_status, f.party_date, secretary_date(f)):
            return "merger_pending" if missing_decisions(f.recognition, f.method, f.approved) else "merged"
        return "not_merged"
    if f.planned_date is not None:
        return "congress_overdue" if f.planned_date < f.today else "congress_planned"
    if f.party_status == "member":
        late = deadline_applies(f.deadline, f.election_date) and f.deadline is not None and f.deadline < f.today
        return "congress_overdue" if late else "elected_member"
    if f.party_status == "probationary":
        return "elected_probationary"
    return "elected_non_member"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the head cannot be named secretary on a date, and what would make it possible.
    ``reason``: ``non_member`` | ``probationary`` | ``member_later``."""

    reason: str
    eligible: date | None = None  # from when (probationary: admission + 12 months)
    admission: date | None = None  # admitted on (probationary) or planned (non-member)
    member_since: date | None = None


def secretary_refusal(party_status: str | None, party_date: date | None, admission_planned: date | None,
                      on: date, months: int = PROBATION_MONTHS) -> Refusal | None:
    """None when the head may be the secretary chosen on ``on``; else why not."""
    if full_member_on(party_status, party_date, on):
        return None
    if party_status == "member":
        return Refusal("member_later", member_since=party_date)
    if party_status == "probationary":
        return Refusal("probationary", eligible=eligible_from(party_status, party_date, months), admission=party_date)
    planned = admission_planned
    return Refusal("non_member", eligible=add_months(planned, months) if planned else None, admission=planned)
