"""A worker killed with what it acknowledged and claimed: another worker takes it over within seconds.

The dead worker here is what ``kill -9`` leaves: its lease row, no longer renewed, and the rows that
name it (inbox rows it acknowledged to the platform, reply and broadcast rows it claimed). A living
worker keeps its lease (:class:`bot.pipeline.worker.Worker`) and is never robbed.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import pytest

from bot.delivery import DrainPolicy, RateLimiter, drain
from bot.pipeline.intake import Intake
from bot.pipeline.worker import Worker
from models.accounts.tables import ChannelAccount
from models.clock import utcnow
from models.db import make_engine, make_session_factory, transaction
from models.delivery import inbox, leases, outbox
from models.delivery.tables import InboxMessage, OutboxMessage
from tests.conftest import Database
from tests.scheduler.fake_channel import FakeChannel
from tests.waiting import until

LEASE = timedelta(seconds=1)


async def lease_for(db: Database, name: str, ttl: timedelta = LEASE) -> None:
    """A worker's lease as it runs; not renewed afterwards (it is killed)."""
    async with transaction(db.sessions) as s:
        assert await leases.hold(s, leases.WORKER + name, name, utcnow(), ttl)


async def test_what_a_killed_worker_acknowledged_is_processed_by_another(db: Database) -> None:
    seen: dict[str, list[str]] = {"a": [], "b": []}

    def processor(worker: str):  # type: ignore[no-untyped-def]
        async def process(row: inbox.Pending) -> bool:
            seen[worker].append(row.key)
            return True
        return process

    b_life = Worker(db.sessions, "b", ttl=LEASE)
    await b_life.start()
    await lease_for(db, "a")
    a = Intake(db.sessions, "telegram", processor("a"), owner="a")  # acknowledges, then is killed before processing
    b = Intake(db.sessions, "telegram", processor("b"), owner="b", takeover_every=0.2)
    try:
        await b.recover()
        assert await a.accept([("m1:1", "1", {}), ("m1:2", "1", {}), ("m2:1", "2", {})]) == 3
        await asyncio.sleep(0.5)  # a alive (its lease runs): b takes nothing
        assert seen["b"] == []
        await until(lambda: len(seen["b"]) == 3, "b processes what a acknowledged", 30.0)
        assert sorted(seen["b"]) == ["m1:1", "m1:2", "m2:1"] and seen["a"] == []
        assert [k for k in seen["b"] if k.startswith("m1:")] == ["m1:1", "m1:2"]  # one account's in order
        await b.idle()
        async with db.sessions() as s:
            assert await inbox.counts(s) == {"pending": 0, "done": 3}
            owners = {r.owner for r in (await s.execute(InboxMessage.__table__.select())).all()}  # type: ignore[attr-defined]
            assert owners == {"b"}
    finally:
        await b.stop()
        await b_life.stop()


async def claimed_replies(db: Database, owners: dict[str, str | None], at: datetime, lock: timedelta) -> None:
    """A reply for each name (its text), claimed at ``at`` for ``lock`` by its owner, as a step leaves it."""
    async with transaction(db.sessions) as s:
        account = ChannelAccount(channel="telegram", external_id="u0", created_at=at)
        s.add(account)
        await s.flush()
        assert account.id is not None
        for name, owner in owners.items():
            await outbox.enqueue_reply(s, key=f"reply:telegram:{name}:0", account_id=account.id, channel="telegram",
                                       external_id="u0", text=name, payload=None, now=at, lease=lock, owner=owner)


async def test_a_reply_claimed_by_a_killed_worker_is_sent_at_once_not_after_its_lock(db: Database) -> None:
    now = utcnow()
    await claimed_replies(db, {"alive": "alive", "dead": "dead"}, now, timedelta(seconds=60))  # the usual lock
    await lease_for(db, "alive", timedelta(minutes=5))
    await lease_for(db, "dead", timedelta(seconds=-1))  # killed: its lease has run out
    fake = FakeChannel()
    stats = await drain(db.sessions, {"telegram": fake}, RateLimiter(1e6, 0.0), DrainPolicy(owner="b"),
                        clock=utcnow)  # well within the rows' 60-second lock
    assert utcnow() < now + timedelta(seconds=60)
    assert stats.sent == 1 and [r.text for _, r in fake.sent] == ["dead"]
    async with db.sessions() as s:
        rows = {r.key: r for r in (await s.execute(OutboxMessage.__table__.select())).all()}  # type: ignore[attr-defined]
    assert rows["reply:telegram:dead:0"].status == outbox.SENT
    assert rows["reply:telegram:alive:0"].status == outbox.SENDING  # the living worker's: left alone


async def test_a_restarted_worker_ends_the_leases_of_its_dead_predecessors_on_this_host(db: Database) -> None:
    dead = "localhost-never:999999999:abc"  # not this host's process: left to run out
    import socket
    gone = f"{socket.gethostname()}:999999999:abc"  # this host, no such process: ended at once
    await lease_for(db, dead, timedelta(minutes=5))
    await lease_for(db, gone, timedelta(minutes=5))
    worker = Worker(db.sessions, "fresh")
    await worker.start()
    try:
        async with db.sessions() as s:
            assert await leases.live_workers(s, utcnow()) == {dead, "fresh"}
    finally:
        await worker.stop()
    async with db.sessions() as s:
        assert await leases.live_workers(s, utcnow()) == {dead}  # a clean stop gives the lease up


async def test_a_worker_cut_off_from_its_database_says_so_once_not_at_every_renewal(
        caplog: pytest.LogCaptureFixture) -> None:
    engine = make_engine("postgresql+asyncpg://postgres@127.0.0.1:9/nowhere")  # nothing listens on port 9
    worker = Worker(make_session_factory(engine), "cut-off", ttl=timedelta(seconds=0.3))
    try:
        with caplog.at_level(logging.INFO, logger="bot.pipeline.worker"):
            await worker.start()
            await until(lambda: sum("renewing its lease" in r.getMessage() for r in caplog.records) >= 1, "said")
            await asyncio.sleep(1.0)  # about ten renewals meanwhile
        said = [r for r in caplog.records if "renewing its lease" in r.getMessage()]
        assert len(said) == 1 and said[0].exc_info is None, [r.getMessage() for r in caplog.records]
    finally:
        await worker.stop()
        await engine.dispose()


async def test_a_living_workers_reply_waiting_past_its_lock_is_not_taken_and_sent_twice(db: Database) -> None:
    """A reply waiting its turn in the pace behind a backlog outlives its lock; its worker is alive and
    will send it: the drain leaves it (it would go twice), unless it is stuck far past its lock."""
    await claimed_replies(db, {"waiting": "alive", "nobody": None}, utcnow() - timedelta(seconds=3),
                          timedelta(seconds=1))  # both claimed 3 s ago with a 1 s lock
    await lease_for(db, "alive", timedelta(hours=1))
    fake = FakeChannel()
    stats = await drain(db.sessions, {"telegram": fake}, RateLimiter(1e6, 0.0), DrainPolicy(owner="b"), clock=utcnow)
    assert stats.sent == 1 and [r.text for _, r in fake.sent] == ["nobody"]  # an unowned claim: its lock counts
    stuck = utcnow() + outbox.STUCK_CLAIM
    stats = await drain(db.sessions, {"telegram": fake}, RateLimiter(1e6, 0.0), DrainPolicy(owner="b"),
                        clock=lambda: stuck)
    assert stats.sent == 1 and [r.text for _, r in fake.sent] == ["nobody", "waiting"]  # stuck far past it
