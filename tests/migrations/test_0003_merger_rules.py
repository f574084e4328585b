"""Migration 0003 on a database holding the rows the bot wrote before it: a planned admission moves
to its own column, a congress result on file was chosen at a congress, nothing is lost, the statuses
follow the merger rules, and a downgrade gives the old rows back."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import text

from bot.dbadmin import downgrade, upgrade
from models.db import make_engine, make_session_factory
from models.progress.status import village_status

ELECTIONS = [  # village, party status, party_date as 0002 stored it (admission, or planned admission)
    (1, "member", None),
    (2, "probationary", "2024-05-20"),
    (3, "non_member", "2025-03-01"),
    (4, "non_member", None),
]
CONGRESSES = [  # village, held, merged (village 2: a probationary head recorded as merged before the rules)
    (1, "2025-01-10", True),
    (2, "2025-01-10", True),
]


async def test_upgrade_maps_todays_rows_onto_the_merger_model(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        await upgrade(engine, "0002")
        async with engine.begin() as conn:
            for village, party, when in ELECTIONS:
                await conn.execute(text("INSERT INTO unit (id, period, code, level, name, type, full_name, depth) "
                                        "VALUES (:v, 'p', :c, 'village', :c, 'thôn', :c, 0)"),
                                   {"v": village, "c": f"V{village}"})
                await conn.execute(text(
                    "INSERT INTO election_report (village_id, revision, election_date, head_name, votes_for, "
                    "valid_ballots, roll, party_status, party_date, updated_at) VALUES (:v, 1, '2024-12-15', "
                    "'Lê Văn B', 300, 350, 400, :p, :d, '2024-12-16 03:00:00')"), {"v": village, "p": party, "d": when})
            for village, held, merged in CONGRESSES:
                await conn.execute(text(
                    "INSERT INTO congress_report (village_id, revision, held_date, secretary_name, merged, "
                    "updated_at) VALUES (:v, 1, :h, 'Lê Văn B', :m, '2025-01-10 03:00:00')"),
                    {"v": village, "h": held, "m": merged})
        await upgrade(engine)
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT village_id, party_status, party_date, admission_planned_date "
                                            "FROM election_report ORDER BY village_id"))).all()
            methods = (await conn.execute(text("SELECT method, approval_number FROM congress_report "
                                               "ORDER BY village_id"))).all()
        assert [tuple(r) for r in rows] == [
            (1, "member", None, None), (2, "probationary", "2024-05-20", None),
            (3, "non_member", None, "2025-03-01"), (4, "non_member", None, None)]
        assert [tuple(r) for r in methods] == [("congress", None), ("congress", None)]
        async with make_session_factory(engine)() as s:
            statuses = [await village_status(s, v, date(2025, 2, 1)) for v, _, _ in ELECTIONS]
        # the probationary head "merged" before the rules is not counted as merged; the full member waits for
        # the decisions those rows never held (recognition of the election, approval of the secretary)
        assert statuses == ["merger_pending", "not_merged", "elected_non_member", "elected_non_member"]

        await downgrade(engine, "0002")
        async with engine.connect() as conn:
            back = (await conn.execute(text("SELECT village_id, party_status, party_date FROM election_report "
                                            "ORDER BY village_id"))).all()
        assert [tuple(r) for r in back] == ELECTIONS
    finally:
        await engine.dispose()
