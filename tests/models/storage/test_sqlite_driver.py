"""The one-job-per-statement SQLite driver: results of any size, write transactions that really are
BEGIN IMMEDIATE (concurrent read-then-write never fails), plain reads that take no write lock (they
neither wait for a writer nor hold one up), empty transactions."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from models.db import SessionFactory, make_engine, make_session_factory, transaction
from models.sqlite_driver import FastConnection
from models.units.tables import Unit
from tests.conftest import Database


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


Numbers = tuple[AsyncEngine, SessionFactory, Path]


@pytest.fixture
async def numbers(tmp_path: Path) -> AsyncIterator[Numbers]:
    """A SQLite file with a table ``t`` of 2,500 numbers (more than one chunk of the driver)."""
    path = tmp_path / "r.sqlite3"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        await conn.execute(text("INSERT INTO t (n) VALUES (:n)"), [{"n": i} for i in range(2500)])
    try:
        yield engine, make_session_factory(engine), path
    finally:
        await engine.dispose()


def write_lock_is_free(path: Path) -> bool:
    """Whether another connection could start writing now; asks once, without waiting."""
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:  # database is locked
        return False
    finally:
        probe.close()


async def test_write_transactions_lock_at_their_first_statement_plain_reads_never(numbers: Numbers) -> None:
    _, sessions, path = numbers
    async with transaction(sessions) as s:
        await s.execute(text("SELECT count(*) FROM t"))  # a read first: the lock is taken all the same
        assert not write_lock_is_free(path)
    async with sessions() as s, s.begin():  # an explicit begin is a unit of work, like transaction()
        await s.execute(text("SELECT count(*) FROM t"))
        assert not write_lock_is_free(path)
    async with sessions() as s:
        assert (await s.execute(text("SELECT count(*) FROM t"))).scalar_one() == 2500
        assert (await s.execute(text("SELECT max(n) FROM t"))).scalar_one() == 2499
        assert write_lock_is_free(path)
    assert write_lock_is_free(path)


async def test_a_plain_read_does_not_wait_for_an_open_write_transaction(numbers: Numbers) -> None:
    _, sessions, path = numbers
    async with transaction(sessions) as writer:
        await writer.execute(text("INSERT INTO t (n) VALUES (2500)"))
        assert not write_lock_is_free(path)  # taken, not committed
        async with sessions() as reader:  # would wait for the writer (and time out) if it asked for the lock
            seen = (await reader.execute(text("SELECT count(*), max(n) FROM t"))).one()
        assert tuple(seen) == (2500, 2499)  # the committed data, not the writer's row
    async with sessions() as reader:
        assert (await reader.execute(text("SELECT count(*) FROM t"))).scalar_one() == 2501


async def test_a_long_read_does_not_hold_up_a_writer(numbers: Numbers) -> None:
    _, sessions, _path = numbers
    streamed: list[int] = []
    async with sessions() as reader:
        async for n in await reader.stream_scalars(text("SELECT n FROM t ORDER BY n")):
            streamed.append(n)
            if len(streamed) == 1500:  # midway through the read, past the driver's first chunk
                async with transaction(sessions) as writer:  # commits while the read goes on
                    await writer.execute(text("UPDATE t SET n = n + 10000"))
                    await writer.execute(text("INSERT INTO t (n) VALUES (-1)"))
        # the read saw one state of the database from start to end: the one before the write
        assert streamed == list(range(2500))
        assert (await reader.execute(text("SELECT count(*) FROM t"))).scalar_one() == 2500
    async with sessions() as reader:
        assert (await reader.execute(text("SELECT count(*), min(n), max(n) FROM t"))).one() == (2501, -1, 12499)


async def test_a_plain_session_that_writes_still_commits(numbers: Numbers) -> None:
    _, sessions, path = numbers
    async with sessions() as s:
        await s.execute(text("DELETE FROM t WHERE n >= 100"))
        await s.commit()
        assert write_lock_is_free(path)
    async with sessions() as s:
        assert (await s.execute(text("SELECT count(*) FROM t"))).scalar_one() == 100


async def test_reads_beside_an_open_writer_on_both_databases(db: Database) -> None:
    """The same code on SQLite and PostgreSQL: a read beside an uncommitted write sees what is committed."""
    async with transaction(db.sessions) as s:
        s.add(Unit(period="p", code="A", level="province", name="A"))
    async with transaction(db.sessions) as writer:
        writer.add(Unit(period="p", code="B", level="province", name="B"))
        await writer.flush()
        async with db.sessions() as reader:
            codes = (await reader.execute(select(Unit.code).where(Unit.period == "p"))).scalars().all()
        assert codes == ["A"]
    async with db.sessions() as reader:
        codes = (await reader.execute(select(Unit.code).where(Unit.period == "p").order_by(Unit.code))).scalars().all()
    assert codes == ["A", "B"]


async def test_a_close_after_a_stop_returns(tmp_path: Path) -> None:
    """SQLAlchemy terminating a cancelled connection: a forced stop beside a graceful close. The close used
    to wait for ever on a job queued behind the thread's end (and the event loop could not close)."""
    from models.sqlite_driver import connect

    conn = await connect(str(tmp_path / "x.sqlite3"))
    closing = asyncio.ensure_future(conn.close())
    stopped = conn.stop()
    assert stopped is not None
    await stopped
    with contextlib.suppress(ValueError):  # "Connection closed": the stop came first
        await closing
    assert closing.done() and conn.stop() is None


