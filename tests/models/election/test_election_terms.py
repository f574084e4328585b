"""The term of a new election (``models.election.record.new_election_values``): a by-election serves out
the current term, a new vote keeps the term of the result it repeats, a regular election opens a term."""

from __future__ import annotations

from datetime import UTC, date, datetime

from models.election.record import new_election_values
from models.election.tables import ElectionReport

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def report(**kw: object) -> ElectionReport:
    values: dict[str, object] = {"village_id": 1, "election_date": date(2024, 12, 15), "head_name": "A",
                                 "votes_for": 60, "valid_ballots": 90, "roll": 100, "party_status": "member",
                                 "updated_at": NOW, "term_start": date(2024, 12, 15), "term_end": date(2027, 6, 15)}
    return ElectionReport(**{**values, **kw})  # type: ignore[arg-type]


def term(previous: ElectionReport | None, held: date, kind: str) -> tuple[date, date]:
    v = new_election_values(previous, held, kind, 30, held)
    return v["term_start"], v["term_end"]


def test_a_by_election_serves_out_the_current_term() -> None:
    vacated = report(vacated_on=date(2025, 9, 1))
    assert term(vacated, date(2025, 11, 2), "by_election") == (date(2024, 12, 15), date(2027, 6, 15))


def test_a_by_election_after_a_result_stored_without_a_term_still_ends_with_the_term() -> None:
    old = report(term_start=None, term_end=None, vacated_on=date(2025, 9, 1))
    assert term(old, date(2025, 11, 2), "by_election") == (date(2024, 12, 15), date(2027, 6, 15))


def test_a_new_vote_after_an_invalid_by_election_keeps_the_term() -> None:
    invalid_by_election = report(election_kind="by_election", election_date=date(2025, 11, 2), valid=False)
    assert term(invalid_by_election, date(2025, 12, 7), "revote") == (date(2024, 12, 15), date(2027, 6, 15))


def test_a_regular_election_opens_a_new_term() -> None:
    assert term(report(), date(2027, 6, 20), "regular") == (date(2027, 6, 20), date(2029, 12, 20))
    assert term(None, date(2024, 12, 15), "regular") == (date(2024, 12, 15), date(2027, 6, 15))


def test_a_term_already_over_is_not_inherited() -> None:
    vacated = report(vacated_on=date(2027, 3, 1))
    assert term(vacated, date(2027, 7, 1), "by_election") == (date(2027, 7, 1), date(2030, 1, 1))
