"""The floor of ``bench telegram``: the physical cost of a durable step in this stack.

python-telegram-bot's echo bot whose handler, per update, through the raw async driver (no ORM, no
SQLAlchemy: aiosqlite with the same pragmas as ours, asyncpg with a pool), in ONE transaction:
``INSERT … ON CONFLICT DO NOTHING`` of the update's key, the chat's state read (``FOR UPDATE`` on
PostgreSQL) and upserted, the reply inserted into an outbox ``RETURNING id``; then the reply sent and
marked sent in a short second statement. A redelivered update (its key already seen) is neither
answered nor counted again.

Every step of ours keeps at least these guarantees (inbox, state and reply in one transaction, row
lock, dedupe, sent mark), so no bot of ours can beat this floor; the ratio "ours ÷ floor" says what
the dialog, the domain and the pipeline cost on top of the writes themselves.

SQLite: one connection (SQLite has one writer at a time; a second connection would only wait for the
lock), ``BEGIN IMMEDIATE`` per transaction, transactions of this process taken in turn by an
``asyncio.Lock``. PostgreSQL: an asyncpg pool of 20 (ours has 20), statements prepared and cached by
asyncpg.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, Protocol

import aiosqlite
import asyncpg
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.pipeline.pipeline import Progress
from models.clock import utcnow

SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA synchronous=NORMAL",
                  "PRAGMA busy_timeout=30000")  # as models.db.make_engine sets them
TABLES = (
    "CREATE TABLE IF NOT EXISTS echo_seen (key VARCHAR(120) PRIMARY KEY, at TIMESTAMP)",
    "CREATE TABLE IF NOT EXISTS echo_state (chat VARCHAR(64) PRIMARY KEY, step INTEGER NOT NULL, data TEXT NOT NULL,"
    " updated_at TIMESTAMP)",
    "CREATE TABLE IF NOT EXISTS echo_outbox (id {serial} PRIMARY KEY, key VARCHAR(160) UNIQUE NOT NULL,"
    " chat VARCHAR(64) NOT NULL, text TEXT NOT NULL, created_at TIMESTAMP, sent_at TIMESTAMP)",
)
DROP = ("DROP TABLE IF EXISTS echo_seen", "DROP TABLE IF EXISTS echo_state", "DROP TABLE IF EXISTS echo_outbox")


class Store(Protocol):
    async def step(self, key: str, chat: str, said: str, now: datetime) -> int | None:
        """The step's transaction; the reply's outbox id, or None for an update already seen."""

    async def sent(self, row_id: int, now: datetime) -> None: ...

    async def count(self, sql: str) -> Any: ...

    async def close(self, drop: bool = False) -> None: ...


class SqliteStore:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self.lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str) -> SqliteStore:
        conn = await aiosqlite.connect(path, isolation_level=None)  # autocommit: our BEGIN, our COMMIT
        for pragma in SQLITE_PRAGMAS:
            await conn.execute(pragma)
        for ddl in TABLES:
            await conn.execute(ddl.format(serial="INTEGER"))
        return cls(conn)

    async def step(self, key: str, chat: str, said: str, now: datetime) -> int | None:
        at = now.isoformat()
        async with self.lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                fresh = await self.conn.execute("INSERT INTO echo_seen (key, at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                                                (key, at))
                if not fresh.rowcount:
                    await self.conn.execute("COMMIT")
                    return None
                cur = await self.conn.execute("SELECT step FROM echo_state WHERE chat = ?", (chat,))
                found = await cur.fetchone()
                await self.conn.execute(
                    "INSERT INTO echo_state (chat, step, data, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (chat) "
                    "DO UPDATE SET step = excluded.step, data = excluded.data, updated_at = excluded.updated_at",
                    (chat, (found[0] if found else 0) + 1, said, at))
                cur = await self.conn.execute(
                    "INSERT INTO echo_outbox (key, chat, text, created_at) VALUES (?, ?, ?, ?) RETURNING id",
                    (f"reply:{key}:0", chat, said or "?", at))
                row = await cur.fetchone()
                await self.conn.execute("COMMIT")
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
        assert row is not None
        return int(row[0])

    async def sent(self, row_id: int, now: datetime) -> None:
        async with self.lock:
            await self.conn.execute("UPDATE echo_outbox SET sent_at = ? WHERE id = ?", (now.isoformat(), row_id))

    async def count(self, sql: str) -> Any:
        cur = await self.conn.execute(sql)
        return await cur.fetchall()

    async def close(self, drop: bool = False) -> None:
        if drop:
            for ddl in DROP:
                await self.conn.execute(ddl)
        await self.conn.close()


class PostgresStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, dsn: str, size: int = 20) -> PostgresStore:
        pool = await asyncpg.create_pool(dsn, min_size=size, max_size=size)
        async with pool.acquire() as conn:
            for ddl in TABLES:
                await conn.execute(ddl.format(serial="SERIAL"))
        return cls(pool)

    async def step(self, key: str, chat: str, said: str, now: datetime) -> int | None:
        async with self.pool.acquire() as conn, conn.transaction():
            fresh = await conn.execute("INSERT INTO echo_seen (key, at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                                       key, now.replace(tzinfo=None))
            if fresh.endswith(" 0"):
                return None
            step = await conn.fetchval("SELECT step FROM echo_state WHERE chat = $1 FOR UPDATE", chat)
            await conn.execute(
                "INSERT INTO echo_state (chat, step, data, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (chat) "
                "DO UPDATE SET step = excluded.step, data = excluded.data, updated_at = excluded.updated_at",
                chat, (step or 0) + 1, said, now.replace(tzinfo=None))
            row_id = await conn.fetchval(
                "INSERT INTO echo_outbox (key, chat, text, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                f"reply:{key}:0", chat, said or "?", now.replace(tzinfo=None))
        return int(row_id)

    async def sent(self, row_id: int, now: datetime) -> None:
        await self.pool.execute("UPDATE echo_outbox SET sent_at = $1 WHERE id = $2", now.replace(tzinfo=None), row_id)

    async def count(self, sql: str) -> Any:
        return await self.pool.fetch(sql)

    async def close(self, drop: bool = False) -> None:
        if drop:
            for ddl in DROP:
                await self.pool.execute(ddl)
        await self.pool.close()


async def open_store(url: str) -> Store:
    """``sqlite+aiosqlite:///PATH`` or ``postgresql+asyncpg://…`` (the project's URLs) → the raw store."""
    if url.startswith("sqlite"):
        return await SqliteStore.open(url.split(":///", 1)[1])
    return await PostgresStore.open(url.replace("postgresql+asyncpg://", "postgresql://", 1))


