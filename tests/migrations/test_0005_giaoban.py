"""Migration 0005 on a database holding today's rows: the giao ban tables appear, match the models,
the old rows are untouched and usable with them, and a downgrade removes only the new tables."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlmodel import SQLModel

import models.schema  # noqa: F401  (registers every table)
from bot.dbadmin import downgrade, upgrade
from models.db import make_engine

NEW = {"giaoban_schedule", "giaoban_meeting", "giaoban_attendance", "giaoban_report", "giaoban_revision",
       "giaoban_conclusion", "giaoban_directive"}


def _giaoban_diffs(connection: Connection) -> list[object]:
    diffs = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)

    def mine(diff: object) -> bool:
        return "giaoban" in repr(diff)

    return [d for d in diffs if mine(d)]


async def test_upgrade_adds_the_tables_and_keeps_the_rows(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        await upgrade(engine, "0002")
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO unit (id, period, code, level, name, type, full_name, depth) VALUES "
                                    "(1, 'post2025', 'C1', 'commune', 'Hà Tu', 'phường', 'Phường Hà Tu', 0), "
                                    "(2, 'post2025', 'V1', 'village', 'Tổ 1', 'tổ', 'Tổ 1', 1)"))
            await conn.execute(text("UPDATE unit SET parent_id = 1 WHERE id = 2"))
        await upgrade(engine)
        async with engine.begin() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            assert NEW <= tables
            assert await conn.run_sync(_giaoban_diffs) == []
            await conn.execute(text("INSERT INTO giaoban_meeting (commune_id, starts_at, place, cancelled, created_at) "
                                    "VALUES (1, '2025-01-10 01:00:00', 'Hội trường', 0, '2025-01-01 01:00:00')"))
            await conn.execute(text("INSERT INTO giaoban_attendance (meeting_id, village_id, attending, answered_at) "
                                    "VALUES (1, 2, 1, '2025-01-02 01:00:00')"))
            units = (await conn.execute(text("SELECT code, parent_id FROM unit ORDER BY id"))).all()
            assert [tuple(u) for u in units] == [("C1", None), ("V1", 1)]

        await downgrade(engine, "0002")
        async with engine.begin() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            assert not (NEW & tables) and "unit" in tables
            assert (await conn.execute(text("SELECT count(*) FROM unit"))).scalar_one() == 2
    finally:
        await engine.dispose()
