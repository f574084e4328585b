"""One long poller per bot token, enforced through the database the workers share.

Telegram and Zalo hand each update to one ``getUpdates`` caller; two processes polling one token
fight over the updates (each gets some, Telegram answers the other ``409 Conflict``). Before a
channel starts polling, this worker takes the lease ``poll:<channel>:<hash of the token>``
(:mod:`models.delivery.leases`; the token itself is never stored) and renews it while it runs; a second
poller on the same token finds it held and refuses to start, naming the holder. A clean stop releases
it; a worker that died leaves it to run out after ``ttl``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.config import Config, ConfigError
from models.clock import utcnow
from models.db import SessionFactory, transaction
from models.delivery.leases import hold, holder_of, release

log = logging.getLogger(__name__)

POLL_LEASE = timedelta(seconds=30)


class PollerTaken(ConfigError):
    """Another worker already long-polls this token."""


def lease_name(channel: str, token: str) -> str:
    """``poll:telegram:`` and the first 24 hex digits of the token's SHA-256 (never the token)."""
    return f"poll:{channel}:{hashlib.sha256(token.encode('utf-8')).hexdigest()[:24]}"


def polling_tokens(config: Config) -> dict[str, str]:
    """The channels this config long-polls, with their tokens."""
    out: dict[str, str] = {}
    for name, section in (("telegram", config.telegram), ("zalo", config.zalo)):
        if section.token is not None and section.mode == "polling":
            out[name] = section.token.get_secret_value()
    return out


def died_here(holder: str) -> bool:
    """Whether ``holder`` (``host:pid:…``, as :func:`bot.app.worker_name` makes it) was a process of
    this host that no longer runs: a restart after ``kill -9`` need not wait for its lease to run out."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


class PollGuard:
    """The poll leases of one worker: ``take`` before a channel polls, renewed in the background."""

    def __init__(self, sessions: SessionFactory, holder: str, ttl: timedelta = POLL_LEASE,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions, self.holder, self.ttl, self.clock = sessions, holder, ttl, clock
        self.names: list[str] = []
        self._task: asyncio.Task[None] | None = None

    async def take(self, channel: str, token: str) -> None:
        name = lease_name(channel, token)
        async with transaction(self.sessions) as s:
            now = self.clock()
            held = await hold(s, name, self.holder, now, self.ttl)
            other = None if held else await holder_of(s, name, now)
            if other is not None and died_here(other):  # the worker this one replaces after a crash
                log.warning("%s: the poll lease of %s, a process of this host that is gone, is taken over",
                            channel, other)
                await release(s, name, other)
                held = await hold(s, name, self.holder, now, self.ttl)
            if not held:
                raise PollerTaken(
                    f"{channel}: another worker ({other}) is already long-polling this bot token; only one "
                    f"poller per token may run, or they steal each other's updates. Stop that worker, or use "
                    f"{channel}.mode = \"webhook\" to run several. (A worker that died frees it within "
                    f"{self.ttl.total_seconds():.0f} s.)")
        self.names.append(name)
        if self._task is None:
            self._task = asyncio.create_task(self._keep(), name="poll-lease")

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self.ttl.total_seconds() / 3)
            try:
                async with transaction(self.sessions) as s:
                    for name in self.names:
                        if not await hold(s, name, self.holder, self.clock(), self.ttl):
                            log.error("the poll lease %s passed to another worker: two pollers on one token", name)
            except Exception:  # the database is away for a moment: try again next round
                log.exception("renewing the poll leases failed")

    async def stop(self) -> None:
        """Stop renewing and release the leases (after the channels stopped polling)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self.names:
            async with transaction(self.sessions) as s:
                for name in self.names:
                    await release(s, name, self.holder)
            self.names.clear()