async def durable_echo_bot(store: Store, token: str, base_url: str, base_file_url: str,
                           concurrent: int) -> tuple[Application[Any, Any, Any, Any, Any, Any], Progress]:
    """The echo bot of ``bench_telegram`` with the durable writes above, long polling started."""
    progress = Progress()

    async def echo(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.effective_user is not None
        query = update.callback_query
        if query is not None:
            await query.answer()
            key, said = f"c{query.id}", query.data or ""
        else:
            assert update.message is not None
            key, said = f"m{update.effective_chat.id}:{update.message.message_id}", update.message.text or ""
        try:
            row_id = await store.step(key, str(update.effective_chat.id), said, utcnow())
            if row_id is None:
                return  # a redelivery: handled once already
            await update.effective_chat.send_message(said or "?")
            await store.sent(row_id, utcnow())
        finally:
            progress.done(str(update.effective_user.id))

    return await polling_app(token, base_url, base_file_url, concurrent, echo), progress


Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


async def polling_app(token: str, base_url: str, base_file_url: str, concurrent: int,
                      echo: Handler) -> Application[Any, Any, Any, Any, Any, Any]:
    """python-telegram-bot as its docs show it: ``echo`` for every text and button press, long polling
    started (the bare echo of ``bench_telegram`` and the durable one here)."""
    app = (Application.builder().token(token).base_url(base_url).base_file_url(base_file_url)
           .concurrent_updates(concurrent).build())
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.add_handler(CallbackQueryHandler(echo))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(timeout=5)
    return app
