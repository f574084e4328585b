"""Leases: one holder at a time for a named duty shared by several workers (the scheduler).

A lease row names its holder and when it runs out. The holder renews it well before that; a worker
that dies stops renewing, and another takes the lease once it has expired. Taking and renewing are
one ``INSERT … ON CONFLICT DO UPDATE … WHERE`` (SQLite and PostgreSQL), so two workers asking at the
same moment cannot both get it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.delivery.tables import Lease
from models.typed_sql import table_of


def _upsert(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(Lease)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(Lease)


async def hold(session: AsyncSession, name: str, holder: str, now: datetime, ttl: timedelta, *,
               holders_are_workers: bool = False) -> bool:
    """Take the lease ``name`` if it is free or expired, renew it if ``holder`` has it; True when
    ``holder`` holds it afterwards (until ``now + ttl``). ``holders_are_workers``: its holders are
    workers with a lease of their own (``worker:<holder>``), and it is free as soon as its holder's
    worker lease has run out (a killed worker's duty moves on within seconds, not after ``ttl``)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    stmt = _upsert(dialect).values(name=name, holder=holder, expires_at=now + ttl)
    table = table_of(Lease)
    free = (table.c.holder == holder) | (table.c.expires_at <= now)
    if holders_are_workers:  # the holder read first: an upsert's WHERE cannot look up another row
        current = (await session.execute(select(table.c.holder).where(table.c.name == name))).scalar_one_or_none()
        if current is not None and current != holder and not (
                await session.execute(select(owner_alive(literal(current), now)))).scalar():
            free = free | (table.c.holder == current)  # (if another took it meanwhile, this no longer matches)
    stmt = stmt.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": stmt.excluded.holder, "expires_at": stmt.excluded.expires_at},
        where=free,
    )
    await session.execute(stmt)
    current = (await session.execute(select(col(Lease.holder)).where(col(Lease.name) == name))).scalar_one()
    return bool(current == holder)


async def release(session: AsyncSession, name: str, holder: str) -> None:
    """Give the lease up at once (a clean stop), so another worker need not wait for it to expire."""
    await session.execute(delete(Lease).where(col(Lease.name) == name, col(Lease.holder) == holder))


async def holder_of(session: AsyncSession, name: str, now: datetime) -> str | None:
    """Who holds ``name`` now (None when nobody does or the lease ran out)."""
    row = (await session.execute(select(col(Lease.holder), col(Lease.expires_at))
                                 .where(col(Lease.name) == name))).one_or_none()
    if row is None or row[1] <= now:
        return None
    return str(row[0])


WORKER = "worker:"  # a running worker's lease: ``worker:<its name>``, renewed while it lives


def owner_alive(owner: Any, now: datetime) -> Any:
    """SQL: the worker named by the column ``owner`` holds its lease at ``now`` (it is alive). (Its own
    alias of the lease table: ``owner`` may be a column of a lease row.)"""
    workers = table_of(Lease).alias("worker_lease")
    return (select(workers.c.name).where(workers.c.name == literal(WORKER) + owner, workers.c.expires_at > now)
            .exists())


async def live_workers(session: AsyncSession, now: datetime) -> set[str]:
    rows = await session.execute(select(col(Lease.name)).where(col(Lease.name).startswith(WORKER),
                                                               col(Lease.expires_at) > now))
    return {str(name)[len(WORKER):] for name in rows.scalars().all()}
