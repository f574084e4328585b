"""The vote-count record (biên bản kiểm phiếu) and what the law makes of it (DESIGN §3).

Pure functions, no database: the numbers in the order of the paper form, the checks a clerk makes
in that order (each naming the number that is wrong), and validity — the meeting needs more than
half of the roll present (quorum) and the winner more than half of the roll (majority); otherwise
nobody is elected and the village votes again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from models.election.tables import ElectionReport
from models.merger.rules import add_months

# the paper form's order; the last two are optional
FORM_ORDER = ("roll", "attendees", "valid_ballots", "votes_for")
FULL_ORDER = ("roll", "attendees", "ballots_issued", "valid_ballots", "invalid_ballots", "votes_for")
OPTIONAL = ("ballots_issued", "invalid_ballots")
KINDS = ("regular", "revote", "by_election")
# what the report holds beside the record (shown to staff, kept in every revision)
RECORD_FIELDS = ("valid", "election_no", "election_kind", "recognition", "recognition_decision", "recognition_date",
                 "reported_on", "term_start", "term_end", "vacated_on")
RECORD_DATES = ("recognition_date", "reported_on", "term_start", "term_end", "vacated_on")
RECOGNITION_WORKING_DAYS = 5
BY_ELECTION_MONTHS = 6  # an interim head serves at most 6 months: the by-election is due by then
DEFAULT_TERM_MONTHS = 30  # 2.5 years (Quảng Ninh's 15/12/2024 election: the 2025–2027 term); or 60


@dataclass(frozen=True, slots=True)
class CountError:
    """The first number (in form order) that contradicts an earlier one: ``field`` is wrong, ``rule``
    names the check, ``values`` fill its message."""

    field: str
    rule: str
    values: Mapping[str, int]


def count_error(c: Mapping[str, int | None]) -> CountError | None:
    """Check the numbers given so far in form order; the first wrong one, or None."""
    roll, att, issued, valid, invalid, votes = (c.get(f) for f in FULL_ORDER)
    if roll is not None and roll <= 0:
        return CountError("roll", "roll_zero", {"roll": roll})
    if att is not None and roll is not None and att > roll:
        return CountError("attendees", "attendees_over_roll", {"attendees": att, "roll": roll})
    if issued is not None and att is not None and issued > att:
        return CountError("ballots_issued", "issued_over_attendees", {"issued": issued, "attendees": att})
    cap, cap_rule = (issued, "valid_over_issued") if issued is not None else (att, "valid_over_attendees")
    if valid is not None and cap is not None and valid > cap:
        return CountError("valid_ballots", cap_rule, {"valid": valid, "cap": cap})
    if invalid is not None and issued is not None and valid is not None and valid + invalid > issued:
        return CountError("invalid_ballots", "invalid_over_issued", {"valid": valid, "invalid": invalid,
                                                                      "issued": issued})
    if votes is not None and valid is not None and votes > valid:
        return CountError("votes_for", "votes_over_valid", {"votes": votes, "valid": valid})
    return None


@dataclass(frozen=True, slots=True)
class Validity:
    quorum: bool | None  # None: attendees unknown (a report from before they were asked)
    majority: bool
    attendance_pct: float | None
    votes_pct: float

    @property
    def valid(self) -> bool:
        return self.majority and self.quorum is not False


def validity(roll: int, attendees: int | None, votes_for: int) -> Validity:
    """Quorum: attendees > 50% of the roll; majority: the winner's votes > 50% of the roll."""
    share = (lambda n: 100.0 * n / roll) if roll else (lambda n: 0.0)
    return Validity(quorum=None if attendees is None else attendees * 2 > roll, majority=votes_for * 2 > roll,
                    attendance_pct=None if attendees is None else share(attendees), votes_pct=share(votes_for))


def working_days_after(start: date, n: int) -> date:
    """The ``n``-th working day (Monday–Friday) after ``start``."""
    d = start
    while n > 0:
        d += timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


def recognition_deadline(reported_on: date) -> date:
    """The commune decides within 5 working days of receiving the result."""
    return working_days_after(reported_on, RECOGNITION_WORKING_DAYS)


def new_election_values(previous: ElectionReport | None, held_on: date, kind: str, term_months: int,
                        reported_on: date) -> dict[str, Any]:
    """What a new election (not a correction) sets beside its record: its number in the village, its
    kind, recognition pending, no vacancy, and its term. A by-election serves out the current term, and a
    new vote replaces the result it repeats, so it keeps that result's term (a new vote after an invalid
    by-election still ends with the term); a regular election opens a new term from its date. The
    current term is the previous election's, from its start (or election day, for a result stored before
    terms were) for ``term_months``; a term already over when the village votes is not inherited."""
    if kind not in KINDS:
        raise ValueError(kind)
    values: dict[str, Any] = {"election_no": 1 if previous is None else previous.election_no + 1,
                              "election_kind": kind, "recognition": None, "recognition_decision": None,
                              "recognition_date": None, "vacated_on": None, "reported_on": reported_on,
                              "term_start": held_on, "term_end": add_months(held_on, term_months)}
    if kind in ("by_election", "revote") and previous is not None:
        start = previous.term_start or previous.election_date
        end = previous.term_end or add_months(start, term_months)
        if end >= held_on:
            values["term_start"], values["term_end"] = start, end
    return values


def record_notes(report: ElectionReport | None) -> list[tuple[str, dict[str, Any]]]:
    """What to show beside the status (catalog key under ``statuscmd.record``, its values): recognition
    pending with its deadline, the decision, a new vote ordered; the term's end."""
    if report is None or report.vacated_on is not None:
        return []
    notes: list[tuple[str, dict[str, Any]]] = []
    if report.recognition == "recognised":
        notes.append(("recognised", {"decision": report.recognition_decision or "",
                                     "date": report.recognition_date}))
    elif report.recognition == "new_vote":
        notes.append(("new_vote", {"date": report.recognition_date}))
    elif report.valid is not False and report.reported_on is not None:
        notes.append(("pending", {"deadline": recognition_deadline(report.reported_on)}))
    if report.term_end is not None and report.valid is not False:
        notes.append(("term", {"date": report.term_end}))
    return notes
