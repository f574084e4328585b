"""What became of a meeting's invitations, village by village, read from the outbox: queued, sent (when,
through which channel), failed — and whether the village answered (no platform tells a bot that a
message was read; an answer is the proof that it was)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.accounts.tables import ChannelAccount
from models.delivery.outbox import DEAD, PENDING, SENDING, SENT
from models.delivery.tables import OutboxMessage

FAILED = (DEAD, "failed", "blocked")


@dataclass(slots=True)
class VillageDelivery:
    queued: int = 0
    sent: int = 0
    failed: int = 0
    last_sent: datetime | None = None
    channels: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)


async def invitation_delivery(session: AsyncSession, meeting_id: int) -> dict[int, VillageDelivery]:
    """village id → its invitations (and change notices) to ``meeting_id`` by outcome."""
    rows = await session.execute(
        select(col(OutboxMessage.village_id), col(OutboxMessage.status), col(OutboxMessage.sent_at),
               col(OutboxMessage.last_error), col(ChannelAccount.channel))
        .join(ChannelAccount, col(ChannelAccount.id) == OutboxMessage.account_id)
        .where(or_(*(col(OutboxMessage.key).startswith(f"giaoban:{kind}:{meeting_id}:")
                     for kind in ("invite", "moved", "cancel")))))
    out: dict[int, VillageDelivery] = {}
    for village_id, status, sent_at, error, channel in rows.all():
        if village_id is None:
            continue
        d = out.setdefault(village_id, VillageDelivery())
        if status in (PENDING, SENDING):
            d.queued += 1
        elif status == SENT:
            d.sent += 1
            d.channels.add(channel)
            d.last_sent = max(d.last_sent or sent_at, sent_at) if sent_at else d.last_sent
        elif status in FAILED:
            d.failed += 1
            d.errors.append(error or status)
    return out
