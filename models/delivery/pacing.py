"""One pace for every worker on one PostgreSQL: a shared slot calendar for the platforms' limits.

Telegram asks for at most about 30 messages a second overall and about one a second per chat, and
answers ``429`` with ``retry_after`` beyond that; several workers pacing alone would exceed it
N-fold. Here the calendar is in the database (table ``pace``), so all workers book from one:

* the row ``*<channel>`` holds the next free overall slot (``next_at``, seconds since the epoch) and
  a ``blocked_until`` for a ``retry_after`` that stops the whole channel;
* a row per chat (``<channel>:<id>``) holds the chat's theoretical arrival time (GCRA: up to ``burst``
  messages back to back, then one per ``chat_interval``) and its own ``blocked_until``.

``pace_take`` (a PL/pgSQL function, migration 0009) books in one round trip: when the chat is not
free yet it books nothing and says how long to wait (so a busy chat holds no overall slot: fair
between chats); otherwise it takes the next overall slot, moves the chat on, and says how long until
that slot. Replies to a person always book; broadcasts (``horizon`` set) book only while the overall
calendar is less than ``horizon`` ahead, so a reply never queues behind a province-wide run.

Replies booked at the same moment by one worker go in one round trip (:data:`TAKE_MANY`: the same
``pace_take`` for each, one after the other in one statement, so each sees the bookings before it):
under load the pace costs a statement per batch of sends instead of one (and a connection checkout)
per send. Alone, a booking goes at once, as before. A worker books its waiting replies at most
:data:`REPLY_AHEAD` seconds of slots at a time: what a killed worker had booked and never sent holds
the others back for that long at most.

On SQLite (one process) the in-memory limiters are used instead; the table exists but stays empty.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import delete, func, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlmodel import col

from models.db import transient
from models.delivery.tables import Pace

log = logging.getLogger(__name__)

BULK_HORIZON = 0.25  # seconds a broadcast may book ahead; beyond it the slots are kept for replies
# seconds of the shared calendar one worker's replies may hold booked ahead of now: a worker killed with
# a thousand replies waiting wastes at most about this much of every other worker's pace (booked all at
# once, its slots would hold the survivors back for as long as the dead worker's queue would have taken)
REPLY_AHEAD = 2.0




TAKE = text("SELECT pace_take(:overall, :chat, :now, :interval, :chat_interval, :tolerance, :horizon)")
TAKE_MANY = text("SELECT t.n, pace_take(:overall, t.chat, :now, :interval, :chat_interval, :tolerance, NULL) "
                 "FROM unnest(CAST(:chats AS text[])) WITH ORDINALITY AS t(chat, n)")
BLOCK = text("INSERT INTO pace (key, next_at, blocked_until) VALUES (:key, 0, :until) "
             "ON CONFLICT (key) DO UPDATE SET blocked_until = GREATEST(pace.blocked_until, EXCLUDED.blocked_until)")


async def take(conn: AsyncConnection, channel: str, chat: str, now: float, interval: float, chat_interval: float,
               burst: int = 1, horizon: float | None = None) -> float:
    """Book a slot for a message to ``chat`` of ``channel``: ``>= 0`` booked, wait that long;
    ``< 0`` not booked (the chat is busy, or the calendar is full for a broadcast), ask again after ``-value``."""
    result = await conn.execute(TAKE, {"overall": f"*{channel}", "chat": f"{channel}:{chat}", "now": now,
                                       "interval": interval, "chat_interval": chat_interval,
                                       "tolerance": max(burst - 1, 0) * chat_interval, "horizon": horizon})
    return float(result.scalar_one())


async def take_many(conn: AsyncConnection, channel: str, chats: list[str], now: float, interval: float,
                    chat_interval: float, burst: int = 1) -> list[float]:
    """:func:`take` for replies to several chats (in this order) in one statement."""
    result = await conn.execute(TAKE_MANY, {"overall": f"*{channel}", "chats": [f"{channel}:{c}" for c in chats],
                                            "now": now, "interval": interval, "chat_interval": chat_interval,
                                            "tolerance": max(burst - 1, 0) * chat_interval})
    waits: dict[int, float] = {int(n): float(w) for n, w in result.all()}
    return [float(waits[n]) for n in range(1, len(chats) + 1)]


async def block(conn: AsyncConnection, channel: str, chat: str | None, until: float) -> None:
    """Nobody sends to ``chat`` (to the whole channel when None) before ``until``."""
    await conn.execute(BLOCK, {"key": f"*{channel}" if chat is None else f"{channel}:{chat}", "until": until})


async def prune_idle(session: AsyncSession, now: float, keep: float = 3600.0) -> int:
    """Forget the chats nobody was written to (nor held off) for ``keep`` seconds: a forgotten chat is
    free, as it would be anyway. The channels' overall rows stay. Returns how many went."""
    stale = func.max(col(Pace.next_at), col(Pace.blocked_until)) if session.bind is not None and \
        session.bind.dialect.name == "sqlite" else func.greatest(col(Pace.next_at), col(Pace.blocked_until))
    result = await session.execute(delete(Pace).where(~col(Pace.key).startswith("*"), stale < now - keep))
    return int(getattr(result, "rowcount", 0) or 0)


