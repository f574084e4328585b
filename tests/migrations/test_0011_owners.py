"""Migration 0011 on a database holding today's rows: the inbox and the outbox get their ``owner``
column, the rows stay (without an owner, so the next start takes them), and a downgrade takes it away."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from bot.dbadmin import downgrade, upgrade
from models.db import make_engine
from tests.conftest import PG_DSN, _pg_admin, require_service

INBOX = ("INSERT INTO inbox_message (channel, key, account, payload, received_at) "
         "VALUES ('zalo', 'u1:m1', 'u1', '{}', '2025-01-10 03:00:00+00')")


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'm11.sqlite3'}"
        shutil.rmtree(tmp_path, ignore_errors=True)
        return
    name = f"test_m11_{uuid.uuid4().hex[:8]}"
    try:
        await _pg_admin(f'CREATE DATABASE "{name}"')
    except Exception:
        require_service(False, f"PostgreSQL does not answer at {PG_DSN}")
    yield f"{PG_DSN.rsplit('/', 1)[0]}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def columns(conn: object, table: str) -> list[str]:
    return [c["name"] for c in inspect(conn).get_columns(table)]


async def test_upgrade_adds_the_owners_and_keeps_the_rows(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        await upgrade(engine, "0010_photos")
        async with engine.begin() as conn:
            await conn.execute(text(INBOX))
        await upgrade(engine, "0011_owners")
        async with engine.begin() as conn:
            assert "owner" in await conn.run_sync(columns, "inbox_message")
            assert "owner" in await conn.run_sync(columns, "outbox_message")
            rows = (await conn.execute(text("SELECT key, owner, done_at FROM inbox_message"))).all()
            assert [tuple(r) for r in rows] == [("u1:m1", None, None)]
        await downgrade(engine, "0010_photos")
        async with engine.begin() as conn:
            assert "owner" not in await conn.run_sync(columns, "inbox_message")
            assert "owner" not in await conn.run_sync(columns, "outbox_message")
            assert (await conn.execute(text("SELECT key FROM inbox_message"))).scalars().all() == ["u1:m1"]
    finally:
        await engine.dispose()
