"""Pacing for the Telegram channel: the outgoing rate limiter.

Telegram asks bots to stay under about 30 messages a second overall and about one a second per chat
(short bursts tolerated), and answers ``429 Too Many Requests`` with ``retry_after`` otherwise.
:class:`ChatRateLimiter` books a slot in two token buckets (overall, per chat) before each request
that names a chat, waits ``retry_after`` after a 429 and retries up to ``max_retries`` times
(``rate_limit_args=Retries(n)`` of one call overrides that: the outbox's sends use ``Retries(0)``
and the outbox retries on its own).

Incoming updates are not python-telegram-bot's to dispatch: they go through the inbox, one account's at a
time and in order (:mod:`bot.pipeline.intake`).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import warnings
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

UNLIMITED = frozenset({"getUpdates", "getMe", "answerCallbackQuery", "setWebhook", "deleteWebhook",
                       "setMyCommands", "getWebhookInfo"})


@dataclass(frozen=True, slots=True)
class Retries:
    """``rate_limit_args`` of one request: how often to repeat it after a 429 (PTB drops a bare 0)."""

    n: int
    booked: bool = False  # its slot is taken already (the outbox drain booked it in the shared pace)


def retry_after_seconds(exc: RetryAfter) -> float:
    """``exc.retry_after`` in seconds, whatever PTB_TIMEDELTA says (and without its warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Bucket:
    """A token bucket that books ahead: ``reserve`` always takes a token and says how long to wait."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate, self.capacity = rate, capacity
        self.tokens, self.stamp = capacity, now

    def reserve(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= 1
        return max(0.0, -self.tokens / self.rate)

    def full(self, now: float) -> bool:
        return self.tokens + (now - self.stamp) * self.rate >= self.capacity


class ChatRateLimiter(BaseRateLimiter[Retries]):
    """Overall and per-chat token buckets plus ``retry_after`` handling."""

    shared = False  # books in the pace the workers share, where the outbox drain books too

    def __init__(self, per_second: float = 30.0, chat_per_second: float = 1.0, chat_burst: int = 3,
                 max_retries: int = 3, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.max_retries = max_retries
        self.chat_rate, self.chat_burst = chat_per_second, float(chat_burst)
        self.overall = Bucket(per_second, max(1.0, per_second), clock())
        self.chats: dict[str, Bucket] = {}
        self.paused_until: dict[str, float] = {}
        self.retried = 0  # requests repeated after a 429 (for tests and logs)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def reserve(self, chat: str) -> float:
        """Book the next slot for a request to ``chat``; the seconds to wait for it."""
        now = self.clock()
        bucket = self.chats.get(chat)
        if bucket is None:
            if len(self.chats) > 10_000:
                self.chats = {c: b for c, b in self.chats.items() if not b.full(now)}
                self.paused_until = {c: u for c, u in self.paused_until.items() if u > now}
            bucket = self.chats[chat] = Bucket(self.chat_rate, self.chat_burst, now)
        wait = max(self.overall.reserve(now), bucket.reserve(now), self.paused_until.get(chat, 0.0) - now)
        return max(0.0, wait)

    async def wait_turn(self, chat: str) -> None:
        """Return when a request to ``chat`` may go (a shared pace overrides this)."""
        if (wait := self.reserve(chat)) > 0:
            await asyncio.sleep(wait)

    def penalise(self, chat: str, seconds: float) -> None:
        self.paused_until[chat] = max(self.paused_until.get(chat, 0.0), self.clock() + seconds)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Retries | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        retries = self.max_retries if rate_limit_args is None else rate_limit_args.n
        chat = data.get("chat_id")
        limited = chat is not None and endpoint not in UNLIMITED
        booked = rate_limit_args is not None and rate_limit_args.booked
        for attempt in itertools.count():
            if limited and not (booked and attempt == 0):  # (a repeat after a 429 books its own slot)
                await self.wait_turn(str(chat))
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = retry_after_seconds(exc)
                self.penalise(str(chat), seconds)
                if attempt >= retries:
                    raise
                self.retried += 1
                log.info("telegram: %s to chat %s rate limited; retrying after %.1fs", endpoint, chat, seconds)
                if not limited:
                    await asyncio.sleep(seconds)
        raise AssertionError("unreachable")
