"""One long poller per bot token: a second worker polling the same token refuses to start, naming
the holder; the lease is renewed while polling and released on a clean stop; the token is never stored."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import make_url, select

from bot.app import build, start, stop
from bot.channels.zalo import ZaloChannel
from bot.poll_guard import PollerTaken, PollGuard, lease_name
from models.clock import utcnow
from models.db import transaction
from models.delivery.leases import hold, holder_of
from models.delivery.tables import Lease
from tests.bot.channels.test_telegram import TOKEN, make_config
from tests.bot.channels.test_zalo import TOKEN as ZALO_TOKEN
from tests.bot.channels.test_zalo import make_config as zalo_config
from tests.conftest import Database
from tests.crash.conftest import pg as pg  # the fixture: PostgreSQL, reached through a proxy here
from tests.crash.proxy import Proxy
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo
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
        polls = [n for n in names if not n.startswith("worker:")]  # (each worker's own life lease beside it)
        assert polls == [lease_name("telegram", TOKEN)] and all(TOKEN.split(":")[1] not in n for n in names)
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


def polls(fake: FakeZalo, timeout: str) -> int:
    """getUpdates calls with this ``timeout`` (each worker here polls with its own: A 1 s, B 2 s)."""
    return sum(1 for p in fake.methods_called("getUpdates") if str(p.get("timeout")) == timeout)


async def test_a_poller_cut_off_from_the_database_stops_polling_until_it_holds_the_lease_again(
        pg: Database, tmp_path: Path) -> None:
    """Worker A polls Zalo; its database goes away (a TCP proxy cut): A stops polling before its lease
    runs out; B takes the lease once it ran out and polls alone; the database comes back but B holds
    the lease, so A still waits; B stops, and A polls again."""
    url = make_url(pg.url)
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    ttl = timedelta(seconds=1.5)
    async with FakeZalo(token=ZALO_TOKEN) as fake:
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        a = await build(zalo_config(proxied, tmp_path / "a", fake, poll_timeout=1))
        b = await build(zalo_config(pg.url, tmp_path / "b", fake, poll_timeout=2))
        zalo_a, zalo_b = a.channels["zalo"], b.channels["zalo"]
        assert isinstance(zalo_a, ZaloChannel) and isinstance(zalo_b, ZaloChannel)
        guard_a, guard_b = PollGuard(a.sessions, "worker-a", ttl), PollGuard(b.sessions, "worker-b", ttl)
        try:
            permit = zalo_a.poll_permit = await guard_a.take("zalo", ZALO_TOKEN)
            await zalo_a.start()
            await until(lambda: polls(fake, "1") >= 2, "A polls")
            await proxy.cut()
            await until(lambda: not permit.held, "A saw that it cannot renew its lease")
            at_loss = polls(fake, "1")

            async def b_takes_over() -> bool:
                try:
                    zalo_b.poll_permit = await guard_b.take("zalo", ZALO_TOKEN)
                except PollerTaken:
                    return False
                return True

            for _ in range(600):  # B takes the lease once A's ran out (a safety net of a minute against a hang)
                if await b_takes_over():
                    break
                await asyncio.sleep(0.1)
            assert zalo_b.poll_permit is not None, "B never took the lease"
            await zalo_b.start()
            await until(lambda: polls(fake, "2") >= 3, "B polls")
            assert polls(fake, "1") <= at_loss + 1  # A's poll in flight at most, then nothing
            await proxy.restore()  # A reaches its database again, but B holds the lease
            before = polls(fake, "2")
            await until(lambda: polls(fake, "2") >= before + 3, "B polls on")
            assert not permit.held and polls(fake, "1") <= at_loss + 1
            await zalo_b.stop()
            await guard_b.stop()  # B releases the lease: A takes it at its next try and polls again
            await until(lambda: permit.held and polls(fake, "1") >= at_loss + 2, "A polls again")
        finally:
            for app, zalo, guard in ((a, zalo_a, guard_a), (b, zalo_b, guard_b)):
                await zalo.stop()
                await guard.stop()
                await stop(app)
            await proxy.close()
