"""Shared fixtures: a real SQLite file and the real PostgreSQL server, both at the migrated schema.

PostgreSQL: each test session creates its own database next to ``test`` (so parallel runs do not
collide) and drops it at the end; each test starts from empty tables. Outside CI a missing server
skips those tests with the reason; under ``CI=true`` it fails them.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from bot.dbadmin import upgrade
from models.db import SessionFactory, make_engine, make_session_factory

PG_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_service(ok: bool, why: str) -> None:
    """Skip for a missing external service, except under CI where it must be there."""
    if ok:
        return
    if IN_CI:
        pytest.fail(f"{why} (required under CI)")
    pytest.skip(why)


@dataclass
class Database:
    kind: str
    url: str
    engine: AsyncEngine
    sessions: SessionFactory


def run_sync(coro) -> object:  # type: ignore[no-untyped-def]
    """Run a coroutine to completion from sync code, even when a loop is running in this thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _pg_admin(sql: str) -> None:
    conn = await asyncio.wait_for(asyncpg.connect(PG_DSN), 5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str | None]:
    """A fresh PostgreSQL database for this test session, migrated; None when no server answers."""
    name = f"test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        run_sync(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError):
        yield None
        return
    base = PG_DSN.rsplit("/", 1)[0]
    url = f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)

    async def _migrate() -> None:
        engine = make_engine(url)
        await upgrade(engine)
        await engine.dispose()

    run_sync(_migrate())
    yield url
    run_sync(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"

    async def _migrate() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        await engine.dispose()

    run_sync(_migrate())
    return path


async def _truncate_all(engine: AsyncEngine) -> None:
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Database]:
    """The same tests on a real SQLite file and on the real PostgreSQL server."""
    if request.param == "sqlite":
        path = tmp_path / "bot.sqlite3"
        shutil.copy(sqlite_template, path)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        pg = request.getfixturevalue("pg_database")
        require_service(pg is not None, f"PostgreSQL does not answer at {PG_DSN}")
        url = pg
    engine = make_engine(url)
    if request.param == "postgres":
        await _truncate_all(engine)
    try:
        yield Database(request.param, url, engine, make_session_factory(engine))
    finally:
        await engine.dispose()


@pytest.fixture
async def pg_db(pg_database: str | None) -> AsyncIterator[Database]:
    """Only PostgreSQL, for what only a database server does (a connection lost, a server restarted)."""
    require_service(pg_database is not None, f"PostgreSQL does not answer at {PG_DSN}")
    assert pg_database is not None
    engine = make_engine(pg_database)
    await _truncate_all(engine)
    try:
        yield Database("postgres", pg_database, engine, make_session_factory(engine))
    finally:
        await engine.dispose()


@pytest.fixture
async def sqlite_db(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Database]:
    """Only SQLite, for tests whose subject is not the database."""
    path = tmp_path / "bot.sqlite3"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    engine = make_engine(url)
    try:
        yield Database("sqlite", url, engine, make_session_factory(engine))
    finally:
        await engine.dispose()
