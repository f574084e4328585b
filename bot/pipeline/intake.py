"""Durable intake: an update is written to the inbox before the platform is told "received", and is
processed from there, one account's updates at a time and in order.

- :meth:`Intake.accept` writes the updates down in one transaction, each keyed by the platform's id
  bounded to a message id's column (a longer one keeps its head and a hash of the whole: the key is
  also the step's ``message_id``); when that fails (the database is
  down) it raises, and the channel must not acknowledge (keep the polling offset, answer the webhook
  with an error) so the platform delivers again.
- Processing runs in the background, a worker per account with pending rows. ``process`` returns
  False when the database was unreachable: the row is tried again after a pause, the account's later
  rows wait behind it. The inbox row is marked done in the dialog step's own transaction; the worker
  marks it afterwards for updates that never reach the engine (``process`` returned True), and
  spends no transaction on it when ``process`` returns :data:`MARKED` (the step marked it already).
- :meth:`Intake.recover` (at start) queues what a crash left unprocessed. Nothing is processed before
  it ran (a webhook may deliver before the channel starts), and each account's rows are taken lowest
  inbox id first, so a recovered row goes before a newer one already queued.
- A redelivery of an update already written is processed again unless it is queued here: the engine
  recognises it and sends the replies still unsent (instead of silence).
- Several workers behind a load balancer may each get one of a sender's messages sent in quick
  succession. A row written while an earlier row of its sender was pending with another worker
  (``Pending.behind``, found by the INSERT itself) waits until that one is done
  (:func:`models.delivery.inbox.earlier_elsewhere`; at most :data:`ORDER_WAIT` seconds, then it goes
  on), so one person's steps run in the order they were received whichever worker holds them.
- :meth:`Intake.stop` takes nothing more in and lets the steps in hand finish.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from handlers.clean import MESSAGE_ID_CHARS, bounded_id
from models.clock import utcnow
from models.db import DbSession, SessionFactory, transaction, write_retrying
from models.delivery import inbox

log = logging.getLogger(__name__)

MARKED = "marked"  # what ``process`` returns when the row was marked done in the step's own transaction
Process = Callable[[inbox.Pending], Awaitable[bool | str]]
Item = tuple[str, str, dict[str, Any]]  # key, account, payload
ORDER_PAUSE = 0.02  # the first pause of a row waiting behind another worker's (doubling up to half a second)
ORDER_WAIT = 30.0  # seconds a row waits at most for an earlier row of its sender held by another worker


class Intake:
    def __init__(self, sessions: SessionFactory, channel: str, process: Process, *,
                 clock: Callable[[], datetime] = utcnow, retry_initial: float = 0.5, retry_max: float = 10.0,
                 owner: str | None = None, takeover_every: float = 2.0, order_wait: float = ORDER_WAIT) -> None:
        self.sessions, self.channel, self.process, self.clock = sessions, channel, process, clock
        self.owner = owner  # this worker's name: its rows are taken over by another if it dies
        self.takeover_every, self.order_wait = takeover_every, order_wait
        self._watcher: asyncio.Task[None] | None = None
        self.retry_initial, self.retry_max = retry_initial, retry_max
        self._queues: dict[str, list[tuple[int, int, inbox.Pending]]] = {}  # heaps by inbox id
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._keys: set[str] = set()  # queued or in hand here
        self._order = itertools.count()
        self.ready = False  # recover() ran: processing may begin
        self.stopping = False

    async def accept(self, items: Sequence[Item]) -> int:
        """Write the updates down, then queue them; raises when they could not be written."""
        if self.stopping:
            raise RuntimeError("intake stopped")
        now = self.clock()
        items = [(bounded_id(key, MESSAGE_ID_CHARS), account, payload) for key, account, payload in items]
        async with transaction(self.sessions) as session:  # one statement for the whole batch
            fresh = await inbox.record_many(session, self.channel, items, now, owner=self.owner)
        rows = [(key, account, payload, fresh.pop(key, None)) for key, account, payload in items]
        queued = 0
        for key, account, payload, row in rows:
            if row is None:  # a redelivery: run it again for its unsent replies, unless it is in hand here
                if key in self._keys:
                    continue
                row = inbox.Pending(0, key, account[:64], payload)
            self._queue(row)
            queued += 1
        return queued

    async def recover(self, page: int = 1000) -> int:
        """Queue what a previous run left unprocessed, all of it (read ``page`` rows at a time), then
        keep taking over what a dead worker acknowledged (every ``takeover_every`` seconds); returns
        how many rows were taken at start."""
        try:
            taken = await self._take(orphans=True, page=page)
        finally:
            self.ready = True
            for account in list(self._queues):
                self._start(account)
            if self.owner is not None and self._watcher is None:
                self._watcher = asyncio.create_task(self._watch(), name=f"intake-takeover-{self.channel}")
        if taken:
            log.info("%s: %d update(s) left unprocessed by the last run are processed now", self.channel, taken)
        return taken

    async def _take(self, *, orphans: bool, page: int = 1000) -> int:
        """Queue the pending rows whose owner is dead (``orphans``: or who have none), page by page."""
        taken, after = 0, 0
        while True:
            async with transaction(self.sessions) as session:
                rows = await inbox.take_over(session, self.channel, self.owner, self.clock(), orphans=orphans,
                                             after=after, limit=page)
            fresh = [row for row in rows if row.key not in self._keys]
            for row in fresh:
                self._queue(row)
            taken += len(fresh)
            if len(rows) < page:
                return taken
            after = rows[-1].id

    async def _watch(self) -> None:
        while not self.stopping:
            await asyncio.sleep(self.takeover_every)
            try:
                taken = await self._take(orphans=False)
            except Exception as exc:  # the database is down: look again later
                log.debug("%s: could not look for a dead worker's updates (%s)", self.channel, exc)
                continue
            if taken:
                log.info("%s: %d update(s) of a worker that died are processed here", self.channel, taken)

    def _queue(self, row: inbox.Pending) -> None:
        self._keys.add(row.key)
        heapq.heappush(self._queues.setdefault(row.account, []), (row.id, next(self._order), row))
        self._start(row.account)

    def _start(self, account: str) -> None:
        if self.ready and account not in self._workers and self._queues.get(account):
            self._workers[account] = asyncio.create_task(self._work(account), name=f"intake-{account}")

    async def _work(self, account: str) -> None:
        queue = self._queues[account]
        waiting_since: float | None = None
        pause = ORDER_PAUSE
        try:
            while queue and not self.stopping:
                row = heapq.heappop(queue)[2]
                if await self._behind(row, waiting_since):
                    # put back: an earlier row of this sender taken over here meanwhile goes first
                    heapq.heappush(queue, (row.id, next(self._order), row))
                    waiting_since = waiting_since if waiting_since is not None else time.monotonic()
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, 0.5)
                    continue
                waiting_since, pause = None, ORDER_PAUSE
                delay = self.retry_initial
                while not await self._one(row):
                    if self._stopped():
                        self._keys.discard(row.key)
                        return  # left pending: the next start processes it
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.retry_max)
                self._keys.discard(row.key)
        finally:
            del self._workers[account]
            if self.stopping:  # forget what was not begun: it stays pending for the next start
                for _id, _n, left in queue:
                    self._keys.discard(left.key)
                queue.clear()
            if not queue:
                self._queues.pop(account, None)

    async def _behind(self, row: inbox.Pending, waiting_since: float | None) -> bool:
        """True while an earlier row of ``row``'s sender is pending with another worker (and ``row``
        has waited less than ``order_wait`` for it)."""
        if self.owner is None or not row.behind:  # (nothing of its sender was elsewhere when it came)
            return False
        if waiting_since is not None and time.monotonic() - waiting_since >= self.order_wait:
            log.warning("%s: update %s goes on after %.0f s behind an earlier one of its sender held by another "
                        "worker", self.channel, row.key, self.order_wait)
            return False
        try:
            async with self.sessions() as session:
                return await inbox.earlier_elsewhere(session, self.channel, row.account, row.id, self.owner)
        except Exception as exc:  # the database is down: the step itself will find out and wait
            log.debug("%s: could not look for earlier updates of %s (%s)", self.channel, row.account, exc)
            return False

    async def _one(self, row: inbox.Pending) -> bool:
        try:
            outcome = await self.process(row)
            if not outcome:
                return False
            if outcome == MARKED:
                return True
        except Exception:
            log.exception("%s: processing update %s failed; it is not tried again", self.channel, row.key)
        now = self.clock()

        async def done(session: DbSession) -> bool:
            return await inbox.mark_done(session, self.channel, row.key, now)

        try:
            await write_retrying(self.sessions, done)
        except Exception:
            log.exception("%s: update %s handled but not marked done", self.channel, row.key)
        return True

    def _stopped(self) -> bool:  # (read after an await: a stop may have come meanwhile)
        return self.stopping

    @property
    def busy(self) -> bool:
        return bool(self._workers)

    async def idle(self) -> None:
        """Wait until everything queued so far is processed (tests, shutdown)."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    async def stop(self, grace: float = 10.0) -> None:
        """Take nothing more; let the steps in hand finish (``grace`` seconds at most)."""
        self.stopping = True
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
            self._watcher = None
        for account, queue in list(self._queues.items()):  # what is not begun stays pending for the next start
            if account not in self._workers:
                for _id, _n, left in queue:
                    self._keys.discard(left.key)
                del self._queues[account]
        workers = list(self._workers.values())
        if workers:
            _done, pending = await asyncio.wait(workers, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
