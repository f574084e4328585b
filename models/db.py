"""The database engine and sessions: one engine per process, opened and closed by the caller.

Writes go through :func:`transaction` (or ``session.begin()``); a session used without an explicit
begin is a plain read. On SQLite the two start differently: a unit of work with ``BEGIN IMMEDIATE``
(the write lock at its first statement, so concurrent read-then-write units queue on the busy
timeout instead of failing), a plain read with ``BEGIN DEFERRED`` (no write lock, so dashboard pages
and digests neither wait for a writer nor hold one up). PostgreSQL needs neither.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, SessionTransaction, SessionTransactionOrigin

SessionFactory = async_sessionmaker[AsyncSession]
T = TypeVar("T")
DbSession = AsyncSession  # the names the edges use (they do not import SQLAlchemy themselves)
DbEngine = AsyncEngine


def make_engine(url: str, echo: bool = False, pool_size: int = 20) -> AsyncEngine:
    """Build the engine; SQLite gets WAL, foreign keys and a busy timeout. Both keep a pool of
    ``pool_size`` connections and open none beyond: under load a step waits for a connection instead
    of opening one that is closed again at its return (with a small pool and overflow, 32 updates at
    once opened and closed overflow connections all the time, a server backend or a SQLite thread each,
    and on PostgreSQL the steps ran at two thirds of the speed; the cap per PostgreSQL worker is 20).
    Every table is registered first (``models.schema``), so foreign keys resolve whatever was imported."""
    import models.schema  # noqa: F401
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        from models.sqlite_driver import FastConnection, dbapi

        pool: dict[str, Any] = {"pool_size": pool_size, "max_overflow": 0} if path and path != ":memory:" else {}
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30}, module=dbapi(), **pool)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: object) -> None:  # the driver's adapted connection
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            # let SQLAlchemy's "begin" below issue the BEGIN, so writers queue on the busy
            # timeout instead of failing when a read transaction upgrades to a write
            dbapi_conn.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            # BEGIN IMMEDIATE, sent by the driver together with the transaction's first statement;
            # a plain read session makes it deferred (ReadAwareSession below)
            cast(FastConnection, conn.connection.driver_connection).begin_immediate()

        return engine
    engine = create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=0)
    _ping_when_idle(engine)
    return engine


IDLE_PING = 10.0  # seconds a pooled PostgreSQL connection may rest before it is tried at its checkout


def _ping_when_idle(engine: AsyncEngine) -> None:
    """SQLAlchemy's ``pool_pre_ping``, for a connection that rested: a connection back in the pool for
    :data:`IDLE_PING` seconds or more (the server may have restarted meanwhile) is tried before use,
    and replaced if it is dead. SQLAlchemy pings every checkout, and on asyncpg a ping is three round
    trips (BEGIN, an empty query, ROLLBACK): under load, with connections back in use within
    milliseconds, that was a third of a step's round trips. A connection that dies while busy fails
    its statement; the pool then drops all its connections of before the failure and the step is run
    again (:class:`handlers.engine.Engine`)."""
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _resting(_dbapi_conn: Any, record: Any) -> None:
        record.info["resting_since"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _ping_if_rested(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("resting_since", None)
        if since is not None and time.monotonic() - since >= IDLE_PING:
            try:
                dbapi_conn.ping()
            except Exception as exc:  # the pool replaces it and checks out another
                raise DisconnectionError(str(exc)) from exc


class ReadAwareSession(Session):
    """The ORM session behind our ``AsyncSession``s: on SQLite, a transaction it began by itself (the
    session was used without ``begin()``: a plain read) starts deferred, not immediate."""


@event.listens_for(ReadAwareSession, "after_begin")
def _plain_reads_start_deferred(session: Session, trans: SessionTransaction, conn: Connection) -> None:
    if trans.origin is not SessionTransactionOrigin.AUTOBEGIN or trans.parent is not None:
        return
    if conn.dialect.name == "sqlite":  # the BEGIN is still pending: it goes with the first statement
        begin_deferred = getattr(conn.connection.driver_connection, "begin_deferred", None)
        if begin_deferred is not None:
            begin_deferred()


def make_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, class_=AsyncSession, sync_session_class=ReadAwareSession,
                              expire_on_commit=False)


@asynccontextmanager
async def transaction(factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any error."""
    async with factory() as session, session.begin():
        yield session


_CONN = "_step_connection"  # session.info: (the transaction, its connection)


async def connection(session: AsyncSession) -> AsyncConnection:
    """``await session.connection()``, fetched once per transaction (each fetch is a greenlet hop, and a
    step's Core statements asked for it four times or more): the connection of the session's current
    transaction; a new transaction (after a commit or rollback) fetches it again."""
    trans = session.sync_session.get_transaction()
    cached = session.info.get(_CONN)
    if trans is not None and cached is not None and cached[0] is trans and trans.is_active:
        return cast(AsyncConnection, cached[1])
    conn = await session.connection()
    session.info[_CONN] = (session.sync_session.get_transaction(), conn)
    return conn


def is_postgres(bind: AsyncEngine | AsyncSession) -> bool:
    if isinstance(bind, AsyncSession):
        return bind.bind is not None and bind.bind.dialect.name == "postgresql"
    return bind.dialect.name == "postgresql"


@lru_cache(maxsize=32)
def _insert_ignore_stmt(dialect: str, table: type) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


async def insert_ignore(session: AsyncSession, table: type, **values: object) -> bool:
    """INSERT unless a unique key already holds the row; True when this call inserted it.

    Safe under concurrency on SQLite and PostgreSQL (ON CONFLICT DO NOTHING).
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    conn = await connection(session)  # Core, not the ORM's bulk-insert path: it reports rowcount
    result = await conn.execute(_insert_ignore_stmt(dialect, table), values)
    return bool(result.rowcount)


def transient(exc: BaseException) -> bool:
    """A database error that a later try may not meet: the server unreachable, the connection lost,
    SQLite busy (not a constraint or a bug)."""
    from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

    if isinstance(exc, (OSError, TimeoutError, ConnectionError)):
        return True
    if isinstance(exc, IntegrityError) or not isinstance(exc, DBAPIError):
        return False
    return exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError))


async def write_retrying(factory: SessionFactory, work: Callable[[AsyncSession], Awaitable[T]], *,
                            attempts: int = 8, first_delay: float = 0.5, max_delay: float = 8.0) -> T:
    """``work`` in a transaction, tried again on a transient error (about 30 s in all by default):
    for writes that must follow something already done, such as marking a message sent."""
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            async with transaction(factory) as session:
                return await work(session)
        except Exception as exc:
            if attempt == attempts or not transient(exc):
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
    raise AssertionError("unreachable")
