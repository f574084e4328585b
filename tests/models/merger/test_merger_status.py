"""``models.merger.rules.decide_status``: the record checks come before the merger rules (the SQL,
``models.progress.status.status_expr``, is compared with it in tests/models/progress/test_status_rule.py)."""

from __future__ import annotations

from datetime import date

import pytest

from models.merger.rules import Facts, decide_status

TODAY = date(2025, 6, 1)
MERGED = {"today": TODAY, "elected": True, "election_date": date(2024, 12, 15), "party_status": "member",
          "method": "already_secretary", "head_is_secretary": True, "recognition": "recognised"}


@pytest.mark.parametrize(("record", "status"), [
    ({}, "merged"),
    ({"valid": True, "term_end": date(2027, 6, 15)}, "merged"),
    ({"recognition": None}, "merger_pending"),  # already the secretary: the recognition alone is missing
    ({"valid": False}, "revote_needed"),
    ({"recognition": "new_vote"}, "revote_needed"),
    ({"term_end": date(2025, 5, 31)}, "no_election"),
    ({"term_end": TODAY}, "merged"),  # the last day of the term still counts
    ({"vacated_on": date(2025, 3, 1)}, "no_election"),
    ({"vacated_on": date(2025, 3, 1), "valid": False}, "no_election"),  # no head first, as in SQL
])
def test_record_checks_come_first(record: dict[str, object], status: str) -> None:
    assert decide_status(Facts(**{**MERGED, **record})) == status  # type: ignore[arg-type]