async def test_writers_of_one_process_queue_in_the_gate_not_in_sqlites_busy_handler(tmp_path: Path) -> None:
    """With SQLite's busy timeout at 0, a second writer meeting the write lock would fail at once: the
    gate makes it wait its turn instead (and the turn comes as soon as the lock is free)."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'g.sqlite3'}")

    @event.listens_for(engine.sync_engine, "connect")
    def _no_busy_wait(dbapi_conn: Any, _record: object) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=0")
        cur.close()

    sessions = make_session_factory(engine)
    order: list[int] = []
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE counter (n INTEGER)"))
            await conn.execute(text("INSERT INTO counter VALUES (0)"))

        async def bump(i: int) -> None:
            async with transaction(sessions) as s:
                n = (await s.execute(text("SELECT n FROM counter"))).scalar_one()
                order.append(i)
                await asyncio.sleep(0.01)  # hold the write lock across event-loop turns
                await s.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})

        await asyncio.gather(*(bump(i) for i in range(8)))
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT n FROM counter"))).scalar_one() == 8
        assert sorted(order) == list(range(8))
    finally:
        await engine.dispose()


async def test_the_gate_is_given_back_after_a_failure_and_waits_no_longer_than_the_busy_timeout(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FastConnection, "gate_timeout", 0.2)
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'h.sqlite3'}")
    sessions = make_session_factory(engine)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        with pytest.raises(ZeroDivisionError):
            async with transaction(sessions) as s:
                await s.execute(text("INSERT INTO t VALUES (1)"))
                raise ZeroDivisionError  # rolled back: the gate is free again
        holding, release = asyncio.Event(), asyncio.Event()

        async def hold() -> None:
            async with transaction(sessions) as s:
                await s.execute(text("INSERT INTO t VALUES (2)"))
                holding.set()
                await release.wait()

        holder = asyncio.create_task(hold())
        await holding.wait()
        with pytest.raises(OperationalError, match="database is locked"):  # as SQLite itself would say
            async with transaction(sessions) as s:
                await s.execute(text("INSERT INTO t VALUES (3)"))
        release.set()
        await holder
        async with transaction(sessions) as s:
            await s.execute(text("INSERT INTO t VALUES (4)"))
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT n FROM t ORDER BY n"))).scalars().all() == [2, 4]
    finally:
        await engine.dispose()


async def test_a_writer_cancelled_mid_statement_gives_the_gate_back(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FastConnection, "gate_timeout", 10.0)  # a leaked gate fails the last write, not hangs
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'k.sqlite3'}")
    sessions = make_session_factory(engine)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        started = asyncio.Event()

        async def long_write() -> None:
            async with transaction(sessions) as s:
                await s.execute(text("INSERT INTO t VALUES (1)"))
                started.set()
                await s.execute(text(  # a statement that runs for a while on the connection's thread
                    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) "
                    "INSERT INTO t SELECT max(x) FROM c"))

        writer = asyncio.create_task(long_write())
        await started.wait()
        await asyncio.sleep(0)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        async with transaction(sessions) as s:  # the gate is free again
            await s.execute(text("INSERT INTO t VALUES (2)"))
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT n FROM t"))).scalars().all() == [2]  # the first rolled back
    finally:
        await engine.dispose()
