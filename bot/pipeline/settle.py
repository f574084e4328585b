"""Recording what became of a claimed outbox row right after its send, so that nothing sent is sent again.

- The send and its record are one step that a cancellation (a graceful stop) does not cut in two:
  :func:`finish` lets the pair run to its end, then passes the cancellation on.
- The record is retried on transient database errors (:func:`models.db.write_retrying`, about 30 s),
  so that a database blip after a send does not leave the row to be sent again when its lease expires.
- "Sent" marks are group-committed: the marks that arrive while one transaction of marks is being
  written go together in the next (one statement, one transaction). Nothing waits on purpose: alone,
  a mark is written at once, as before; under load, the many steps of the moment share one write
  (on SQLite the write lock is taken once instead of once per reply). Each caller still returns only
  once its own mark is committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from bot.metrics import count_send, send_result_of_retry
from models.clock import utcnow
from models.db import DbSession, SessionFactory, write_retrying
from models.delivery import outbox

log = logging.getLogger(__name__)
T = TypeVar("T")


async def finish(work: Awaitable[T]) -> T:
    """Await ``work`` shielded from cancellation; if cancelled meanwhile, finish it, then re-raise."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if not task.done():
            try:
                await task
            except Exception:
                log.exception("a shielded send failed while stopping")
        raise


class Settle:
    """Marks for claimed rows, retried on transient errors: "sent" marks group-committed, the others
    each in its own transaction."""

    def __init__(self, sessions: SessionFactory, clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions, self.clock = sessions, clock
        self._waiting: list[tuple[outbox.Claimed, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.writes = 0  # transactions of "sent" marks (tests, the benchmark)

    async def sent(self, row: outbox.Claimed) -> bool:
        """Mark ``row`` sent; returns once the mark is committed (False: it could not be, or the lease
        had expired)."""
        count_send(row.channel, "ok")
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_marks(), name="settle-sent")
        return await asyncio.shield(future)  # a cancelled caller does not cancel the others' write

    async def _write_marks(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            rows = {row.id: row for row, _ in batch}.values()
            now = self.clock()
            try:
                self.writes += 1
                marked = await write_retrying(self.sessions, partial(outbox.mark_sent_many, rows=rows, now=now))
            except BaseException as exc:
                for row, future in batch:
                    if not future.done():
                        log.error("outbox %s: sent, but could not be marked sent (%r)", row.key, exc)
                        future.set_result(False)
                if not isinstance(exc, Exception):
                    raise
                continue
            for row, future in batch:
                if row.id not in marked:
                    log.warning("outbox %s: sent after its lease expired", row.key)
                if not future.done():
                    future.set_result(row.id in marked)

    async def retry_later(self, row: outbox.Claimed, error: str, *, retry_after: float | None = None,
                          counted: bool = True, max_attempts: int = 6,
                          base: timedelta = timedelta(seconds=30)) -> str:
        count_send(row.channel, send_result_of_retry(error, retry_after))
        now = self.clock()
        return await write_retrying(self.sessions, lambda s: outbox.mark_retry(
            s, row, now, error, retry_after=retry_after, count_attempt=counted, max_attempts=max_attempts,
            base=base))

    async def blocked(self, row: outbox.Claimed, error: str) -> None:
        count_send(row.channel, "forbidden")
        await write_retrying(self.sessions, lambda s: outbox.mark_blocked(s, row, error))

    async def dead(self, row: outbox.Claimed, error: str) -> None:
        count_send(row.channel, "failed")
        await write_retrying(self.sessions, lambda s: outbox.mark_final(s, row, outbox.DEAD, error))

    async def release(self, rows: list[outbox.Claimed]) -> None:
        """Give rows back untried (a stop before their turn): due at once for the next drain."""
        if not rows:
            return
        now = self.clock()

        async def work(session: DbSession) -> None:
            for row in rows:
                await outbox.release(session, row, now)

        try:
            await write_retrying(self.sessions, work, attempts=2)
        except Exception:
            log.exception("could not release %d claimed outbox row(s); their lease will expire", len(rows))
