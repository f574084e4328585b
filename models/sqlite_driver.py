"""aiosqlite with one thread hop per statement instead of four.

aiosqlite runs every call of a cursor (create, execute, fetch, close) as a separate job on the
connection's thread; each job costs an event-loop wake-up, and they were most of the time of a
conversation step. Here a statement and its first rows travel in a single job, the cursor is
created and closed on the thread inside that job, and a transaction's ``BEGIN`` travels with its
first statement: ``BEGIN IMMEDIATE`` for a unit of work (it takes the write lock at once, so two
writers queue instead of deadlocking when a read turns into a write), ``BEGIN DEFERRED`` for a plain
read (no write lock: it neither waits for a writer nor holds one up; WAL gives it one snapshot).
Everything still runs on aiosqlite's thread, so the event loop never blocks on the database.
Plugged in through ``create_async_engine(module=...)``.

Write transactions of one process queue in a FIFO gate (an ``asyncio.Lock`` per database file and
event loop) before their ``BEGIN IMMEDIATE``: SQLite lets one writer in at a time anyway, but a
writer that finds the lock taken sleeps in SQLite's busy handler (1, 2, 5 … 100 ms) and polls,
so under load most of a step's time went into those sleeps while the lock stood free. Through the
gate the next writer starts the moment the previous one commits. The busy timeout still applies to
other processes (the CLI) and to the gate itself: a writer waits at most that long, then fails as
SQLite would ("database is locked").
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import types
import weakref
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

CHUNK = 1000  # rows fetched with the statement; a larger result is fetched CHUNK rows per job
IMMEDIATE = "BEGIN IMMEDIATE"
# the write gates: per event loop, per database file
_GATES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = weakref.WeakKeyDictionary()


def _gate(database: str) -> asyncio.Lock:
    gates = _GATES.setdefault(asyncio.get_running_loop(), {})
    return gates.setdefault(database, asyncio.Lock())


class FastCursor:
    """The part of aiosqlite's cursor that SQLAlchemy's adapter uses."""

    arraysize = 1

    def __init__(self, conn: FastConnection) -> None:
        self._conn = conn
        self._cursor: sqlite3.Cursor | None = None
        self._rows: list[Any] = []
        self._more = False
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> FastCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _run(self, sql: str, parameters: Any, many: bool) -> None:
        """On the connection's thread: execute, take the first rows, close when exhausted."""
        cur = self._conn._conn.cursor()
        begin, self._conn._begin_pending = self._conn._begin_pending, None
        if begin is not None:
            cur.execute(begin)
        if many:
            cur.executemany(sql, parameters or [])
        else:
            cur.execute(sql, parameters or ())
        self.description, self.rowcount, self.lastrowid = cur.description, cur.rowcount, cur.lastrowid
        self._rows = cur.fetchmany(CHUNK) if cur.description else []
        self._more = len(self._rows) == CHUNK
        if self._more:
            self._cursor = cur
        else:
            cur.close()

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> FastCursor:
        if self._conn._begin_pending == IMMEDIATE:
            await self._conn.enter_write()
        await self._conn._execute(self._run, sql, parameters, False)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> FastCursor:
        if self._conn._begin_pending == IMMEDIATE:
            await self._conn.enter_write()
        await self._conn._execute(self._run, sql, parameters, True)
        return self

    def _next_chunk(self) -> list[Any]:
        assert self._cursor is not None
        rows = self._cursor.fetchmany(CHUNK)
        if len(rows) < CHUNK:
            self._cursor.close()
            self._cursor, self._more = None, False
        return rows

    async def _fill(self, wanted: int | None) -> None:
        while self._more and (wanted is None or len(self._rows) < wanted):
            self._rows += await self._conn._execute(self._next_chunk)

    async def fetchone(self) -> Any:
        await self._fill(1)
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        size = size or self.arraysize
        await self._fill(size)
        out, self._rows = self._rows[:size], self._rows[size:]
        return out

    async def fetchall(self) -> Sequence[Any]:
        await self._fill(None)
        out, self._rows = self._rows, []
        return out

    async def close(self) -> None:
        self._rows = []
        if self._cursor is not None:
            cursor, self._cursor, self._more = self._cursor, None, False
            await self._conn._execute(cursor.close)


class FastConnection(aiosqlite.Connection):
    _begin_pending: str | None = None  # the BEGIN to send with the next statement
    database: str | None = None  # the file (None: in memory, nobody else writes to it)
    gate_timeout = 30.0  # seconds a writer waits for the gate (the busy timeout)
    _holding: asyncio.Lock | None = None  # the write gate this connection holds

    def begin_immediate(self) -> None:
        """Start a write transaction with the next statement (one job for both)."""
        self._begin_pending = IMMEDIATE

    async def enter_write(self) -> None:
        """Wait for this process's turn to write to the file (before the ``BEGIN IMMEDIATE``)."""
        if self.database is None or self._holding is not None:
            return
        gate = _gate(self.database)
        try:
            async with asyncio.timeout(self.gate_timeout):
                await gate.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None
        self._holding = gate

    def leave_write(self) -> None:
        """The transaction ended (committed, rolled back, or the connection is gone)."""
        gate, self._holding = self._holding, None
        if gate is not None:
            gate.release()

    def begin_deferred(self) -> None:
        """Make the transaction about to start a read transaction: it takes the write lock only if it
        writes. Nothing changes once its first statement has run."""
        if self._begin_pending is not None:
            self._begin_pending = "BEGIN DEFERRED"

    async def commit(self) -> None:
        if self._begin_pending is not None:  # nothing was executed: there is no transaction to end
            self._begin_pending = None
            return
        try:
            await super().commit()
        finally:
            self.leave_write()

    async def rollback(self) -> None:
        if self._begin_pending is not None:
            self._begin_pending = None
            return
        try:
            await super().rollback()
        finally:
            self.leave_write()

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            self.leave_write()

    def stop(self) -> asyncio.Future[Any] | None:
        """Stop the thread once. aiosqlite queues a stop job on every call, but the thread ends at the first:
        a ``close()`` after a ``stop()`` (SQLAlchemy terminating a cancelled connection runs its graceful
        close, shielded, beside the forced stop) then waited for ever on a job nobody runs, and the event
        loop could not close (a test run hung in teardown)."""
        self.leave_write()  # (the thread's close rolls back whatever was open)
        if not self._running:
            return None
        return super().stop()

    def cursor(self) -> FastCursor:  # type: ignore[override]  # aiosqlite's is a context manager of its Cursor
        """A cursor needs no job of its own: it is made on the thread with its first statement."""
        return FastCursor(self)


def connect(database: str, **kwargs: Any) -> FastConnection:
    def connector() -> sqlite3.Connection:
        conn: sqlite3.Connection = sqlite3.connect(database, **kwargs)
        return conn

    conn = FastConnection(connector, 64)
    if database and database != ":memory:" and not database.startswith("file:"):
        conn.database = os.path.abspath(database)
    return conn


_module = types.SimpleNamespace(
    **{name: getattr(aiosqlite, name) for name in ("DatabaseError", "Error", "IntegrityError", "NotSupportedError",
                                                   "OperationalError", "ProgrammingError", "sqlite_version",
                                                   "sqlite_version_info")},
    Connection=FastConnection, connect=connect)


def dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The DBAPI module for ``create_async_engine(url, module=dbapi())``."""
    return AsyncAdapt_aiosqlite_dbapi(_module, sqlite3)  # type: ignore[arg-type]  # a namespace, not aiosqlite
