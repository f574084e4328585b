"""Housekeeping: rows kept only for a while are dropped once they can no longer matter.

- ``processed_message``: the ids of messages already handled, kept so a redelivery is handled once.
  Platforms redeliver within hours (Telegram keeps an update at most 24 h), so a few days is plenty.
- ``outbox_message`` rows that ended without being sent (dead, skipped). Sent rows stay: they are
  the record that a key was sent, which is what keeps a rerun from sending it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.delivery.outbox import DEAD, SKIPPED
from models.delivery.tables import OutboxMessage, ProcessedMessage
from models.typed_sql import rowcount


@dataclass(frozen=True, slots=True)
class Pruned:
    processed: int
    outbox: int


async def prune(session: AsyncSession, now: datetime, keep_processed: timedelta, keep_outbox: timedelta) -> Pruned:
    processed = await session.execute(delete(ProcessedMessage).where(col(ProcessedMessage.at) < now - keep_processed))
    outbox = await session.execute(delete(OutboxMessage).where(
        col(OutboxMessage.status).in_((DEAD, SKIPPED)), col(OutboxMessage.created_at) < now - keep_outbox))
    return Pruned(processed=rowcount(processed), outbox=rowcount(outbox))
