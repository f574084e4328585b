"""Digest computation against the bare SQL aggregate (the floor), for the real province and a
national-size synthetic tree, on SQLite and PostgreSQL. Target: digest, rendering included,
≤ 2× floor; peak RSS ≤ 200 MB.

    python -m bench digest
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlmodel import SQLModel, col

from bench.common import analyze, peak_rss_mb, scratch, timed_pair
from models.db import DbSession, SessionFactory, transaction
from models.demo.units import seed_demo
from models.election.tables import CongressReport, ElectionReport
from models.progress.digest import compute
from models.reminders.rules import Rules
from models.typed_sql import id_col
from models.units.tables import Unit, UnitAncestor
from reports.digest_text import render_digest

TODAY = date(2025, 2, 1)
NOW = datetime(2025, 2, 1, 1, tzinfo=UTC)
RULES = Rules(election_date=date(2024, 12, 15))
CHUNK = 5000
FLOOR_SQL = text("""
SELECT v.parent_id, count(*), count(e.id), count(c.held_date),
       sum(CASE WHEN c.merged THEN 1 ELSE 0 END), sum(CASE WHEN e.party_status = 'member' THEN 1 ELSE 0 END)
FROM unit v
LEFT JOIN election_report e ON e.village_id = v.id
LEFT JOIN congress_report c ON c.village_id = v.id
WHERE v.level = 'village' AND v.period = :period
GROUP BY v.parent_id
""")


async def _bulk(session: DbSession, table: type[SQLModel], rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), CHUNK):
        await session.execute(insert(table), rows[i:i + CHUNK])


def _reports(village_ids: list[int], rng: random.Random) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Reports for every other village, ``CHUNK`` villages at a time: mostly full members; congresses
    planned, held, merged."""
    for i in range(0, len(village_ids), 2 * CHUNK):
        elections: list[dict[str, Any]] = []
        congresses: list[dict[str, Any]] = []
        for vid in village_ids[i:i + 2 * CHUNK:2]:
            status = rng.choices(("member", "probationary", "non_member"), (85, 8, 7))[0]
            elections.append(dict(village_id=vid, revision=1, election_date=date(2024, 12, 15),
                                  head_name="Nguyễn Văn A", votes_for=80, valid_ballots=95, roll=100,
                                  party_status=status, updated_at=NOW,
                                  party_date=date(2024, 6, 1) if status == "probationary" else None))
            r = rng.random()
            if status == "member" and r < 0.6:
                planned = TODAY + timedelta(days=rng.randint(-20, 20))
                held = planned if planned < TODAY and r < 0.4 else None
                congresses.append(dict(village_id=vid, revision=1, planned_date=planned, held_date=held,
                                       secretary_name="Nguyễn Văn A" if held else None,
                                       merged=(r < 0.37) if held else None, updated_at=NOW))
        yield elections, congresses


async def _insert_reports(session: DbSession, village_ids: list[int], rng: random.Random) -> None:
    for elections, congresses in _reports(village_ids, rng):
        await _bulk(session, ElectionReport, elections)
        await _bulk(session, CongressReport, congresses)


async def build_province(sessions: SessionFactory) -> Unit:
    async with transaction(sessions) as s:
        await seed_demo(s, "post2025")
        ids = list((await s.execute(select(id_col(Unit.id)).where(col(Unit.period) == "post2025",
                                                                  col(Unit.level) == "village")
                                    .order_by(col(Unit.id)))).scalars())
        await _insert_reports(s, ids, random.Random(1))
        return (await s.execute(select(Unit).where(col(Unit.period) == "post2025",
                                                   col(Unit.level) == "province"))).scalar_one()


