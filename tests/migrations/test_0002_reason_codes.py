"""Migration 0002 on a database holding the rows the bot wrote before it: reasons become codes,
a typed reason is kept as a note, nothing is lost, and a downgrade gives the old texts back."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from bot.dbadmin import downgrade, upgrade
from models.db import make_engine

OLD_ROWS = [  # village, reason as 0001 stored it
    (1, "Trưởng thôn chưa là đảng viên chính thức"),
    (2, "Chi bộ bầu đồng chí khác làm bí thư"),
    (3, "Trưởng thôn xin nghỉ vì lý do sức khỏe"),
    (4, None),  # merged: no reason
]


async def test_upgrade_maps_old_reasons_to_codes_and_keeps_typed_ones(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        await upgrade(engine, "0001")
        async with engine.begin() as conn:
            for village, _ in OLD_ROWS:
                await conn.execute(text("INSERT INTO unit (id, period, code, level, name, type, full_name, depth) "
                                        "VALUES (:v, 'p', :c, 'village', :c, 'thôn', :c, 0)"), {"v": village,
                                                                                              "c": f"V{village}"})
            for village, reason in OLD_ROWS:
                await conn.execute(text(
                    "INSERT INTO congress_report (village_id, revision, held_date, secretary_name, merged, "
                    "not_merged_reason, updated_at) VALUES (:v, 1, '2025-01-10', 'Lê Văn B', :m, :r, "
                    "'2025-01-10 03:00:00')"), {"v": village, "m": reason is None, "r": reason})
        await upgrade(engine)
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT village_id, not_merged_reason, not_merged_note "
                                            "FROM congress_report ORDER BY village_id"))).all()
        assert [tuple(r) for r in rows] == [
            (1, "head_not_member", None), (2, "other_elected", None),
            (3, "other", "Trưởng thôn xin nghỉ vì lý do sức khỏe"), (4, None, None)]

        await downgrade(engine, "0001")
        async with engine.connect() as conn:
            back = (await conn.execute(text("SELECT not_merged_reason FROM congress_report "
                                            "ORDER BY village_id"))).scalars().all()
        assert back == [reason for _, reason in OLD_ROWS]
    finally:
        await engine.dispose()
