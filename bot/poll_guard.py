"""One long poller per bot token, enforced through the database the workers share.

Telegram and Zalo hand each update to one ``getUpdates`` caller; two processes polling one token
fight over the updates (each gets some, Telegram answers the other ``409 Conflict``). Before a
channel starts polling, this worker takes the lease ``poll:<channel>:<hash of the token>``
(:mod:`models.delivery.leases`; the token itself is never stored) and renews it while it runs; a second
poller on the same token finds it held and refuses to start, naming the holder. A clean stop releases
it; a worker that died leaves it to run out after ``ttl``.

A worker that cannot renew its lease (its database is away, or the renewal hangs) may see it run out
and another worker take it. So its channels poll only while it holds the lease: each poll waits for the
channel's :class:`Permit`, withdrawn at the first renewal that fails or does not answer within a third
of ``ttl`` (well before the lease runs out) and given back once a renewal succeeds again — or never, while
another worker holds it. A long poll already in flight is let finish (a Zalo update it brings would
otherwise be lost), so two polls overlap at most by one ``poll_timeout``.
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
        if section.token is not None and section.mode != "webhook":
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


class Permit:
    """Whether a channel may start its next long poll: it holds the poll lease."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self._held = asyncio.Event()
        self._held.set()

    @property
    def held(self) -> bool:
        return self._held.is_set()

    async def wait(self) -> None:
        """Return when the lease is held (at once, normally)."""
        await self._held.wait()

    def set(self, held: bool, why: str = "") -> None:
        if held and not self.held:
            log.warning("%s: the poll lease is held again; polling resumes", self.channel)
            self._held.set()
        elif not held and self.held:
            log.error("%s: the poll lease could not be renewed (%s); polling stops until it is held again, so "
                      "that two workers never poll one token", self.channel, why)
            self._held.clear()


class PollGuard:
    """The poll leases of one worker: ``take`` before a channel polls, renewed in the background."""

    def __init__(self, sessions: SessionFactory, holder: str, ttl: timedelta = POLL_LEASE,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions, self.holder, self.ttl, self.clock = sessions, holder, ttl, clock
        self.names: list[str] = []
        self.permits: dict[str, Permit] = {}  # by lease name
        self._task: asyncio.Task[None] | None = None

    async def take(self, channel: str, token: str) -> Permit:
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
        permit = self.permits[name] = Permit(channel)
        if self._task is None:
            self._task = asyncio.create_task(self._keep(), name="poll-lease")
        return permit

    async def _keep(self) -> None:
        interval = self.ttl.total_seconds() / 3
        while True:
            lost = any(not p.held for p in self.permits.values())
            await asyncio.sleep(interval / 3 if lost else interval)  # a lost lease is asked for again often
            try:
                held = await asyncio.wait_for(self._renew(), timeout=interval)
            except Exception as exc:  # the database is away, or does not answer in time
                for permit in self.permits.values():
                    permit.set(False, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
                continue
            for name, ok in held.items():
                self.permits[name].set(ok, "another worker holds it")

    async def _renew(self) -> dict[str, bool]:
        async with transaction(self.sessions) as s:
            return {name: await hold(s, name, self.holder, self.clock(), self.ttl) for name in self.names}

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
            self.permits.clear()
