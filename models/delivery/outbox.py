"""The outbox: everything the bot sends on its own initiative, one row per message and unique key.

Rows move ``pending`` → ``sending`` (claimed, with a lease) → ``sent`` | ``pending`` (retry later) |
``dead`` (gave up) | ``skipped`` (the account blocked the bot). A claim is safe with several
processes: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite (models/db.py),
and a lease (``locked_until``) so that a crashed worker's claim expires and the row is sent later.

Plain functions over a session; they never commit (the caller's transaction does).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, bindparam, case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import SQLModel, col

from models.accounts.tables import ChannelAccount
from models.db import connection
from models.delivery.leases import owner_alive
from models.delivery.tables import OutboxMessage
from models.driver import driver
from models.typed_sql import id_col, rowcount, table_of

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PgInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

PENDING, SENDING, SENT, DEAD, SKIPPED = "pending", "sending", "sent", "dead", "skipped"
REPLY = "reply"  # the answer to an incoming message: sent at once by its channel, drained first
MAX_BACKOFF = timedelta(hours=1)
_O = table_of(OutboxMessage)
# Core statements built once for what every conversation step does (no ORM unit of work on the hot path)
_MARK_SENT = update(_O).where(_O.c.id == bindparam("b_id"), _O.c.status == SENDING,
                              _O.c.locked_until == bindparam("b_lease")).values(
    status=SENT, sent_at=bindparam("b_now"), attempts=bindparam("b_attempts"), locked_until=None, last_error=None)


def _insert_for(session: AsyncSession) -> Callable[[type[SQLModel]], PgInsert | SqliteInsert]:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


async def enqueue(session: AsyncSession, *, key: str, kind: str, account_id: int, text: str, now: datetime,
                  village_id: int | None = None, attachment_path: str | None = None,
                  not_before: datetime | None = None, payload: str | None = None) -> bool:
    """Insert the message unless ``key`` is already in the outbox; True when this call inserted it.

    Safe under concurrency (``INSERT … ON CONFLICT DO NOTHING`` on both databases): of two
    processes enqueuing the same key, exactly one gets True.
    """
    insert = _insert_for(session)
    stmt = insert(OutboxMessage).values(
        key=key, kind=kind, account_id=account_id, village_id=village_id, text=text,
        attachment_path=attachment_path, payload=payload, status=PENDING, attempts=0, next_attempt_at=not_before or now,
        created_at=now,
    ).on_conflict_do_nothing(index_elements=["key"])
    result = await session.execute(stmt)
    return bool(rowcount(result))


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed row with what the sender needs; ``lease`` identifies this claim."""

    id: int
    key: str
    kind: str
    text: str
    attachment_path: str | None
    attempts: int
    account_id: int
    channel: str
    external_id: str
    blocked: bool
    lease: datetime
    payload: str | None = None


STUCK_CLAIM = timedelta(minutes=10)  # past its lock by this much, a living worker's claim is taken all the same


def _abandoned(now: datetime, owner: str | None) -> ColumnElement[bool]:
    """A claim whose process is gone. Without ``owner``: its lock ran out. With one (workers keep
    leases): the worker that holds it no longer keeps its lease alive (killed): taken over at once; a
    claim nobody owns, once its lock ran out. A living worker's claim stands past its lock (a reply
    waiting for its turn in the pace behind a backlog is still in hand: taking it would send it twice),
    unless :data:`STUCK_CLAIM` past it."""
    o = OutboxMessage
    expired = col(o.locked_until) < now
    if owner is not None:
        expired = or_(and_(col(o.owner).is_(None), expired),
                      and_(col(o.owner).is_not(None), col(o.owner) != owner, ~owner_alive(col(o.owner), now)),
                      col(o.locked_until) < now - STUCK_CLAIM)
    return and_(col(o.status) == SENDING, expired)


async def claim_due(session: AsyncSession, now: datetime, *, channels: Collection[str], limit: int = 100,
                    lease: timedelta = timedelta(minutes=5), hold_kinds: Collection[str] = (),
                    owner: str | None = None) -> list[Claimed]:
    """Claim up to ``limit`` due rows for the given channels: pending and due, or ``sending`` by a
    crashed worker (its lock expired, or its owner's lease). ``hold_kinds`` are left alone (e.g.
    reminders in quiet hours). ``owner``: the claiming worker, named on the rows."""
    o, a = OutboxMessage, ChannelAccount
    due = or_(and_(col(o.status) == PENDING, col(o.next_attempt_at) <= now), _abandoned(now, owner))
    replies_first = case((col(o.kind) == REPLY, 0), else_=1)  # a user waits for these
    stmt = (select(col(o.id)).join(a, col(a.id) == o.account_id)
            .where(due, col(a.channel).in_(list(channels)))
            .order_by(replies_first, col(o.next_attempt_at), col(o.id)).limit(limit))
    if hold_kinds:
        stmt = stmt.where(col(o.kind).not_in(list(hold_kinds)))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=o)
    ids = [i for i in (await session.execute(stmt)).scalars().all() if i is not None]
    ids = await _drop_superseded(session, ids)
    return await _claim_ids(session, ids, now, lease, owner) if ids else []


