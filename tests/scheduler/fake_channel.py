"""A channel that records what it is asked to send, and fails on demand (the outbox tests' seam)."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from bot.pipeline.errors import SendError
from handlers.messages import Reply


class FakeChannel:
    def __init__(self, name: str = "telegram", delay: float = 0.0) -> None:
        self.name = name
        self.delay = delay
        self.sent: list[tuple[str, Reply]] = []
        self.failures: dict[str, list[SendError]] = defaultdict(list)  # external id → errors to raise, in order
        self.always: dict[str, SendError] = {}  # external id → error raised every time
        self._sent_changed = asyncio.Event()

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, external_id: str, reply: Reply) -> None:
        await asyncio.sleep(self.delay)
        if external_id in self.always:
            raise self.always[external_id]
        if self.failures[external_id]:
            raise self.failures[external_id].pop(0)
        self.sent.append((external_id, reply))
        self._sent_changed.set()

    async def wait_sent(self, n: int) -> None:
        """Until at least ``n`` messages were sent."""
        while len(self.sent) < n:
            self._sent_changed.clear()
            await self._sent_changed.wait()

    def routes(self) -> list[object]:
        return []

    def texts(self, external_id: str) -> list[str]:
        return [r.text for ext, r in self.sent if ext == external_id]
