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

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.delivery.leases import owner_alive
from models.delivery.tables import InboxMessage
from models.driver import driver
from models.typed_sql import id_col, table_of

_T = table_of(InboxMessage)
# the hot statements (every update runs them) go through the driver: models.driver
_MARK_DONE = 'UPDATE inbox_message SET done_at = ? WHERE channel = ? AND key = ? AND done_at IS NULL'
# PostgreSQL: the dedupe row and the inbox mark of a step in one round trip (both in the step's transaction)
_FIRST_TIME = (
    "WITH fresh AS (INSERT INTO processed_message (channel, message_id, at) VALUES (?, ?, ?) "
    "ON CONFLICT DO NOTHING RETURNING 1), "
    "done AS (UPDATE inbox_message SET done_at = ? WHERE channel = ? AND key = ? AND done_at IS NULL RETURNING 1) "
    "SELECT (SELECT count(*) FROM fresh), (SELECT count(*) FROM done)")
_FIRST_TIME_SQLITE = "INSERT INTO processed_message (channel, message_id, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
# an earlier update of the same sender still pending in another worker's hands (alive, or dead and about to be
# taken over): this one waits for it (the sender's order kept across workers)
_EARLIER_ELSEWHERE = ("SELECT 1 FROM inbox_message WHERE channel = ? AND account = ? AND done_at IS NULL AND id < ? "
                      "AND owner IS NOT NULL AND owner <> ? LIMIT 1")
_RECORD = ("INSERT INTO inbox_message (channel, key, account, payload, received_at, owner) VALUES {rows} "
           "ON CONFLICT DO NOTHING RETURNING id, key{behind}")
# (with an owner) whether an earlier update of the same sender was pending elsewhere when this one came
_BEHIND = (", EXISTS (SELECT 1 FROM inbox_message e WHERE e.channel = inbox_message.channel "
           "AND e.account = inbox_message.account AND e.done_at IS NULL AND e.id < inbox_message.id "
           "AND e.owner IS NOT NULL AND e.owner <> inbox_message.owner)")


async def first_time(session: AsyncSession, channel: str, message_id: str, now: datetime) -> bool:
    """In a step's transaction: note ``message_id`` as processed and mark its inbox row done (on
    PostgreSQL in one statement); True when it was not processed before (False: a redelivery, whose
    inbox row is marked all the same)."""
    db = await driver(session)
    if db.pg:
        fresh, _done = (await db.fetch(_FIRST_TIME, channel, message_id, now, now, channel, message_id[:120]))[0]
        return bool(fresh)
    fresh = bool(await db.execute(_FIRST_TIME_SQLITE, channel, message_id, now))
    await db.execute(_MARK_DONE, now, channel, message_id[:120])
    return fresh


RECORD_CHUNK = 500  # rows per INSERT (SQLite and asyncpg bound the parameters of one statement)


def _json(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


@lru_cache(maxsize=64)
def _record_sql(n: int, owned: bool) -> str:
    return _RECORD.format(rows=", ".join(["(?, ?, ?, ?, ?, ?)"] * n), behind=_BEHIND if owned else "")


@dataclass(frozen=True, slots=True)
class Pending:
    id: int
    key: str
    account: str
    payload: dict[str, Any]
    # when it was written, an earlier update of its sender was pending with another worker: it waits
    # for that one (:func:`earlier_elsewhere`)
    behind: bool = False


async def record(session: AsyncSession, channel: str, key: str, account: str, payload: dict[str, Any],
                 now: datetime) -> Pending | None:
    """Write an update down; None when this key is already there (a redelivery)."""
    return (await record_many(session, channel, [(key, account, payload)], now)).get(key[:120])


async def record_many(session: AsyncSession, channel: str, items: Sequence[tuple[str, str, dict[str, Any]]],
                      now: datetime, owner: str | None = None) -> dict[str, Pending]:
    """Write a batch of updates down in one statement (a multi-row INSERT … ON CONFLICT DO NOTHING
    RETURNING id, key; not one INSERT per update); the new rows by key: a key already
    there (a redelivery, or twice in the batch: the first one counts) is not among them. With an
    ``owner`` (a worker of several), each new row says whether it came ``behind`` an earlier update of
    its sender still pending with another worker."""
    if not items:
        return {}
    db = await driver(session)
    result: list[tuple[Any, ...]] = []
    for start in range(0, len(items), RECORD_CHUNK):
        chunk = items[start:start + RECORD_CHUNK]
        values = [v for key, account, payload in chunk
                  for v in (channel, key[:120], account[:64], _json(payload), now, owner)]
        result += await db.fetch(_record_sql(len(chunk), owner is not None), *values)
    ids = {str(row[1]): (int(row[0]), bool(row[2]) if len(row) > 2 else False) for row in result}
    found: dict[str, Pending] = {}
    for key, account, payload in items:
        new = ids.get(key[:120])
        if new is not None and key[:120] not in found:
            found[key[:120]] = Pending(new[0], key[:120], account[:64], payload, new[1])
    return found


async def earlier_elsewhere(session: AsyncSession, channel: str, account: str, row_id: int, owner: str) -> bool:
    """True while an update of ``account`` received before row ``row_id`` is still pending with
    another worker (a load balancer sent the sender's two messages to two workers): the later one
    must wait, or the two steps may run in the wrong order."""
    return bool(await (await driver(session)).fetch(_EARLIER_ELSEWHERE, channel, account[:64], row_id, owner))


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
    return bool(await (await driver(session)).execute(_MARK_DONE, now, channel, key[:120]))


async def counts(session: AsyncSession) -> dict[str, int]:
    """``{"pending": n, "done": m}`` (tests, the benchmark)."""
    rows = (await session.execute(select(col(InboxMessage.done_at)))).all()
    done = sum(1 for (d,) in rows if d is not None)
    return {"pending": len(rows) - done, "done": done}
