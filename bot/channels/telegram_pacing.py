"""The Telegram channel's pace when several workers share one PostgreSQL: :class:`ChatRateLimiter`
(PTB's rate limiter: retries after ``retry_after``) booking its slots in the shared calendar of
:mod:`models.delivery.pacing` instead of its own buckets. Replies to a person book ahead of broadcasts; a
``retry_after`` one worker meets holds every worker off that chat.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.channels.telegram_limits import ChatRateLimiter
from models.delivery.pacing import SharedPace

log = logging.getLogger(__name__)


class SharedChatRateLimiter(ChatRateLimiter):
    shared = True

    def __init__(self, pace: SharedPace, max_retries: int = 3) -> None:
        super().__init__(max_retries=max_retries)
        self.pace = pace
        self._writes: set[asyncio.Task[Any]] = set()

    async def wait_turn(self, chat: str) -> None:
        held = self.paused_until.get(chat, 0.0) - self.clock()  # a retry_after this worker met just now
        if held > 0:
            await asyncio.sleep(held)
        await self.pace.turn(chat, reply=True)

    def penalise(self, chat: str, seconds: float) -> None:
        super().penalise(chat, seconds)
        task = asyncio.get_running_loop().create_task(self._share(chat, seconds))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _share(self, chat: str, seconds: float) -> None:
        try:
            await self.pace.hold_off(None if chat == "None" else chat, seconds)
        except Exception:  # the local hold still applies
            log.exception("telegram: sharing a retry_after of %.1fs failed", seconds)
