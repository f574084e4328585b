"""The status rule has one definition, ``models.merger.rules.decide_status``; ``models.progress.status.status_expr``
writes it in SQL. Generated facts that reach every branch of the rule (no head for the term, vacancy,
invalid result, new vote, secretary chosen with or without recognition and approval, each way of
choosing, a full member or not on the secretary's date, a congress planned or past, the commune's
deadline or the province's default before or after the election) are written as real rows, and the SQL
status of each village is compared with the Python one, on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import col

from models.election.tables import CongressReport, ElectionReport
from models.merger.rules import METHODS, Facts, decide_status
from models.merger.tables import CongressPlan
from models.progress.status import STATUSES, status_expr, with_reports
from models.units.tables import Unit
from tests.conftest import Database

TODAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 3, tzinfo=UTC)
_codes = itertools.count()


def near(days: int = 400) -> st.SearchStrategy[date]:
    """A date around ``TODAY`` (today itself, and the days either side, come often)."""
    return st.one_of(st.sampled_from([TODAY, TODAY - timedelta(days=1), TODAY + timedelta(days=1)]),
                     st.integers(-days, days).map(lambda n: TODAY + timedelta(days=n)))


def maybe(s: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.one_of(st.none(), s)


@dataclass(frozen=True)
class Village:
    """One village's rows: its election and congress reports (None: none on file) and its commune's plan."""

    election: dict[str, object] | None
    congress: dict[str, object] | None
    plan: date | None


ELECTION = st.fixed_dictionaries({
    "election_date": near(), "party_status": st.sampled_from(["member", "probationary", "non_member"]),
    "party_date": maybe(near()), "valid": st.sampled_from([None, True, False]),
    "recognition": st.sampled_from([None, "recognised", "new_vote"]), "term_end": maybe(near(60)),
    "vacated_on": st.one_of(st.none(), st.none(), near()),
})
CONGRESS = st.fixed_dictionaries({
    "planned_date": maybe(near(30)), "held_date": maybe(near()), "method": st.sampled_from([None, *METHODS]),
    "merged": st.sampled_from([None, True, True, False]), "approval_date": maybe(near()),
})
VILLAGE = st.builds(Village, maybe(ELECTION), maybe(CONGRESS), maybe(near(60)))  # type: ignore[arg-type]


def facts(v: Village, default: date | None) -> Facts:
    e, c = v.election or {}, v.congress or {}
    return Facts(
        today=TODAY, elected=v.election is not None, election_date=e.get("election_date"),  # type: ignore[arg-type]
        party_status=e.get("party_status"), party_date=e.get("party_date"),  # type: ignore[arg-type]
        planned_date=c.get("planned_date"), held_date=c.get("held_date"), method=c.get("method"),  # type: ignore[arg-type]
        head_is_secretary=c.get("merged"), deadline=v.plan or default,  # type: ignore[arg-type]
        valid=e.get("valid"), recognition=e.get("recognition"), term_end=e.get("term_end"),  # type: ignore[arg-type]
        vacated_on=e.get("vacated_on"), approved=c.get("approval_date") is not None)  # type: ignore[arg-type]


async def sql_statuses(db: Database, villages: list[Village], default: date | None) -> list[str]:
    """Write each village (under a commune of its own, for its own plan) and read back the SQL status."""
    async with db.sessions() as s:
        ids = []
        for v in villages:
            n = next(_codes)
            commune = Unit(period="rule", code=f"C{n}", level="commune", name=f"Xã {n}")
            s.add(commune)
            await s.flush()
            village = Unit(period="rule", code=f"V{n}", level="village", name=f"Thôn {n}", parent_id=commune.id)
            s.add(village)
            await s.flush()
            assert village.id is not None and commune.id is not None
            ids.append(village.id)
            if v.plan is not None:
                s.add(CongressPlan(unit_id=commune.id, deadline=v.plan, updated_at=NOW))
            if v.election is not None:
                s.add(ElectionReport(village_id=village.id, head_name="Nguyễn Văn Ân", votes_for=300, valid_ballots=350,
                                     roll=400, updated_at=NOW, **v.election))  # type: ignore[arg-type]
            if v.congress is not None:
                s.add(CongressReport(village_id=village.id, updated_at=NOW, **v.congress))  # type: ignore[arg-type]
        await s.commit()
        rows = dict((await s.execute(with_reports(select(col(Unit.id), status_expr(TODAY, default)).select_from(Unit))
                                     .where(col(Unit.id).in_(ids)))).all())
    return [rows[i] for i in ids]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(villages=st.lists(VILLAGE, min_size=30, max_size=50), default=maybe(near(60)))
async def test_sql_status_is_the_python_rule(db: Database, villages: list[Village], default: date | None) -> None:
    """A few hundred villages per database: the SQL status equals ``decide_status`` for every one."""
    got = await sql_statuses(db, villages, default)  # type: ignore[arg-type]
    want = [decide_status(facts(v, default)) for v in villages]  # type: ignore[arg-type]
    assert got == want


# One village per branch of decide_status, in its order: the comparison above is not vacuous.
E = {"election_date": date(2026, 1, 10), "party_status": "member", "party_date": None, "valid": True,
     "recognition": "recognised", "term_end": date(2028, 7, 10), "vacated_on": None}
CHOSEN = {"planned_date": None, "held_date": date(2026, 3, 1), "method": "congress", "merged": True,
          "approval_date": date(2026, 3, 5)}
BRANCHES: list[tuple[Village, str]] = [
    (Village(None, None, None), "no_election"),
    (Village({**E, "term_end": date(2026, 6, 14)}, CHOSEN, None), "no_election"),
    (Village({**E, "vacated_on": date(2026, 5, 1)}, CHOSEN, None), "no_election"),
    (Village({**E, "valid": False, "recognition": None}, None, None), "revote_needed"),
    (Village({**E, "recognition": "new_vote"}, None, None), "revote_needed"),
    (Village(E, CHOSEN, None), "merged"),
    (Village(E, {**CHOSEN, "method": "appointment", "approval_date": None}, None), "merged"),
    (Village(E, {**CHOSEN, "method": "already_secretary", "held_date": None, "approval_date": None}, None), "merged"),
    (Village({**E, "recognition": None}, CHOSEN, None), "merger_pending"),
    (Village(E, {**CHOSEN, "approval_date": None}, None), "merger_pending"),
    (Village({**E, "recognition": None}, {**CHOSEN, "method": "already_secretary", "held_date": None}, None),
     "merger_pending"),
    (Village({**E, "party_date": date(2026, 4, 1)}, CHOSEN, None), "not_merged"),  # a full member only later
    (Village({**E, "party_status": "probationary"}, CHOSEN, None), "not_merged"),
    (Village(E, {**CHOSEN, "merged": False}, None), "not_merged"),
    (Village(E, {**CHOSEN, "merged": None, "held_date": None, "planned_date": date(2026, 6, 14)}, None),
     "congress_overdue"),
    (Village(E, {**CHOSEN, "merged": None, "held_date": None, "planned_date": TODAY}, None), "congress_planned"),
    (Village(E, None, date(2026, 6, 14)), "congress_overdue"),  # the commune's deadline passed, nothing planned
    (Village(E, None, date(2025, 12, 31)), "elected_member"),  # a deadline before the election does not bind
    (Village({**E, "election_date": date(2026, 6, 1)}, None, date(2026, 6, 1)), "elected_member"),  # nor on its day
    (Village(E, None, TODAY), "elected_member"),
    (Village(E, None, None), "elected_member"),
    (Village({**E, "party_status": "probationary"}, None, date(2026, 6, 1)), "elected_probationary"),
    (Village({**E, "party_status": "non_member"}, None, None), "elected_non_member"),
]


async def test_every_branch_of_the_rule_in_python_and_sql(db: Database) -> None:
    villages = [v for v, _ in BRANCHES]
    want = [status for _, status in BRANCHES]
    assert [decide_status(facts(v, None)) for v in villages] == want
    assert await sql_statuses(db, villages, None) == want
    assert set(want) == set(STATUSES)


async def test_the_province_default_applies_without_a_commune_plan(db: Database) -> None:
    villages = [Village(E, None, None), Village({**E, "election_date": date(2026, 6, 1)}, None, None),
                Village(E, None, date(2026, 7, 1))]
    default = date(2026, 5, 31)
    want = ["congress_overdue", "elected_member", "elected_member"]
    assert [decide_status(facts(v, default)) for v in villages] == want
    assert await sql_statuses(db, villages, default) == want
