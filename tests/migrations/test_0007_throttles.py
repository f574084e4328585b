"""Migration 0007 on a database holding today's rows: dashboard logins keep working with epoch 0, the
throttle table is there and empty, and a downgrade takes both away again."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from bot.dbadmin import downgrade, upgrade
from models.db import make_engine


async def test_upgrade_keeps_web_users_and_adds_the_throttle(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        await upgrade(engine, "0002")
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO unit (id, period, code, level, name, type, full_name, depth) "
                                    "VALUES (1, 'p', 'C1', 'commune', 'Hà Tu', 'phường', 'Phường Hà Tu', 0)"))
            await conn.execute(text(
                "INSERT INTO web_user (username, password_hash, role, unit_id, failed_logins, created_at) "
                "VALUES ('canbo', 'scrypt$x', 'staff', 1, 2, '2025-01-10 03:00:00')"))
        await upgrade(engine, "0007_hardening")
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT username, session_epoch FROM web_user"))).all()
            assert [tuple(r) for r in rows] == [("canbo", 0)]
            assert (await conn.execute(text("SELECT count(*) FROM throttle"))).scalar_one() == 0
            await conn.execute(text("INSERT INTO throttle (scope, key, window_start, failures) "
                                    "VALUES ('login', '10.0.0.1', '2025-01-10 03:00:00', 1)"))

        await downgrade(engine, "0002")
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
            columns = await conn.run_sync(lambda c: [col["name"] for col in inspect(c).get_columns("web_user")])
            assert "throttle" not in tables and "session_epoch" not in columns
            assert (await conn.execute(text("SELECT username FROM web_user"))).scalars().all() == ["canbo"]
    finally:
        await engine.dispose()