class SharedPace:
    """The calendar of one channel as the workers use it: ``await turn(chat)`` returns when the
    message may go, ``await hold_off(chat, seconds)`` shares a ``retry_after`` with every worker."""

    def __init__(self, engine: AsyncEngine, channel: str, per_second: float, chat_interval: float, *,
                 burst: int = 1, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.engine = engine.execution_options(isolation_level="AUTOCOMMIT")  # one round trip a booking
        self.channel, self.interval, self.chat_interval, self.burst = channel, 1.0 / per_second, chat_interval, burst
        self.clock, self.sleep = clock, sleep
        self._bulk = asyncio.Lock()  # this worker's broadcasts ask one at a time (no crowd polling the row)
        self.bookings = 0
        self.round_trips = 0  # booking statements sent (tests, the benchmark)
        self._asking: list[tuple[str, asyncio.Future[float]]] = []  # replies waiting for the next batch
        self._booker: asyncio.Task[None] | None = None

    async def _take(self, chat: str, horizon: float | None) -> float:
        if horizon is None:
            return await self._take_reply(chat)
        self.round_trips += 1
        async with self.engine.connect() as conn:
            return await take(conn, self.channel, chat, self.clock(), self.interval, self.chat_interval,
                              self.burst, horizon)

    async def _take_reply(self, chat: str) -> float:
        """A reply's booking, in the next batch (sent at once when none is on its way)."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._asking.append((chat, future))
        if self._booker is None or self._booker.done():
            self._booker = asyncio.create_task(self._book_replies(), name=f"pace-{self.channel}")
        return await future

    async def _book_replies(self) -> None:
        most = max(1, int(REPLY_AHEAD / self.interval))  # a batch's slots span REPLY_AHEAD at most
        while self._asking:
            batch, self._asking = self._asking[:most], self._asking[most:]
            try:
                self.round_trips += 1
                async with self.engine.connect() as conn:
                    waits = await take_many(conn, self.channel, [chat for chat, _ in batch], self.clock(),
                                            self.interval, self.chat_interval, self.burst)
            except BaseException as exc:
                for _chat, future in batch:
                    if not future.done():
                        future.set_exception(exc if isinstance(exc, Exception) else RuntimeError("stopped"))
                if not isinstance(exc, Exception):
                    raise
                continue
            for (_chat, future), wait in zip(batch, waits, strict=True):
                if not future.done():  # (a caller cancelled meanwhile loses its slot, as it would have)
                    future.set_result(wait)
            furthest = max(waits, default=0.0)
            if self._asking and furthest > REPLY_AHEAD / 2:  # more to book: not before these are nearly due
                await self.sleep(furthest - REPLY_AHEAD / 2)

    async def turn(self, chat: str, *, reply: bool = True) -> None:
        """Wait for this message's slot; a reply books at once, a broadcast only when replies leave room."""
        while True:
            try:
                if reply:
                    wait = await self._take(chat, None)
                else:
                    async with self._bulk:
                        wait = await self._take(chat, BULK_HORIZON)
            except Exception as exc:  # the database is away: pace this worker alone until it is back
                if not transient(exc):
                    raise
                log.warning("shared pace unavailable (%s): this worker paces alone for now", type(exc).__name__)
                await self.sleep(self.interval)
                return
            if wait >= 0:
                self.bookings += 1
                if wait > 0:
                    await self.sleep(wait)
                return
            # not booked: the chat is busy or the calendar is full; a little jitter spreads the workers
            await self.sleep(-wait + random.uniform(0, self.interval))

    async def hold_off(self, chat: str | None, seconds: float) -> None:
        """A ``429 retry_after``: every worker waits that long before its next message to ``chat``."""
        async with self.engine.connect() as conn:
            await block(conn, self.channel, chat, self.clock() + seconds)
