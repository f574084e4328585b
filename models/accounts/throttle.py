"""Failure counters that hold across workers and restarts (a row per scope and key, in the database):
invite redemptions per account and per code prefix, logins per client address and per account.

A fixed window: the first failure opens it, ``max_failures`` failures within ``window`` close the
door until the window has passed. Nothing here says who exists or which try was close: callers answer
every refusal the same way.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.accounts.tables import KEY_CHARS, Throttle
from models.db import insert_ignore


@dataclass(frozen=True, slots=True)
class Limit:
    scope: str
    max_failures: int
    window: timedelta


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value  # SQLite hands back naive UTC


async def _row(session: AsyncSession, limit: Limit, key: str, *, lock: bool = False) -> Throttle | None:
    query = select(Throttle).where(col(Throttle.scope) == limit.scope, col(Throttle.key) == key[:KEY_CHARS])
    return (await session.execute(query.with_for_update() if lock else query)).scalar_one_or_none()


async def wait_left(session: AsyncSession, limit: Limit, key: str, now: datetime) -> timedelta | None:
    """How long ``key`` must still wait, or None when it may try."""
    row = await _row(session, limit, key)
    if row is None or row.failures < limit.max_failures:
        return None
    left = _aware(row.window_start) + limit.window - now
    return left if left > timedelta(0) else None


async def record_failure(session: AsyncSession, limit: Limit, key: str, now: datetime, *, count: int = 1) -> int:
    """Count ``count`` failures of ``key``; the failures in the current window, these included."""
    key = key[:KEY_CHARS]
    await insert_ignore(session, Throttle, scope=limit.scope, key=key, window_start=now, failures=0)
    row = await _row(session, limit, key, lock=True)
    assert row is not None
    if _aware(row.window_start) + limit.window <= now:
        row.window_start, row.failures = now, 0
    row.failures += count
    if random.random() < 0.02:  # now and then, forget windows long past
        await session.execute(delete(Throttle).where(col(Throttle.scope) == limit.scope,
                                                     col(Throttle.window_start) < now - limit.window * 4))
    await session.flush()
    return row.failures


async def forget(session: AsyncSession, limit: Limit, key: str) -> None:
    """A success: the key starts afresh."""
    await session.execute(delete(Throttle).where(col(Throttle.scope) == limit.scope,
                                                 col(Throttle.key) == key[:KEY_CHARS]))


async def hold_off(session: AsyncSession, scope: str, key: str, until: datetime) -> None:
    """``key`` may not try again before ``until`` (a row of ``scope`` whose ``window_start`` is that time)."""
    key = key[:KEY_CHARS]
    await insert_ignore(session, Throttle, scope=scope, key=key, window_start=until, failures=0)
    row = (await session.execute(select(Throttle).where(col(Throttle.scope) == scope, col(Throttle.key) == key)
                                 .with_for_update())).scalar_one()
    row.window_start = until
    if random.random() < 0.02:  # now and then, forget hold-offs a day past
        await session.execute(delete(Throttle).where(col(Throttle.scope) == scope,
                                                     col(Throttle.window_start) < until - timedelta(days=1)))
    await session.flush()


async def held_off_until(session: AsyncSession, scope: str, key: str) -> datetime | None:
    """When ``key`` may try again (see :func:`hold_off`); None when it was never held off."""
    row = (await session.execute(select(col(Throttle.window_start)).where(
        col(Throttle.scope) == scope, col(Throttle.key) == key[:KEY_CHARS]))).scalar_one_or_none()
    return _aware(row) if row is not None else None
