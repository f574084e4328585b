"""Migration 0010 on a database holding today's rows (a giao ban report among them): report_photo appears
and matches its model, giaoban_report loses only its never-used ``photos`` column and keeps its rows, a
photo can be stored against the old rows; a downgrade gives the column back and keeps the reports."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlmodel import SQLModel

import models.schema  # noqa: F401  (registers every table)
from bot.dbadmin import downgrade, upgrade
from models.db import make_engine


def _diffs(connection: Connection) -> list[object]:
    diffs = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    return [d for d in diffs if "report_photo" in repr(d) or "giaoban_report" in repr(d)]


def _columns(connection: Connection, table: str) -> set[str]:
    return {c["name"] for c in inspect(connection).get_columns(table)}


async def test_upgrade_adds_photos_and_keeps_the_reports(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        await upgrade(engine, "0009_pacing")
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO unit (id, period, code, level, name, type, full_name, depth) VALUES "
                                    "(1, 'post2025', 'C1', 'commune', 'Hà Tu', 'phường', 'Phường Hà Tu', 0), "
                                    "(2, 'post2025', 'V1', 'village', 'Tổ 1', 'tổ', 'Tổ 1', 1)"))
            await conn.execute(text("INSERT INTO giaoban_meeting (commune_id, starts_at, place, cancelled, created_at) "
                                    "VALUES (1, '2025-01-10 01:00:00', 'Hội trường', 0, '2025-01-01 01:00:00')"))
            await conn.execute(text("INSERT INTO giaoban_report (meeting_id, village_id, revision, answers, photos, "
                                    "updated_at) VALUES (1, 2, 1, '{\"urgent\": \"Sạt lở\"}', '[]', "
                                    "'2025-01-05 01:00:00')"))
        await upgrade(engine)
        async with engine.begin() as conn:
            assert "report_photo" in set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            assert "photos" not in await conn.run_sync(_columns, "giaoban_report")
            assert await conn.run_sync(_diffs) == []
            row = (await conn.execute(text("SELECT meeting_id, village_id, answers FROM giaoban_report"))).one()
            assert row[0] == 1 and row[1] == 2 and "Sạt lở" in row[2]
            await conn.execute(text("INSERT INTO report_photo (village_id, kind, ref_id, mime_type, size, content, "
                                    "created_at) VALUES (2, 'giaoban', 1, 'image/jpeg', 4, X'FFD8FFE0', "
                                    "'2025-01-05 02:00:00')"))

        await downgrade(engine, "0009_pacing")
        async with engine.begin() as conn:
            assert "report_photo" not in set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            assert "photos" in await conn.run_sync(_columns, "giaoban_report")
            assert (await conn.execute(text("SELECT count(*) FROM giaoban_report"))).scalar_one() == 1
    finally:
        await engine.dispose()
