"""Migration 0009 on a database holding today's rows: the scheduler's lease stays, the ``pace`` table
and (on PostgreSQL) the ``pace_take`` function arrive, and a downgrade takes them away again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import inspect, text

from bot.dbadmin import downgrade, upgrade
from models.db import make_engine
from tests.conftest import PG_DSN, _pg_admin, require_service, run_sync


@pytest.fixture
def empty_pg() -> Iterator[str]:
    name = f"test_m9_{uuid.uuid4().hex[:8]}"
    try:
        run_sync(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception:
        require_service(False, f"PostgreSQL does not answer at {PG_DSN}")
    yield f"{PG_DSN.rsplit('/', 1)[0]}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    run_sync(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def test_upgrade_keeps_the_lease_and_adds_the_shared_calendar(empty_pg: str) -> None:
    engine = make_engine(empty_pg)
    try:
        await upgrade(engine, "0008_leases")
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO lease (name, holder, expires_at) "
                                    "VALUES ('scheduler', 'w1', '2025-01-10 03:00:00+00')"))
        await upgrade(engine, "0009_pacing")
        async with engine.begin() as conn:
            assert (await conn.execute(text("SELECT holder FROM lease"))).scalars().all() == ["w1"]
            first = (await conn.execute(text("SELECT pace_take('*t', 't:1', 10, 0.5, 1, 0, NULL)"))).scalar_one()
            second = (await conn.execute(text("SELECT pace_take('*t', 't:2', 10, 0.5, 1, 0, NULL)"))).scalar_one()
            assert (first, second) == (0.0, 0.5)
        await downgrade(engine, "0008_leases")
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
            functions = (await conn.execute(text("SELECT count(*) FROM pg_proc WHERE proname = 'pace_take'"))).scalar()
            assert "pace" not in tables and "lease" in tables and functions == 0
    finally:
        await engine.dispose()
