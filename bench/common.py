"""Scratch databases for the benchmarks: a SQLite file and a PostgreSQL database ``bench_<pid>_<n>``."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.dbadmin import upgrade
from models.db import SessionFactory, make_engine, make_session_factory

PG_ADMIN = os.environ.get("BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")


@asynccontextmanager
async def scratch(kind: str) -> AsyncIterator[SessionFactory | None]:
    """A migrated scratch database of ``kind`` (sqlite | postgres), removed afterwards; None when
    PostgreSQL does not answer."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}")
            await upgrade(engine)
            try:
                yield make_session_factory(engine)
            finally:
                await engine.dispose()
        return
    async with postgres_url() as url:
        if url is None:
            yield None
            return
        engine = make_engine(url)
        await upgrade(engine)
        try:
            yield make_session_factory(engine)
        finally:
            await engine.dispose()


def url_of(sessions: SessionFactory) -> str:
    """The URL of the database ``sessions`` reach, password included (for a process of its own)."""
    engine = sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    return engine.url.render_as_string(hide_password=False)


@asynccontextmanager
async def postgres_url() -> AsyncIterator[str | None]:
    """The URL of an empty scratch PostgreSQL database (``bench_<pid>_<n>``), dropped afterwards; None
    when PostgreSQL does not answer."""
    global _made
    _made += 1
    name = f"bench_{os.getpid()}_{_made}"
    try:
        admin = await asyncpg.connect(PG_ADMIN, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        yield None
        return
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


_made = 0


async def timed(fn: Callable[[], Awaitable[object]], repeat: int = 7) -> float:
    """Median wall time in seconds of ``repeat`` runs, after one warm-up run."""
    await fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


async def timed_pair(floor: Callable[[], Awaitable[object]], fn: Callable[[], Awaitable[object]],
                     repeat: int = 9) -> tuple[float, float]:
    """Median wall times in seconds of ``floor`` and ``fn``, run alternately (after one warm-up run
    each), so that a busy machine slows both alike."""
    await floor()
    await fn()
    floors: list[float] = []
    fns: list[float] = []
    for _ in range(repeat):
        for f, times in ((floor, floors), (fn, fns)):
            t0 = time.perf_counter()
            await f()
            times.append(time.perf_counter() - t0)
    return statistics.median(floors), statistics.median(fns)


async def analyze(sessions: SessionFactory) -> None:
    """Fresh planner statistics after a bulk load, as autovacuum would gather them: ``VACUUM ANALYZE``
    on PostgreSQL (it also sets the visibility map that index-only scans rely on), ``ANALYZE`` on SQLite."""
    engine = sessions.kw["bind"]
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(text("VACUUM ANALYZE"))
        else:
            await conn.execute(text("ANALYZE"))
            await conn.commit()


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