SUPERSEDED = "superseded: the conversation moved on"


async def _drop_superseded(session: AsyncSession, ids: list[int]) -> list[int]:
    """Of the rows ``ids``, mark ``skipped`` the replies the conversation has moved past (a reply to a
    later message of the same account exists: sending the old one now, say after a crash between its
    send and its mark, would ask a question already answered); returns the others."""
    if not ids:
        return ids
    o, newer = OutboxMessage, aliased(OutboxMessage)
    later = (select(id_col(newer.id)).where(col(newer.account_id) == col(o.account_id), col(newer.kind) == REPLY,
                                    col(newer.id) > col(o.id), col(newer.created_at) > col(o.created_at))
             .exists())
    stale = set((await session.execute(select(id_col(o.id)).where(
        col(o.id).in_(ids), col(o.kind) == REPLY, later))).scalars().all())
    if not stale:
        return ids
    await session.execute(update(o).where(col(o.id).in_(stale)).values(
        status=SKIPPED, locked_until=None, last_error=SUPERSEDED).execution_options(synchronize_session=False))
    return [i for i in ids if i not in stale]


async def _claim_ids(session: AsyncSession, ids: list[int], now: datetime, lease: timedelta,
                     owner: str | None) -> list[Claimed]:
    o, a = OutboxMessage, ChannelAccount
    replies_first = case((col(o.kind) == REPLY, 0), else_=1)
    until = now + lease
    await session.execute(update(o).where(col(o.id).in_(ids)).values(status=SENDING, locked_until=until, owner=owner)
                          .execution_options(synchronize_session=False))
    rows = (await session.execute(
        select(id_col(o.id), col(o.key), col(o.kind), col(o.text), col(o.attachment_path), col(o.attempts),
               id_col(a.id), col(a.channel), col(a.external_id), col(a.blocked), col(o.payload))
        .join(a, col(a.id) == o.account_id)
        .where(col(o.id).in_(ids)).order_by(replies_first, col(o.next_attempt_at), col(o.id)))).all()
    return [Claimed(oid, key, kind, text, path, attempts, aid, channel, external_id, blocked, lease=until,
                    payload=payload)
            for oid, key, kind, text, path, attempts, aid, channel, external_id, blocked, payload in rows]


async def enqueue_reply(session: AsyncSession, *, key: str, account_id: int, channel: str, external_id: str,
                        text: str, payload: str | None, now: datetime, lease: timedelta,
                        owner: str | None = None) -> Claimed:
    """A reply, written in the transaction of the step that produced it and claimed at once by the
    channel that will send it; if that process dies, the lease expires and the drain sends it."""
    until = now + lease
    db = await driver(session)
    ((row_id,),) = await db.fetch(_INSERT_REPLY, key, REPLY, account_id, text, payload, SENDING, now, until, owner, now)
    return Claimed(int(row_id), key, REPLY, text, None, 0, account_id, channel, external_id, False, lease=until,
                   payload=payload)


async def claim_replies(session: AsyncSession, key_prefix: str, now: datetime, lease: timedelta,
                        owner: str | None = None) -> list[Claimed]:
    """The unsent replies to one message (its redelivery sends them instead of staying silent)."""
    o = OutboxMessage
    stmt = select(id_col(o.id)).where(
        col(o.key).startswith(key_prefix, autoescape=True), col(o.kind) == REPLY,
        or_(col(o.status) == PENDING, _abandoned(now, owner)))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = await _drop_superseded(session, [i for i in (await session.execute(stmt)).scalars().all()])
    if not rows:
        return []
    claimed = await _claim_ids(session, rows, now, lease, owner)
    return sorted(claimed, key=lambda c: c.key)


def _mine(row: Claimed) -> ColumnElement[bool]:
    o = OutboxMessage
    return and_(col(o.id) == row.id, col(o.status) == SENDING, col(o.locked_until) == row.lease)


