"""Migration 0011 on a database holding an attendance answer: the answer stays, the deputy column
arrives empty and matches the model, and a downgrade takes only the column away."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlmodel import SQLModel

import models.schema  # noqa: F401  (registers every table)
from bot.dbadmin import downgrade, upgrade
from models.db import make_engine


def _attendance_diffs(connection: Connection) -> list[object]:
    diffs = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    return [d for d in diffs if "giaoban_attendance" in repr(d)]


async def test_the_deputy_column_comes_and_goes(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        await upgrade(engine, "0011_owners")
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO unit (id, period, code, level, name, type, full_name, depth) VALUES "
                                    "(1, 'post2025', 'C1', 'commune', 'Hà Tu', 'phường', 'Phường Hà Tu', 0), "
                                    "(2, 'post2025', 'V1', 'village', 'Tổ 1', 'tổ', 'Tổ 1', 1)"))
            await conn.execute(text("INSERT INTO giaoban_meeting (id, commune_id, starts_at, place, cancelled, "
                                    "created_at) VALUES (1, 1, '2024-12-24 01:00:00', '', 0, '2024-12-20 01:00:00')"))
            await conn.execute(text("INSERT INTO giaoban_attendance (meeting_id, village_id, attending, reason, "
                                    "answered_at) VALUES (1, 2, 0, 'ốm', '2024-12-21 01:00:00')"))
        await upgrade(engine)
        async with engine.begin() as conn:
            row = (await conn.execute(text("SELECT attending, reason, deputy FROM giaoban_attendance"))).one()
            assert tuple(row) == (0, "ốm", None)
            assert await conn.run_sync(_attendance_diffs) == []
        await downgrade(engine, "0011_owners")
        async with engine.begin() as conn:
            columns = await conn.run_sync(
                lambda c: {col["name"] for col in inspect(c).get_columns("giaoban_attendance")})
            assert "deputy" not in columns and "reason" in columns
            assert (await conn.execute(text("SELECT reason FROM giaoban_attendance"))).scalar_one() == "ốm"
    finally:
        await engine.dispose()
