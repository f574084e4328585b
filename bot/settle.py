"""Recording what became of a claimed outbox row right after its send, so that nothing sent is sent again.

- The send and its record are one step that a cancellation (a graceful stop) does not cut in two:
  :func:`finish` lets the pair run to its end, then passes the cancellation on.
- The record is retried on transient database errors (:func:`models.db.write_retrying`, about 30 s),
  so that a database blip after a send does not leave the row to be sent again when its lease expires.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from models import outbox
from models.clock import utcnow
from models.db import DbSession, SessionFactory, write_retrying

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
    """Marks for claimed rows, each in its own transaction, retried on transient errors."""

    def __init__(self, sessions: SessionFactory, clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions, self.clock = sessions, clock

    async def sent(self, row: outbox.Claimed) -> bool:
        now = self.clock()
        try:
            done = await write_retrying(self.sessions, lambda s: outbox.mark_sent(s, row, now))
        except Exception:
            log.exception("outbox %s: sent, but could not be marked sent", row.key)
            return False
        if not done:
            log.warning("outbox %s: sent after its lease expired", row.key)
        return done

    async def retry_later(self, row: outbox.Claimed, error: str, *, retry_after: float | None = None,
                          counted: bool = True, max_attempts: int = 6,
                          base: timedelta = timedelta(seconds=30)) -> str:
        now = self.clock()
        return await write_retrying(self.sessions, lambda s: outbox.mark_retry(
            s, row, now, error, retry_after=retry_after, count_attempt=counted, max_attempts=max_attempts,
            base=base))

    async def blocked(self, row: outbox.Claimed, error: str) -> None:
        await write_retrying(self.sessions, lambda s: outbox.mark_blocked(s, row, error))

    async def dead(self, row: outbox.Claimed, error: str) -> None:
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
