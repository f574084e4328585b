"""The one-statement digest aggregate against a straightforward per-village computation, on SQLite and
PostgreSQL: a small tree of uneven depth (a village straight under a district, a commune straight under
the province), every status, party status and late rule, ties on the late date, several readers' units."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from models.db import transaction
from models.election.tables import CongressReport, ElectionReport
from models.progress.digest import compute
from models.progress.status import ELECTED, HELD, STATUSES, village_status
from models.progress.tallies import UnitProgress, progress_by_child
from models.reminders.rules import LATE_RULES, Rules, due_today, late_villages
from models.units.tables import Unit
from models.units.tree import add_unit
from tests.conftest import Database

D = date.fromisoformat
NOW = datetime(2025, 1, 1, tzinfo=UTC)
RULES = Rules(election_date=D("2025-01-05"))
TREE = {"C1": ("D", 6), "C2": ("D", 5), "C3": ("P", 7)}  # commune → (parent, villages)


async def _build(session) -> dict[str, Unit]:  # type: ignore[no-untyped-def]
    """P → D → C1, C2 (and V0 straight under D); P → C3. Reports drawn from every case."""
    units = {"P": await add_unit(session, period="t", code="P", level="province", name="P", parent=None)}
    units["D"] = await add_unit(session, period="t", code="D", level="district", name="D", parent=units["P"])
    villages = [await add_unit(session, period="t", code="V0", level="village", name="V0", parent=units["D"])]
    for commune, (parent, n) in TREE.items():
        units[commune] = await add_unit(session, period="t", code=commune, level="commune", name=f"Xã {commune}",
                                        parent=units[parent])
        for i in range(n):
            villages.append(await add_unit(session, period="t", code=f"{commune}.{i:02d}", level="village",
                                           name=f"Thôn {commune}.{i}", parent=units[commune]))
    rng = random.Random(5)
    invalid = random.Random(12)  # a second stream: some results miss the majority (→ revote_needed)
    decided = random.Random(11)  # a third: most results recognised, most secretaries approved (else merger_pending)
    vacant = random.Random(13)  # a fourth: some heads leave office (→ a by-election, late after 6 months)
    for v in villages:
        units[v.code] = v
        kind = rng.choice(("none", "none", "member", "member", "member", "probationary", "non_member"))
        if rng.random() < 0.2:
            v.election_date = D("2025-01-05") + timedelta(days=rng.choice((-3, 4, 30)))  # a village's own day
        if kind == "none":
            continue
        elected = D("2025-01-05") + timedelta(days=rng.choice((0, 0, 3, 12)))
        votes = 40 if invalid.random() < 0.1 else 60
        report = ElectionReport(village_id=v.id, election_date=elected, head_name="A",
                                votes_for=votes, valid=votes * 2 > 100,
                                valid_ballots=90, roll=100, party_status=kind, updated_at=NOW,
                                party_date=D("2024-03-01") if kind == "probationary" else None,
                                recognition="recognised" if decided.random() < 0.8 else None)
        session.add(report)
        congress = rng.choice(("none", "none", "planned", "planned", "held", "held_not", "empty"))
        if congress == "none" and report.valid and vacant.random() < 0.4:
            report.vacated_on = elected + timedelta(days=10)
        if congress != "none":
            planned = None if congress == "empty" else D("2025-01-15") + timedelta(days=rng.choice((0, 0, 5, 20)))
            held = planned if congress.startswith("held") else None
            approved = held + timedelta(days=2) if held and decided.random() < 0.8 else None
            session.add(CongressReport(village_id=v.id, planned_date=planned, held_date=held, updated_at=NOW,
                                       merged=(congress == "held") if held else None, method="congress",
                                       approval_date=approved))
    await session.flush()
    return units


async def _expected(session, units: dict[str, Unit], scope: Unit, today: date):  # type: ignore[no-untyped-def]
    """Village by village: its status (``village_status``), its line (walking up the parents), its head's
    party status, and the late rules (``due_today``, one query per rule)."""
    by_id = {u.id: u for u in units.values()}

    def line_of(u: Unit) -> Unit | None:
        while u.parent_id is not None:
            if u.parent_id == scope.id:
                return u
            u = by_id[u.parent_id]
        return None

    lines: dict[int, UnitProgress] = {}
    party: dict[str, int] = {}
    for v in (u for u in units.values() if u.level == "village"):
        line = line_of(v)
        if line is None:
            continue
        p = lines.setdefault(line.id, UnitProgress(unit_id=line.id, code=line.code, name=line.full_name))
        status = await village_status(session, v.id, today)
        p.villages += 1
        p.by_status[status] = p.by_status.get(status, 0) + 1
        e = (await session.execute(select(ElectionReport).where(ElectionReport.village_id == v.id))).scalar()
        if e is not None and status in ELECTED:  # the heads in office
            party[e.party_status] = party.get(e.party_status, 0) + 1
    oldest: dict[int, object] = {}
    for due in await due_today(session, RULES, today, scope_id=scope.id, only=LATE_RULES):
        if due.village_id not in oldest or due.since < oldest[due.village_id].since:  # type: ignore[attr-defined]
            oldest[due.village_id] = due
    late = sorted(oldest.values(), key=lambda d: (d.since, d.village_code))  # type: ignore[attr-defined]
    return sorted(lines.values(), key=lambda p: p.code), party, late


async def test_one_statement_matches_village_by_village(db: Database) -> None:
    async with transaction(db.sessions) as s:
        units = await _build(s)
    seen_statuses: set[str] = set()
    seen_rules: set[str] = set()
    async with db.sessions() as s:
        for today in (D("2025-01-12"), D("2025-01-22"), D("2025-02-10"), D("2025-08-20")):
            for code in ("P", "D", "C1", "C3"):
                scope = units[code]
                lines, party, late = await _expected(s, units, scope, today)
                seen_statuses |= {st for p in lines for st in p.by_status}
                seen_rules |= {d.rule for d in late}
                got = await progress_by_child(s, scope.id, today)  # type: ignore[arg-type]
                assert [(p.unit_id, p.code, p.villages, p.by_status) for p in got] == \
                       [(p.unit_id, p.code, p.villages, p.by_status) for p in lines], (code, today)
                for limit in (15, 3, 1):
                    f = await compute(s, scope, RULES, today, late_limit=limit)
                    whole = UnitProgress(unit_id=0)
                    for p in lines:
                        whole.add(p)
                    assert (f.villages, f.elected, f.merged, f.overdue) == \
                           (whole.villages, whole.elected, whole.merged, whole.overdue), (code, today)
                    assert (f.planned, f.held) == (whole.count("congress_planned"), whole.count(*HELD))
                    assert f.by_party == party
                    assert f.late_total == len(late)
                    assert [(d.village_code, d.rule, d.since) for d in f.late] == \
                           [(d.village_code, d.rule, d.since) for d in late[:limit]], (code, today, limit)
                    assert all(f.late_parent[d.village_id] == units[code_of_parent(units, d.village_id)].full_name
                               for d in f.late)
                    assert sorted(p.unit_id for p in f.children) == sorted(p.unit_id for p in lines)
                    listed, n = await late_villages(s, RULES, today, scope.id, limit=limit)  # type: ignore[arg-type]
                    assert n == len(late) and listed == f.late
    assert seen_statuses == set(STATUSES) and seen_rules == set(LATE_RULES)  # the data covers every case


def code_of_parent(units: dict[str, Unit], village_id: int) -> str:
    by_id = {u.id: u for u in units.values()}
    return by_id[by_id[village_id].parent_id].code  # type: ignore[index]