async def mark_sent(session: AsyncSession, row: Claimed, now: datetime) -> bool:
    conn = await connection(session)
    result = await conn.execute(_MARK_SENT, {"b_id": row.id, "b_lease": row.lease, "b_now": now,
                                             "b_attempts": row.attempts + 1})
    return bool(result.rowcount)


# through the driver (models.driver): every reply of every step runs them
_INSERT_REPLY = ("INSERT INTO outbox_message (key, kind, account_id, text, payload, status, attempts, next_attempt_at, "
                 "locked_until, owner, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?) RETURNING id")


MARK_CHUNK = 100  # claims per UPDATE (an OR of 100 terms: well inside SQLite's expression depth)


@lru_cache(maxsize=MARK_CHUNK)
def _mark_sent_many(n: int) -> str:
    """The claims still ours (status and lease unchanged) marked sent: ``attempts + 1`` in SQL."""
    claims = " OR ".join(["(id = ? AND locked_until = ?)"] * n)
    return (f"UPDATE outbox_message SET status = '{SENT}', sent_at = ?, attempts = attempts + 1, locked_until = NULL, "
            f"last_error = NULL WHERE status = '{SENDING}' AND ({claims}) RETURNING id")


async def mark_sent_many(session: AsyncSession, rows: Collection[Claimed], now: datetime) -> set[int]:
    """:func:`mark_sent` for several claimed rows in one statement; the ids marked (a row whose lease
    expired, or that another claim took over, is left alone). ``attempts + 1`` in SQL is the claim's
    own count plus one: the status and lease checked say nobody else touched the row."""
    if not rows:
        return set()
    claims, db, marked = list(rows), await driver(session), set()
    for start in range(0, len(claims), MARK_CHUNK):
        chunk = claims[start:start + MARK_CHUNK]
        found = await db.fetch(_mark_sent_many(len(chunk)), now, *(v for r in chunk for v in (r.id, r.lease)))
        marked |= {int(i) for (i,) in found}
    return marked


def backoff(attempts: int, base: timedelta) -> timedelta:
    """Exponential: base, 2·base, 4·base, … capped at an hour (``attempts`` ≥ 1)."""
    factor: int = 2 ** max(attempts - 1, 0)  # (typeshed: int ** int is Any, a negative power being a float)
    return min(base * factor, MAX_BACKOFF)


async def mark_retry(session: AsyncSession, row: Claimed, now: datetime, error: str, *,
                     retry_after: float | None = None, count_attempt: bool = True, max_attempts: int = 6,
                     base: timedelta = timedelta(seconds=30)) -> str:
    """Put the row back for later (or ``dead`` after ``max_attempts``); returns the new status.

    A rate limit (``count_attempt=False``) is not the message's fault: it waits ``retry_after`` and
    does not count toward ``max_attempts``."""
    attempts = row.attempts + (1 if count_attempt else 0)
    if count_attempt and attempts >= max_attempts:
        status, when = DEAD, now
    else:
        delay = backoff(attempts, base) if count_attempt else timedelta(0)
        if retry_after is not None:
            delay = max(delay, timedelta(seconds=retry_after))
        status, when = PENDING, now + delay
    await session.execute(update(OutboxMessage).where(_mine(row)).values(
        status=status, attempts=attempts, next_attempt_at=when, locked_until=None, last_error=error[:500]))
    return status


async def mark_final(session: AsyncSession, row: Claimed, status: str, error: str) -> None:
    """``dead`` (refused for good) or ``skipped`` (blocked account): never tried again."""
    await session.execute(update(OutboxMessage).where(_mine(row)).values(
        status=status, locked_until=None, last_error=error[:500]))


async def mark_blocked(session: AsyncSession, row: Claimed, error: str) -> None:
    """The user blocked the bot: skip this row, flag the account (its other rows are skipped when claimed)."""
    await mark_final(session, row, SKIPPED, error)
    await session.execute(update(ChannelAccount).where(col(ChannelAccount.id) == row.account_id).values(blocked=True))


async def release(session: AsyncSession, row: Claimed, when: datetime) -> None:
    """Give a claimed row back untried, due at ``when``."""
    await session.execute(update(OutboxMessage).where(_mine(row)).values(
        status=PENDING, next_attempt_at=when, locked_until=None))


async def counts(session: AsyncSession) -> dict[str, int]:
    from sqlalchemy import func

    rows = await session.execute(select(col(OutboxMessage.status), func.count()).group_by(col(OutboxMessage.status)))
    return {status: n for status, n in rows.all()}
