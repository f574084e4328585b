"""Migration 0004 on a database holding today's election results: every row kept, the new columns
filled (election 1, a regular one), validity judged on the majority the row holds (attendees were not
asked before), and a downgrade gives the old table back with its rows."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from bot.dbadmin import downgrade, upgrade
from models.db import make_engine

OLD_ROWS = [(1, 320, 350, 400), (2, 200, 350, 400)]  # village, votes for, valid ballots, roll


async def test_upgrade_keeps_results_and_judges_their_majority(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        await upgrade(engine, "0002")
        async with engine.begin() as conn:
            for village, votes, valid, roll in OLD_ROWS:
                await conn.execute(text("INSERT INTO unit (id, period, code, level, name, type, full_name, depth) "
                                        "VALUES (:v, 'p', :c, 'village', :c, 'thôn', :c, 0)"),
                                   {"v": village, "c": f"V{village}"})
                await conn.execute(text(
                    "INSERT INTO election_report (village_id, revision, election_date, head_name, votes_for, "
                    "valid_ballots, roll, party_status, updated_at) VALUES (:v, 1, '2024-12-15', 'Lê Thị Hoa', "
                    ":votes, :valid, :roll, 'member', '2024-12-16 03:00:00')"),
                    {"v": village, "votes": votes, "valid": valid, "roll": roll})
        await upgrade(engine)
        async with engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT village_id, votes_for, valid, election_no, election_kind, attendees, recognition "
                "FROM election_report ORDER BY village_id"))).all()
        assert [tuple(r) for r in rows] == [(1, 320, 1, 1, "regular", None, None),
                                            (2, 200, 0, 1, "regular", None, None)]

        await downgrade(engine, "0002")
        async with engine.connect() as conn:
            back = (await conn.execute(text("SELECT village_id, votes_for FROM election_report "
                                            "ORDER BY village_id"))).all()
            columns = {r[1] for r in (await conn.execute(text("PRAGMA table_info(election_report)"))).all()}
        assert [tuple(r) for r in back] == [(1, 320), (2, 200)] and "attendees" not in columns
    finally:
        await engine.dispose()
