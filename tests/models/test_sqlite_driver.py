"""The one-job-per-statement SQLite driver: results of any size, transactions that really are
BEGIN IMMEDIATE (concurrent read-then-write never fails), empty transactions."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from models.db import make_engine, make_session_factory, transaction


async def test_large_results_stream_in_order(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'd.sqlite3'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
            await conn.execute(text("INSERT INTO t (n) VALUES (:n)"), [{"n": i} for i in range(2500)])
        async with engine.connect() as conn:
            streamed = [row[0] async for row in await conn.stream(text("SELECT n FROM t ORDER BY n"))]
            fetched = (await conn.execute(text("SELECT n FROM t ORDER BY n"))).scalars().all()
            partial = (await conn.execute(text("SELECT n FROM t ORDER BY n"))).first()
        assert streamed == list(range(2500)) == list(fetched)
        assert partial == (0,)
    finally:
        await engine.dispose()


async def test_concurrent_read_then_write_from_two_engines(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'c.sqlite3'}"
    one, two = make_engine(url), make_engine(url)
    try:
        async with one.begin() as conn:
            await conn.execute(text("CREATE TABLE counter (n INTEGER)"))
            await conn.execute(text("INSERT INTO counter VALUES (0)"))

        async def bump(sessions, times: int) -> None:  # type: ignore[no-untyped-def]
            for _ in range(times):
                async with transaction(sessions) as s:
                    n = (await s.execute(text("SELECT n FROM counter"))).scalar_one()
                    await asyncio.sleep(0)  # let the other writer try to get in
                    await s.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})

        await asyncio.gather(bump(make_session_factory(one), 40), bump(make_session_factory(two), 40),
                             bump(make_session_factory(one), 40))
        async with one.connect() as conn:
            assert (await conn.execute(text("SELECT n FROM counter"))).scalar_one() == 120
    finally:
        await one.dispose()
        await two.dispose()


async def test_empty_transactions_commit_and_roll_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'e.sqlite3'}")
    sessions = make_session_factory(engine)
    try:
        async with transaction(sessions):
            pass
        async with sessions() as s:
            await s.rollback()
        async with transaction(sessions) as s:
            assert (await s.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await engine.dispose()
