"""The hot statements of a conversation step, through the database driver inside the session's transaction.

Every message a head sends runs the same few statements: the dedupe row, the inbox mark, the
conversation state, the reply's outbox row, its "sent" mark. Through SQLAlchemy each costs about four
times the driver's own work (compiled-cache lookup, parameter and result processing, two greenlet
hops); for these statements that was the larger part of a step's CPU. Here they run as plain SQL on the
connection of the session's current transaction — aiosqlite (``models.sqlite_driver``) or asyncpg,
whose statements are prepared once per connection and cached — so they commit or roll back with
everything else the step wrote through the ORM. The rest of the project (reports, staff work, the
dashboard, migrations) stays with SQLAlchemy and SQLModel.

The SQL is written once with ``?`` placeholders (SQLite's) and numbered for asyncpg (``$1`` …); none
of these statements has a ``?`` of its own. Values are passed as SQLAlchemy would store them:
datetimes in UTC without their zone (text on SQLite, in SQLAlchemy's format, so that its reads parse
them), JSON as text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from models.db import connection

_DRIVER = "_step_driver"  # session.info: (the transaction, its Driver)
_watchers: list[Callable[[str], None]] = []  # told each statement run here (tests, the benchmark)
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's storage format of a DateTime on SQLite


class Driver:
    """The driver connection of one transaction."""

    def __init__(self, conn: AsyncConnection, adapted: Any, pg: bool) -> None:
        self.conn = conn  # SQLAlchemy's connection of the transaction
        self.adapted = adapted  # SQLAlchemy's adapted DBAPI connection (it owns the transaction)
        self.pg = pg
        self.native = adapted.driver_connection  # asyncpg's connection / models.sqlite_driver.FastConnection

    @staticmethod
    def value(value: Any, pg: bool) -> Any:
        if isinstance(value, datetime):
            utc = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value
            return utc if pg else utc.strftime(SQLITE_DATETIME)
        if isinstance(value, dict | list):
            return json.dumps(value)
        return value

    async def _begun(self) -> Any:
        """asyncpg: SQLAlchemy begins the transaction with the first statement it runs; begin it here when
        a statement of ours comes first (SQLite: the driver sends the pending BEGIN with any statement)."""
        if self.adapted._transaction is None:
            await self.adapted._start_transaction()
        return self.native

    async def execute(self, sql: str, *params: Any) -> int:
        """Run a statement; the rows it changed."""
        for watcher in _watchers:
            watcher(sql)
        values = [self.value(p, self.pg) for p in params]
        try:
            if self.pg:
                status = await (await self._begun()).execute(numbered(sql), *values)
                return int(status.rsplit(" ", 1)[-1]) if status[-1:].isdigit() else 0
            cur = await self.native.cursor().execute(sql, values)
            count = int(cur.rowcount)
            await cur.close()
            return count
        except Exception as exc:
            raise await self._wrapped(sql, values, exc) from exc

    async def fetch(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run a statement that returns rows (a SELECT, or a write with RETURNING); its rows."""
        for watcher in _watchers:
            watcher(sql)
        values = [self.value(p, self.pg) for p in params]
        try:
            if self.pg:
                return [tuple(r) for r in await (await self._begun()).fetch(numbered(sql), *values)]
            cur = await self.native.cursor().execute(sql, values)
            rows = await cur.fetchall()
            await cur.close()
            return [tuple(r) for r in rows]
        except Exception as exc:
            raise await self._wrapped(sql, values, exc) from exc

    async def _wrapped(self, sql: str, values: list[Any], exc: Exception) -> BaseException:
        """The driver's error as SQLAlchemy would raise it (``IntegrityError`` for a unique key taken,
        ``OperationalError`` for a locked file, ``connection_invalidated`` when the connection is gone:
        then SQLAlchemy is told, so that the pool drops it), so that callers handle both kinds alike."""
        if isinstance(exc, DBAPIError):
            return exc
        orig: Exception = exc
        try:
            self.adapted._handle_exception(exc)  # the driver's error → the DBAPI's
        except Exception as translated:
            orig = translated
        gone = self.pg and self.native.is_closed()
        if gone:
            await self.conn.invalidate(exc)
        return DBAPIError.instance(sql, values, orig, self.adapted.dbapi.Error, connection_invalidated=gone)


@contextmanager
def watching(watcher: Callable[[str], None]) -> Iterator[None]:
    """``watcher`` is told the SQL of each statement run through the driver meanwhile (SQLAlchemy's
    ``before_cursor_execute`` does not see them)."""
    _watchers.append(watcher)
    try:
        yield
    finally:
        _watchers.remove(watcher)


@lru_cache(maxsize=256)
def numbered(sql: str) -> str:
    """``?`` placeholders → ``$1``, ``$2`` … (asyncpg)."""
    counter = iter(range(1, 10_000))
    return re.sub(r"\?", lambda _m: f"${next(counter)}", sql)


async def driver(session: AsyncSession) -> Driver:
    """The driver of the session's current transaction (fetched once per transaction)."""
    trans = session.sync_session.get_transaction()
    cached = session.info.get(_DRIVER)
    if trans is not None and cached is not None and cached[0] is trans and trans.is_active:
        return cast(Driver, cached[1])
    conn = await connection(session)
    raw = await conn.get_raw_connection()
    found = Driver(conn, raw.dbapi_connection, conn.dialect.name == "postgresql")
    session.info[_DRIVER] = (session.sync_session.get_transaction(), found)
    return found
