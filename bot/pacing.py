"""The outbox's pace when several workers share one PostgreSQL: :class:`bot.delivery.RateLimiter`'s
interface over the shared calendar of :mod:`models.delivery.pacing` (one per channel).

Unprompted messages are broadcasts: they book only when replies leave room; a reply the outbox sends
(one a crash or an outage left unsent) books as a reply. ``penalise`` (a
``retry_after`` from the platform) holds this worker at once and tells every other worker through the
database. On SQLite (one process) the composition root keeps the in-memory :class:`RateLimiter`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.delivery import RateLimiter
from models.db import DbEngine
from models.delivery.pacing import SharedPace

log = logging.getLogger(__name__)


class SharedRateLimiter(RateLimiter):
    """``acquire(chat)`` / ``penalise(chat, seconds)`` with ``chat`` = ``"<channel>:<id>"``."""

    def __init__(self, engine: DbEngine, per_second: float, per_chat_seconds: float = 1.0) -> None:
        super().__init__(per_second, per_chat_seconds)
        self.engine, self.per_second = engine, per_second
        self.paces: dict[str, SharedPace] = {}
        self._writes: set[asyncio.Task[Any]] = set()

    def pace(self, channel: str) -> SharedPace:
        if channel not in self.paces:
            self.paces[channel] = SharedPace(self.engine, channel, self.per_second, self.per_chat)
        return self.paces[channel]

    async def acquire(self, chat: str, reply: bool = False) -> None:
        channel, _, chat_id = chat.partition(":")
        until = self._chat_next.get(chat, 0.0) - self.clock()  # this worker's own retry_after, known already
        if until > 0:
            await self.sleep(until)
        await self.pace(channel).turn(chat_id, reply=reply)

    def penalise(self, chat: str, seconds: float) -> None:
        super().penalise(chat, seconds)
        channel, _, chat_id = chat.partition(":")
        task = asyncio.get_running_loop().create_task(self._share(channel, chat_id, seconds))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _share(self, channel: str, chat_id: str, seconds: float) -> None:
        try:
            await self.pace(channel).hold_off(chat_id, seconds)
        except Exception:  # the local hold still applies; the others will meet their own 429
            log.exception("sharing a retry_after of %.1fs failed", seconds)
