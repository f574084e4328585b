"""The outbox drain: claim due rows, send them through the channels at a limited rate, record the
outcome of each right after its send.

The rate limiter reserves a time slot per message: at most ``per_second`` overall, and at most one
message every ``per_chat_seconds`` to the same chat (Telegram's published limits; Zalo publishes
none, the same pace is used).
"""

from __future__ import annotations

import asyncio
import logging
import math
import mimetypes
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from bot.pipeline.errors import SendBlocked, SendError, SendRejected, SendRetryLater
from bot.pipeline.settle import Settle, finish
from handlers.messages import Attachment, Reply
from handlers.reply_codec import decode
from models.clock import utcnow
from models.db import SessionFactory, transaction
from models.delivery import outbox
from models.delivery.files import is_request

log = logging.getLogger(__name__)


class Channel(Protocol):
    """What the drain needs of a channel: ``send`` on the bot's own initiative, raising the pipeline's
    send errors (:mod:`bot.pipeline.errors`)."""

    async def send(self, external_id: str, reply: Reply) -> None: ...


class RateLimiter:
    """Time slots of ``1/per_second`` overall, at most one per ``per_chat_seconds`` for each chat.

    Slots are a calendar: a chat that must wait takes a later slot without holding up the others.
    """

    def __init__(self, per_second: float, per_chat_seconds: float = 1.0, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.interval = 1.0 / per_second
        self.per_chat = per_chat_seconds
        self.clock, self.sleep = clock, sleep
        self._taken: set[int] = set()
        self._chat_next: dict[str, float] = {}

    def reserve(self, chat: str) -> float:
        """Book the next free slot for ``chat``; returns the seconds to wait for it."""
        now = self.clock()
        earliest = max(now, self._chat_next.get(chat, 0.0))
        i = math.ceil(earliest / self.interval - 1e-9)
        while i in self._taken:
            i += 1
        self._taken.add(i)
        slot = i * self.interval
        self._chat_next[chat] = slot + self.per_chat
        if len(self._taken) > 4096:
            floor = math.floor(now / self.interval)
            self._taken = {j for j in self._taken if j >= floor}
        if len(self._chat_next) > 10_000:
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
        return max(slot - now, 0.0)

    async def acquire(self, chat: str, reply: bool = False) -> None:
        """Wait for this chat's next slot (``reply``: an answer to a person, which the shared pace on
        PostgreSQL books ahead of broadcasts; one process keeps a single calendar)."""
        wait = self.reserve(chat)
        if wait > 0:
            await self.sleep(wait)

    def penalise(self, chat: str, seconds: float) -> None:
        """The platform said "too many requests" for this chat: wait before its next message."""
        self._chat_next[chat] = max(self._chat_next.get(chat, 0.0), self.clock() + seconds)


@dataclass(slots=True)
class DrainPolicy:
    max_attempts: int = 6
    backoff_base: timedelta = timedelta(seconds=30)
    lease: timedelta = timedelta(minutes=5)
    batch: int = 100
    concurrency: int = 32
    hold_kinds: Collection[str] = ()  # kinds not sent now (reminders in quiet hours)
    owner: str | None = None  # this worker's name: its claims are taken over at once if it dies


@dataclass(slots=True)
class DrainStats:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    skipped: int = 0
    keys: list[str] = field(default_factory=list)

    def __iadd__(self, other: DrainStats) -> DrainStats:
        self.sent += other.sent
        self.retried += other.retried
        self.dead += other.dead
        self.skipped += other.skipped
        self.keys += other.keys
        return self


def _reply(row: outbox.Claimed) -> Reply:
    if is_request(row.kind, row.payload):  # a file request whose builder never came back (models/files.py)
        raise OSError("the file was never built")
    if row.payload:  # a reply a crash left: with its choices and file
        return decode(row.payload, row.text)
    if not row.attachment_path:
        return Reply(text=row.text)
    path = Path(row.attachment_path)
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Reply(text=row.text, attachment=Attachment(filename=path.name, content=path.read_bytes(), mime_type=mime))


async def _deliver(sessions: SessionFactory, channels: Mapping[str, Channel], limiter: RateLimiter,
                   row: outbox.Claimed, policy: DrainPolicy, settle: Settle, stats: DrainStats,
                   begun: set[int]) -> None:
    chat = f"{row.channel}:{row.external_id}"
    if row.blocked:
        async with transaction(sessions) as s:
            await outbox.mark_final(s, row, outbox.SKIPPED, "account blocked")
        stats.skipped += 1
        return
    try:
        reply = _reply(row)
    except OSError as exc:
        async with transaction(sessions) as s:
            await outbox.mark_final(s, row, outbox.DEAD, f"attachment: {exc}")
        stats.dead += 1
        return
    await limiter.acquire(chat, reply=row.kind == "reply")  # a reply a crash left goes ahead of broadcasts
    begun.add(row.id)
    await finish(_send_and_mark(channels[row.channel], reply, row, chat, limiter, policy, settle, stats))


async def _send_and_mark(channel: Channel, reply: Reply, row: outbox.Claimed, chat: str, limiter: RateLimiter,
                         policy: DrainPolicy, settle: Settle, stats: DrainStats) -> None:
    """One send and the record of its outcome: run to the end even when the drain is cancelled
    (a graceful stop), the record retried on transient database errors (:mod:`bot.pipeline.settle`)."""
    outcome: str
    # read below only for the outcomes whose branch sets them
    error, counted = "", True
    retry_after: float | None = None
    try:
        await channel.send(row.external_id, reply)
        outcome = "sent"
    except SendRetryLater as exc:
        limiter.penalise(chat, exc.retry_after)
        outcome, error, retry_after, counted = "retry", str(exc), exc.retry_after, False
    except SendBlocked as exc:
        outcome, error = "blocked", str(exc) or "blocked"
    except SendRejected as exc:
        outcome, error = "rejected", str(exc) or "rejected"
    except (SendError, OSError, TimeoutError) as exc:
        outcome, error, retry_after, counted = "retry", f"{type(exc).__name__}: {exc}", None, True
    except Exception as exc:  # a bug in a channel must not stop the drain; the row is retried
        log.exception("sending %s failed", row.key)
        outcome, error, retry_after, counted = "retry", f"{type(exc).__name__}: {exc}", None, True
    if outcome == "sent":
        await settle.sent(row)
        stats.sent += 1
        stats.keys.append(row.key)
    elif outcome == "blocked":
        await settle.blocked(row, error)
        stats.skipped += 1
    elif outcome == "rejected":
        await settle.dead(row, error)
        stats.dead += 1
    else:
        status = await settle.retry_later(row, error, retry_after=retry_after, counted=counted,
                                          max_attempts=policy.max_attempts, base=policy.backoff_base)
        if status == outbox.DEAD:
            stats.dead += 1
        else:
            stats.retried += 1


async def drain_once(sessions: SessionFactory, channels: Mapping[str, Channel], limiter: RateLimiter,
                     policy: DrainPolicy | None = None, clock: Callable[[], datetime] = utcnow) -> DrainStats:
    """Claim one batch and deliver it: different people's messages at once (``policy.concurrency``),
    one person's in the order they were queued; returns what happened."""
    policy = policy or DrainPolicy()
    stats = DrainStats()
    if not channels:
        return stats
    async with transaction(sessions) as s:
        rows = await outbox.claim_due(s, clock(), channels=list(channels), limit=policy.batch,
                                      lease=policy.lease, hold_kinds=policy.hold_kinds, owner=policy.owner)
    gate = asyncio.Semaphore(policy.concurrency)
    settle, begun = Settle(sessions, clock), set[int]()
    by_account: dict[int, list[outbox.Claimed]] = {}
    for row in rows:  # (claimed in order: one person's messages go one after the other, as they were queued)
        by_account.setdefault(row.account_id, []).append(row)

    async def in_turn(mine: list[outbox.Claimed]) -> None:
        for row in mine:
            async with gate:
                await _deliver(sessions, channels, limiter, row, policy, settle, stats, begun)

    tasks = [asyncio.ensure_future(in_turn(mine)) for mine in by_account.values()]
    try:
        await asyncio.gather(*tasks)
    except asyncio.CancelledError:  # a stop: the sends in hand are finished and marked; the others given back
        if tasks:  # gather cancelled them all, but returns at the first one cancelled
            await asyncio.wait(tasks)
        await settle.release([r for r in rows if r.id not in begun])
        raise
    return stats


async def drain(sessions: SessionFactory, channels: Mapping[str, Channel], limiter: RateLimiter,
                policy: DrainPolicy | None = None, clock: Callable[[], datetime] = utcnow,
                max_batches: int = 1000) -> DrainStats:
    """Deliver batches until nothing is due (or ``max_batches``)."""
    total = DrainStats()
    for _ in range(max_batches):
        stats = await drain_once(sessions, channels, limiter, policy, clock)
        total += stats
        if not (stats.sent or stats.retried or stats.dead or stats.skipped):
            break
    return total


class Outbox:
    """The scheduler's ``deliver``: drain the outbox through these channels, at one pace."""

    def __init__(self, sessions: SessionFactory, channels: Mapping[str, Channel], limiter: RateLimiter,
                 policy: DrainPolicy) -> None:
        self.sessions, self.channels, self.limiter, self.policy = sessions, channels, limiter, policy

    async def __call__(self, hold_kinds: Collection[str] = (), clock: Callable[[], datetime] = utcnow) -> DrainStats:
        policy = replace(self.policy, hold_kinds=hold_kinds)
        return await drain(self.sessions, self.channels, self.limiter, policy, clock)