async def build_nation(sessions: SessionFactory, provinces: int = 34, communes: int = 3300,
                       villages: int = 80_000) -> Unit:
    """Nation → 34 provinces → 3,300 communes → 80,000 villages, inserted in bulk with their closure rows;
    reports for half of the villages. Rows are generated and inserted ``CHUNK`` units at a time, so that
    the builder's own lists do not weigh on the process's peak memory."""
    rng = random.Random(2)
    next_id = 10_000_000
    async with transaction(sessions) as s:
        root = dict(id=next_id, period="national", code="VN", level="nation", name="Việt Nam", full_name="Việt Nam",
                    parent_id=None, depth=0)
        await _bulk(s, Unit, [root])
        await _bulk(s, UnitAncestor, [dict(ancestor_id=next_id, descendant_id=next_id, distance=0)])
        chains: list[tuple[int, ...]] = [(next_id,)]  # ancestor chain (root first) of each unit of the previous level
        counts = (provinces, communes, villages)
        for depth, (level, n) in enumerate(zip(("province", "commune", "village"), counts, strict=True), start=1):
            new_chains: list[tuple[int, ...]] = []
            for start in range(0, n, CHUNK):
                units, closure = [], []
                for i in range(start, min(n, start + CHUNK)):
                    parent_chain = chains[i * len(chains) // n]
                    next_id += 1
                    code = f"{parent_chain[-1] - 10_000_000:05d}.{i:05d}"
                    units.append(dict(id=next_id, period="national", code=code, level=level, name=f"{level} {i}",
                                      full_name=f"{level.capitalize()} {i}", parent_id=parent_chain[-1],
                                      depth=depth))
                    chain = (*parent_chain, next_id)
                    closure += [dict(ancestor_id=a, descendant_id=next_id, distance=len(chain) - 1 - k)
                                for k, a in enumerate(chain)]
                    new_chains.append(chain)
                await _bulk(s, Unit, units)
                await _bulk(s, UnitAncestor, closure)
            chains = new_chains
        village_ids = [c[-1] for c in chains]
        del chains
        await _insert_reports(s, village_ids, rng)
        return (await s.execute(select(Unit).where(col(Unit.code) == "VN",
                                                   col(Unit.period) == "national"))).scalar_one()


async def measure(sessions: SessionFactory, unit: Unit) -> tuple[int, float, float]:
    """The floor and the digest (computed and rendered), in the same session, run alternately."""
    async with sessions() as s:
        villages = (await s.execute(select(func.count()).select_from(Unit).where(
            col(Unit.period) == unit.period, col(Unit.level) == "village"))).scalar_one()

        async def floor() -> object:
            return (await s.execute(FLOOR_SQL, {"period": unit.period})).all()

        async def digest() -> object:
            return render_digest(await compute(s, unit, RULES, TODAY))

        floor_s, digest_s = await timed_pair(floor, digest, repeat=15 if villages < 10_000 else 9)
        return villages, floor_s, digest_s


async def each_tree() -> AsyncIterator[tuple[str, str, SessionFactory, Unit]]:
    """(database, tree label, sessions, top unit) for the province and the nation on each database,
    statistics fresh (as autovacuum would gather them) for the floor and the digest."""
    for kind in ("sqlite", "postgres"):
        async with scratch(kind) as sessions:
            if sessions is None:
                print(f"{kind}: PostgreSQL does not answer, skipped")
                continue
            for label, build in (("province (Quảng Ninh)", build_province), ("nation (synthetic)", build_nation)):
                unit = await build(sessions)
                await analyze(sessions)
                yield kind, label, sessions, unit


async def main() -> None:
    rows = []
    async for kind, label, sessions, unit in each_tree():
        villages, floor_s, digest_s = await measure(sessions, unit)
        rows.append((kind, label, villages, floor_s, digest_s))
    print(f"{'database':<9} {'tree':<22} {'villages':>8} {'floor ms':>9} {'digest ms':>10} {'ratio':>6}  target ≤2×")
    for kind, label, villages, floor_s, digest_s in rows:
        ratio = digest_s / floor_s if floor_s else float("inf")
        verdict = "ok" if ratio <= 2 else "OVER"
        print(f"{kind:<9} {label:<22} {villages:>8} {floor_s * 1000:>9.1f} {digest_s * 1000:>10.1f} "
              f"{ratio:>5.2f}×  {verdict}")
    rss = peak_rss_mb()
    print(f"peak RSS of this process (national tree built and digested): {rss:.0f} MB "
          f"(target ≤ 200 MB: {'ok' if rss <= 200 else 'OVER'})")
