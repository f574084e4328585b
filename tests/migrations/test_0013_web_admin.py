"""Migration 0011 on a database holding a login and an invite: ``web_user.disabled`` (false for the
existing login), ``web_user.last_login_at`` and ``invite.revoked_at`` appear and match the models; a
downgrade takes them away and keeps the rows."""

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
    return [d for d in diffs if "web_user" in repr(d) or "invite" in repr(d)]


def _columns(connection: Connection, table: str) -> set[str]:
    return {c["name"] for c in inspect(connection).get_columns(table)}


async def test_upgrade_and_downgrade_keep_the_login_and_the_invite(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        await upgrade(engine, "0012_giaoban_deputy")
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO unit (id, period, code, level, name, type, full_name, depth) VALUES "
                                    "(1, 'post2025', 'C1', 'commune', 'Hà Tu', 'phường', 'Phường Hà Tu', 0)"))
            await conn.execute(text("INSERT INTO web_user (username, password_hash, role, unit_id, failed_logins, "
                                    "created_at, session_epoch) VALUES ('canbo', 'x', 'staff', 1, 0, "
                                    "'2025-01-01 01:00:00', 3)"))
            await conn.execute(text("INSERT INTO invite (code, role, unit_id, created_at, expires_at) VALUES "
                                    "('ABCD2345', 'staff', 1, '2025-01-01 01:00:00', '2025-02-01 01:00:00')"))
        await upgrade(engine)
        async with engine.begin() as conn:
            assert {"disabled", "last_login_at"} <= await conn.run_sync(_columns, "web_user")
            assert "revoked_at" in await conn.run_sync(_columns, "invite")
            assert await conn.run_sync(_diffs) == []
            row = (await conn.execute(text("SELECT disabled, last_login_at, session_epoch FROM web_user"))).one()
            assert tuple(row) == (0, None, 3)
            assert (await conn.execute(text("SELECT revoked_at FROM invite"))).scalar_one() is None
        await downgrade(engine, "0012_giaoban_deputy")
        async with engine.begin() as conn:
            assert "disabled" not in await conn.run_sync(_columns, "web_user")
            assert "revoked_at" not in await conn.run_sync(_columns, "invite")
            assert (await conn.execute(text("SELECT count(*) FROM web_user"))).scalar_one() == 1
            assert (await conn.execute(text("SELECT code FROM invite"))).scalar_one() == "ABCD2345"
    finally:
        await engine.dispose()
