"""The inbox: every update a channel receives is written here before the platform is told "got it"
(before the polling offset moves on, before the webhook's 200), and processed from here.

A row is keyed by the channel and the platform's own id of the message or button press (not
Telegram's ``update_id``, which restarts after a week of silence), so a redelivery is one row. Rows
are processed in ``id`` order per account; ``done_at`` is set in the same transaction as the dialog
step (``mark_done``), so a crash leaves the row pending and the next start processes it.

Plain functions over a session; they never commit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import DateTime, and_, bindparam, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.db import connection
from models.delivery.leases import owner_alive
from models.delivery.tables import InboxMessage
from models.typed_sql import id_col, table_of

_T = table_of(InboxMessage)
# Core statements built once (every update runs them): no ORM bookkeeping on the hot path
_MARK_DONE = update(_T).where(_T.c.channel == bindparam("b_channel"), _T.c.key == bindparam("b_key"),
                              _T.c.done_at.is_(None)).values(done_at=bindparam("b_now"))


# PostgreSQL: the dedupe row and the inbox mark of a step in one round trip (both in the step's transaction)
_FIRST_TIME = text(
    "WITH fresh AS (INSERT INTO processed_message (channel, message_id, at) VALUES (:channel, :message_id, :at) "
    "ON CONFLICT DO NOTHING RETURNING 1), "
    "done AS (UPDATE inbox_message SET done_at = :at WHERE channel = :channel AND key = :key AND done_at IS NULL "
    "RETURNING 1) "
    "SELECT (SELECT count(*) FROM fresh), (SELECT count(*) FROM done)").bindparams(
    bindparam("at", type_=DateTime(timezone=True)))


async def first_time_and_done(session: AsyncSession, channel: str, message_id: str, now: datetime) -> bool:
    """PostgreSQL, in a step's transaction: note ``message_id`` as processed and mark its inbox row done,
    in one statement; True when it was not processed before (False: a redelivery)."""
    conn = await connection(session)
    fresh, _done = (await conn.execute(_FIRST_TIME, {"channel": channel, "message_id": message_id, "at": now,
                                                     "key": message_id[:120]})).one()
    return bool(fresh)


@lru_cache(maxsize=2)
def _record_stmt(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, key: the new rows' ids (none for a redelivery)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(_T).on_conflict_do_nothing().returning(_T.c.id, _T.c.key)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(_T).on_conflict_do_nothing().returning(_T.c.id, _T.c.key)


@dataclass(frozen=True, slots=True)
class Pending:
    id: int
    key: str
    account: str
    payload: dict[str, Any]


async def record(session: AsyncSession, channel: str, key: str, account: str, payload: dict[str, Any],
                 now: datetime) -> Pending | None:
    """Write an update down; None when this key is already there (a redelivery)."""
    return (await record_many(session, channel, [(key, account, payload)], now)).get(key[:120])


async def record_many(session: AsyncSession, channel: str, items: Sequence[tuple[str, str, dict[str, Any]]],
                      now: datetime, owner: str | None = None) -> dict[str, Pending]:
    """Write a batch of updates down in one statement (a multi-row INSERT … ON CONFLICT DO NOTHING
    RETURNING id, key; not one INSERT per update); the new rows by key: a key already
    there (a redelivery, or twice in the batch: the first one counts) is not among them."""
    if not items:
        return {}
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    conn = await connection(session)
    params = [{"channel": channel, "key": key[:120], "account": account[:64], "owner": owner,
               "payload": json.dumps(payload, ensure_ascii=False, separators=(",", ":")), "received_at": now}
              for key, account, payload in items]
    result = await conn.execute(_record_stmt(dialect), params[0] if len(params) == 1 else params)
    ids = {str(key): int(row_id) for row_id, key in result.all()}
    found: dict[str, Pending] = {}
    for key, account, payload in items:
        row_id = ids.get(key[:120])
        if row_id is not None and key[:120] not in found:
            found[key[:120]] = Pending(row_id, key[:120], account[:64], payload)
    return found


async def is_done(session: AsyncSession, channel: str, key: str) -> bool | None:
    """True when processed, False when pending, None when unknown."""
    found = (await session.execute(select(col(InboxMessage.done_at)).where(
        col(InboxMessage.channel) == channel, col(InboxMessage.key) == key[:120]))).first()
    return None if found is None else found[0] is not None


async def pending(session: AsyncSession, channel: str, limit: int = 1000, after: int = 0) -> list[Pending]:
    """Rows not yet processed, oldest first, with an id above ``after`` (start-up: what a crash left,
    read page by page)."""
    rows = await session.execute(
        select(id_col(InboxMessage.id), col(InboxMessage.key), col(InboxMessage.account), col(InboxMessage.payload))
        .where(col(InboxMessage.channel) == channel, col(InboxMessage.done_at).is_(None),
               id_col(InboxMessage.id) > after)
        .order_by(col(InboxMessage.id)).limit(limit))
    return [Pending(i, k, a, json.loads(p)) for i, k, a, p in rows.all()]


async def take_over(session: AsyncSession, channel: str, owner: str | None, now: datetime, *, orphans: bool,
                    after: int = 0, limit: int = 1000) -> list[Pending]:
    """Pending rows (id above ``after``, oldest first) whose owner is not alive — no lease
    ``worker:<owner>`` running at ``now``: it was killed — now owned by ``owner``. ``orphans``: rows
    with no owner too (written before owners existed; at start-up). ``owner`` None: every pending row."""
    m = InboxMessage
    stmt = (select(id_col(m.id)).where(col(m.channel) == channel, col(m.done_at).is_(None), id_col(m.id) > after)
            .order_by(col(m.id)).limit(limit))
    if owner is not None:
        dead = and_(col(m.owner).is_not(None), col(m.owner) != owner, ~owner_alive(col(m.owner), now))
        stmt = stmt.where(or_(dead, col(m.owner).is_(None)) if orphans else dead)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    ids = [i for i in (await session.execute(stmt)).scalars().all()]
    if not ids:
        return []
    if owner is not None:
        await session.execute(update(m).where(col(m.id).in_(ids)).values(owner=owner)
                              .execution_options(synchronize_session=False))
    rows = await session.execute(
        select(id_col(m.id), col(m.key), col(m.account), col(m.payload)).where(col(m.id).in_(ids)).order_by(col(m.id)))
    return [Pending(i, k, a, json.loads(p)) for i, k, a, p in rows.all()]


async def mark_done(session: AsyncSession, channel: str, key: str, now: datetime) -> bool:
    """The update is processed (in the transaction of its dialog step); False if it already was."""
    conn = await connection(session)
    result = await conn.execute(_MARK_DONE, {"b_channel": channel, "b_key": key[:120], "b_now": now})
    return bool(result.rowcount)


async def counts(session: AsyncSession) -> dict[str, int]:
    """``{"pending": n, "done": m}`` (tests, the benchmark)."""
    rows = (await session.execute(select(col(InboxMessage.done_at)))).all()
    done = sum(1 for (d,) in rows if d is not None)
    return {"pending": len(rows) - done, "done": done}
