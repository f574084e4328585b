"""One long poller per bot token: a second worker polling the same token refuses to start, naming
the holder; the lease is renewed while polling and released on a clean stop; the token is never stored."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import build, start, stop
from bot.poll_guard import PollerTaken, PollGuard, lease_name
from models.clock import utcnow
from models.db import transaction
from models.delivery.leases import hold, holder_of
from models.delivery.tables import Lease
from tests.bot.channels.test_telegram import TOKEN, make_config
from tests.conftest import Database
from tests.fakes.telegram_api import FakeTelegram
from tests.waiting import until


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as server:
        yield server


async def test_a_second_poller_on_the_same_token_refuses_to_start(db: Database, fake: FakeTelegram) -> None:
    first = await build(make_config(db.url, fake))
    second = await build(make_config(db.url, fake))
    try:
        await start(first)
        with pytest.raises(PollerTaken, match="already long-polling this bot token") as refused:
            await start(second)
        assert "webhook" in str(refused.value) and TOKEN not in str(refused.value)
        assert not second.channels["telegram"].running  # type: ignore[attr-defined]
        async with transaction(db.sessions) as s:
            names = (await s.execute(select(Lease.name))).scalars().all()
        assert names == [lease_name("telegram", TOKEN)] and all(TOKEN.split(":")[1] not in n for n in names)
        await stop(second)
        await stop(first)  # a clean stop hands the token over at once
        third = await build(make_config(db.url, fake))
        await start(third)
        assert third.channels["telegram"].running  # type: ignore[attr-defined]
        await stop(third)
    finally:
        await stop(first)
        await stop(second)


async def test_the_poll_lease_is_renewed_while_polling_and_released_on_stop(db: Database) -> None:
    ttl = timedelta(seconds=0.6)
    guard = PollGuard(db.sessions, "w1", ttl)
    await guard.take("zalo", "zalo-token")
    name = lease_name("zalo", "zalo-token")
    started = utcnow()

    async def holder() -> str | None:
        async with transaction(db.sessions) as s:
            return await holder_of(s, name, utcnow())

    seen: list[str | None] = []

    async def probe() -> bool:
        seen.append(await holder())
        return utcnow() - started > 3 * ttl

    while not await probe():  # three lease lengths later it is still held: renewed
        pass
    assert set(seen) == {"w1"}
    with pytest.raises(PollerTaken):
        await PollGuard(db.sessions, "w2", ttl).take("zalo", "zalo-token")
    await guard.stop()
    assert await holder() is None
    await until(lambda: guard._task is None, "the renewal stopped")


async def test_a_lease_left_by_a_dead_process_of_this_host_is_taken_over(db: Database) -> None:
    """A restart after ``kill -9`` does not wait for the dead poller's lease to run out."""
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await proc.wait()  # a process that ran and is gone
    dead_pid = proc.pid
    name = lease_name("zalo", "zalo-token")
    async with transaction(db.sessions) as s:
        assert await hold(s, name, f"{socket.gethostname()}:{dead_pid}:abc", utcnow(), timedelta(minutes=5))
    guard = PollGuard(db.sessions, "w-new")
    await guard.take("zalo", "zalo-token")  # the holder's process is gone: taken over, no refusal
    async with transaction(db.sessions) as s:
        assert await holder_of(s, name, utcnow()) == "w-new"
    await guard.stop()
    async with transaction(db.sessions) as s:  # a live holder (this very process) is still refused
        assert await hold(s, name, f"{socket.gethostname()}:{os.getpid()}:live", utcnow(),
                          timedelta(minutes=5))
    with pytest.raises(PollerTaken):
        await PollGuard(db.sessions, "w-other").take("zalo", "zalo-token")
