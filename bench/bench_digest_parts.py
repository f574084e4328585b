"""Where the digest's time goes (target: digest ÷ floor ≤ 2×): the floor of ``bench_digest`` beside the
digest built up stage by stage, each stage a ratio to the floor measured in the same run, alternately, on
the same trees and databases as ``python -m bench digest``:

- ``status``: :func:`models.progress.status.village_groups` with the status tally only (``progress_by_child``'s query);
- ``+party+record``: with the party and record tallies;
- ``+late``: with the late tally (counts and the oldest keys per group);
- ``+listing``: :func:`models.reminders.rules.groups_with_late`, the digest's one statement (the oldest late listed);
- ``sql only``: that statement counted on the server (no rows sent: the cost of fetching 3,300 wide rows);
- ``digest``: compute and render (``bench_digest``'s figure);
- ``summary``: an upper bound for a per-village summary kept in the reports' transaction: the same
  aggregates over a narrow table holding a few precomputed codes and dates per village (no report joins,
  a status from one date comparison). Not the digest's exact rules: a measure of what such a table can give.

    python -m bench digest_parts
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlmodel import col

from bench.bench_digest import FLOOR_SQL, RULES, TODAY, each_tree
from bench.common import analyze
from models.db import DbSession, SessionFactory
from models.election.recognition import TERM_NEAR_DAYS
from models.progress.digest import compute, record_tally
from models.progress.tallies import core_rows, party_tally, status_tally, village_groups
from models.reminders.rules import groups_with_late, groups_with_late_stmt, late_params, late_tally
from models.units.tables import Unit
from reports.digest_text import render_digest

SUMMARY = """CREATE TABLE bench_summary AS SELECT unit.id AS village_id, unit.parent_id AS parent_id, unit.code AS code,
 CASE WHEN e.id IS NULL THEN 0 WHEN c.merged IS NOT NULL THEN 6 WHEN c.planned_date IS NOT NULL THEN 4
      WHEN e.party_status = 'member' THEN 3 ELSE 1 END AS s0, c.planned_date AS switch_on, 5 AS s1,
 CASE e.party_status WHEN 'member' THEN 1 WHEN 'probationary' THEN 2 WHEN 'non_member' THEN 3 END AS party,
 CASE WHEN e.reported_on IS NOT NULL THEN 1 END AS pending, e.term_end AS term_live,
 CASE WHEN e.admission_planned_date IS NOT NULL THEN 1 END AS planned,
 CASE WHEN e.party_status = 'probationary' THEN e.party_date END AS admitted,
 CASE WHEN e.id IS NULL THEN coalesce(unit.election_date, {day}) WHEN c.held_date IS NULL THEN c.planned_date END
   AS late_since
 FROM unit LEFT JOIN election_report e ON e.village_id = unit.id LEFT JOIN congress_report c ON c.village_id = unit.id
 WHERE unit.level = 'village'"""


def _summary_sql(pg: bool) -> str:
    key = "(v.late_since - DATE '2000-01-01' + 1000000)::text || v.code" if pg else "v.late_since || v.code"
    joined = "string_agg(CAST(v.admitted AS TEXT), ',')" if pg else "group_concat(v.admitted, ',')"
    return f"""SELECT v.parent_id, count(*), {", ".join(f"count(*) FILTER (WHERE v.status = {i})" for i in range(9))},
 count(*) FILTER (WHERE v.party = 1), count(*) FILTER (WHERE v.party = 2), count(*) FILTER (WHERE v.party = 3),
 count(v.pending), count(*) FILTER (WHERE v.term_live >= :today AND v.term_live <= :near), count(v.planned),
 {joined}, count(v.late_key), min(v.late_key), count(*) FILTER (WHERE v.late_key < '1'),
 max(v.late_key) FILTER (WHERE v.late_key < '1')
 FROM (SELECT v.parent_id, CASE WHEN v.switch_on < :today THEN v.s1 ELSE v.s0 END AS status, v.party, v.pending,
   v.term_live, v.planned, v.admitted, CASE WHEN v.late_since <= :cutoff THEN {key} END AS late_key
   FROM unit_ancestor s JOIN bench_summary v ON v.parent_id = s.descendant_id WHERE s.ancestor_id = :scope
   {"OFFSET 0" if pg else "LIMIT -1 OFFSET 0"}) v GROUP BY v.parent_id"""


async def _make_summary(sessions: SessionFactory) -> None:
    engine = sessions.kw["bind"]
    pg = engine.dialect.name == "postgresql"
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS bench_summary"))
        await conn.execute(text(SUMMARY.format(day="DATE '2024-12-15'" if pg else "'2024-12-15'")))
        await conn.execute(text("CREATE INDEX ix_bench_summary_parent ON bench_summary (parent_id)"))
    await analyze(sessions)


STAGES = ("status", "+party+record", "+late", "+listing", "sql only", "digest", "summary")


async def measure(sessions: SessionFactory, unit: Unit) -> tuple[float, dict[str, float]]:
    assert unit.id is not None
    scope = unit.id
    pg = sessions.kw["bind"].dialect.name == "postgresql"
    params: dict[str, Any] = {"today": TODAY, "term_near": TODAY + timedelta(days=TERM_NEAR_DAYS)}
    st, pa, rec, la = status_tally(RULES.congress_deadline), party_tally(), record_tally(), late_tally(RULES)
    stmt = groups_with_late_stmt((st, pa, rec, la), RULES)
    counted = select(func.count()).select_from(stmt.subquery())
    summary = text(_summary_sql(pg))
    async with sessions() as s:
        def stages(s: DbSession) -> dict[str, Callable[[], Awaitable[object]]]:
            return {
                "floor": lambda: s.execute(FLOOR_SQL, {"period": unit.period}),
                "status": lambda: village_groups(s, scope, (st,), params),
                "+party+record": lambda: village_groups(s, scope, (st, pa, rec), params),
                "+late": lambda: village_groups(s, scope, (st, pa, rec, la), {**params, **late_params(RULES, TODAY)}),
                "+listing": lambda: groups_with_late(s, scope, (st, pa, rec, la), RULES, TODAY, 15, params),
                "sql only": lambda: core_rows(s, counted, {"scope_id": scope, "limit": 15, **params,
                                                           **late_params(RULES, TODAY)}),
                "digest": lambda: _digest(s, unit),
                "summary": lambda: s.execute(summary, {"today": TODAY, "near": params["term_near"],
                                                       "cutoff": TODAY - timedelta(days=1), "scope": scope}),
            }
        fns = stages(s)
        times: dict[str, list[float]] = {k: [] for k in fns}
        for fn in fns.values():
            await fn()
        villages = (await s.execute(select(func.count()).select_from(Unit).where(
            col(Unit.period) == unit.period, col(Unit.level) == "village"))).scalar_one()
        for _ in range(15 if villages < 10_000 else 9):
            for k, fn in fns.items():
                t0 = time.perf_counter()
                await fn()
                times[k].append(time.perf_counter() - t0)
    floor = statistics.median(times["floor"])
    return floor, {k: statistics.median(v) / floor for k, v in times.items() if k != "floor"}


async def _digest(s: DbSession, unit: Unit) -> str:
    return render_digest(await compute(s, unit, RULES, TODAY))


async def main() -> None:
    rows = []
    async for kind, label, sessions, unit in each_tree():
        await _make_summary(sessions)
        floor, ratios = await measure(sessions, unit)
        rows.append((kind, label.split()[0], floor, ratios))
    print(f"{'database':<9} {'tree':<9} {'floor ms':>8}  " + "  ".join(f"{s:>13}" for s in STAGES))
    for kind, label, floor, ratios in rows:
        print(f"{kind:<9} {label:<9} {floor * 1000:>8.1f}  " + "  ".join(f"{ratios[s]:>12.2f}×" for s in STAGES))
