"""This process's life, as the other workers see it: a lease ``worker:<name>`` renewed while it runs
(:mod:`models.delivery.leases`).

The inbox rows this worker acknowledged and the outbox rows it claimed name it as their owner. When
it is killed its lease runs out (``ttl``, a few seconds) and another worker takes its rows over at
once, instead of waiting for a restart (the inbox) or for each row's own lock (60 s for a reply,
300 s for a broadcast). At start a worker also ends, at once, the leases of workers of this host
whose process is gone (a restart after ``kill -9`` need not wait for their ``ttl``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.poll_guard import died_here
from models.clock import utcnow
from models.db import SessionFactory, transaction
from models.delivery import leases
from models.outage import Outage

log = logging.getLogger(__name__)

WORKER_TTL = timedelta(seconds=10)


class Worker:
    def __init__(self, sessions: SessionFactory, name: str, ttl: timedelta = WORKER_TTL,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions, self.name, self.ttl, self.clock = sessions, name, ttl, clock
        self._task: asyncio.Task[None] | None = None

    @property
    def lease(self) -> str:
        return leases.WORKER + self.name

    async def start(self) -> None:
        """Hold this worker's lease and keep it (the database down: tried again in the background)."""
        try:
            async with transaction(self.sessions) as session:
                now = self.clock()
                for other in await leases.live_workers(session, now):
                    if died_here(other):
                        log.info("worker %s died on this host: its rows are taken over now", other)
                        await leases.release(session, leases.WORKER + other, other)
                await leases.hold(session, self.lease, self.name, now, self.ttl)
        except Exception as exc:
            log.warning("worker %s: could not take its lease at start (%s); trying again", self.name, exc)
        self._task = asyncio.create_task(self._keep(), name="worker-lease")

    async def _keep(self) -> None:
        outage = Outage(log, f"worker {self.name}: renewing its lease")  # one line an outage, not one a try
        while True:
            await asyncio.sleep(self.ttl.total_seconds() / 3)
            try:
                async with transaction(self.sessions) as session:
                    await leases.hold(session, self.lease, self.name, self.clock(), self.ttl)
                outage.ok()
            except Exception as exc:  # the database is down: tried again; others may take over meanwhile
                outage.failed(exc)

    async def stop(self) -> None:
        """A clean stop gives the lease up: what this worker still owned is taken over at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            async with transaction(self.sessions) as session:
                await leases.release(session, self.lease, self.name)
        except Exception as exc:
            log.warning("worker %s: could not give its lease up (%s); it runs out by itself", self.name, exc)
