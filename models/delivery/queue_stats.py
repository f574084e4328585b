"""How far behind the bot is, read for ``/metrics`` and ``/healthz``: the inbox (updates received and not
yet handled, and the age of the oldest) per channel, the outbox by status and the age of the oldest
message still waiting. Read-only; a few indexed aggregate queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.delivery.outbox import PENDING, SENDING
from models.delivery.tables import InboxMessage, OutboxMessage

WAITING = (PENDING, SENDING)


@dataclass(slots=True)
class QueueStats:
    inbox_pending: dict[str, int] = field(default_factory=dict)  # channel → updates not yet handled
    inbox_lag_seconds: dict[str, float] = field(default_factory=dict)  # channel → age of the oldest of them
    outbox: dict[str, int] = field(default_factory=dict)  # status → messages
    outbox_oldest_seconds: float = 0.0  # age of the oldest message still waiting (0: none)

    @property
    def outbox_waiting(self) -> int:
        return sum(self.outbox.get(s, 0) for s in WAITING)


def _age(now: datetime, then: datetime | None) -> float:
    if then is None:
        return 0.0
    if then.tzinfo is None:  # SQLite hands back naive UTC
        then = then.replace(tzinfo=now.tzinfo)
    return max(0.0, (now - then).total_seconds())


async def queue_stats(session: AsyncSession, now: datetime) -> QueueStats:
    stats = QueueStats()
    i = InboxMessage
    rows = await session.execute(select(col(i.channel), func.count(), func.min(col(i.received_at)))
                                 .where(col(i.done_at).is_(None)).group_by(col(i.channel)))
    for channel, n, oldest in rows.all():
        stats.inbox_pending[channel] = int(n)
        stats.inbox_lag_seconds[channel] = _age(now, oldest)
    o = OutboxMessage
    stats.outbox = {status: int(n) for status, n in (await session.execute(
        select(col(o.status), func.count()).group_by(col(o.status)))).all()}
    first = (await session.execute(select(func.min(col(o.created_at))).where(col(o.status).in_(WAITING)))).scalar()
    stats.outbox_oldest_seconds = _age(now, first)
    return stats
