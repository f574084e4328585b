"""One scheduler at a time across workers: the lease, the standby, the takeover when the leader dies,
the hand-over on a clean stop; the database away said once; and the housekeeping that the expiry job
does."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import make_scheduler
from bot.config import load_config
from models.db import make_engine, make_session_factory, transaction
from models.delivery.housekeeping import prune
from models.delivery.leases import WORKER, hold, holder_of, release
from models.delivery.outbox import enqueue
from models.delivery.tables import OutboxMessage, ProcessedMessage
from scheduler import Leadership, Scheduler
from tests.conftest import Database
from tests.scheduler.fake_channel import FakeChannel
from tests.scheduler.province import at, build_province
from tests.scheduler.test_scheduler import MONDAY, _config

TTL = timedelta(seconds=45)
T0 = datetime(2025, 1, 13, 3, 0, tzinfo=UTC)


async def test_the_lease_has_one_holder_until_it_runs_out_or_is_released(db: Database) -> None:
    async with transaction(db.sessions) as s:
        assert await hold(s, "scheduler", "a", T0, TTL)
        assert not await hold(s, "scheduler", "b", T0 + timedelta(seconds=10), TTL)  # a holds it
        assert await hold(s, "scheduler", "a", T0 + timedelta(seconds=30), TTL)  # renewed: until T0 + 75 s
        assert not await hold(s, "scheduler", "b", T0 + timedelta(seconds=60), TTL)
        assert await holder_of(s, "scheduler", T0 + timedelta(seconds=60)) == "a"
        assert await holder_of(s, "scheduler", T0 + timedelta(seconds=75)) is None  # ran out
        assert await hold(s, "scheduler", "b", T0 + timedelta(seconds=75), TTL)  # a died: b takes it
        assert not await hold(s, "scheduler", "a", T0 + timedelta(seconds=80), TTL)
        await release(s, "scheduler", "a")  # not a's to release: nothing changes
        assert await holder_of(s, "scheduler", T0 + timedelta(seconds=80)) == "b"
        await release(s, "scheduler", "b")
        assert await holder_of(s, "scheduler", T0 + timedelta(seconds=80)) is None
        assert await hold(s, "scheduler", "a", T0 + timedelta(seconds=81), TTL)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _worker(db: Database, tmp_path: Path, name: str, clock: Clock, fake: FakeChannel) -> Scheduler:
    sched = make_scheduler(_config(db, tmp_path), db.sessions, {"telegram": fake}, clock=clock)
    return Scheduler(sched.settings, db.sessions, sched.deliver, clock, Leadership(name, TTL))


async def test_only_the_leader_runs_jobs_and_a_standby_takes_over(db: Database, tmp_path: Path) -> None:
    async with transaction(db.sessions) as s:
        p = await build_province(s)
    clock = Clock(at(MONDAY, 10))
    fake_a, fake_b = FakeChannel(), FakeChannel()
    a = _worker(db, tmp_path, "worker-a", clock, fake_a)
    b = _worker(db, tmp_path, "worker-b", clock, fake_b)
    try:
        await a.start()
        await b.start()
        assert (a.status(), b.status()) == ("leader", "standby")

        async def send(text: str) -> None:
            async with transaction(db.sessions) as s:
                await enqueue(s, key=f"test:{text}", kind="reminder", account_id=p.accounts["staff_C1"], text=text,
                              now=clock())

        await send("one")
        assert await b.run_job(b.drain_job) is None and fake_b.sent == []  # the standby does nothing
        await a.run_job(a.drain_job)  # (its start-up catch-up may also have sent the missed weekly digest)
        assert "one" in fake_a.texts("ext-staff_C1")

        # a dies (stops renewing): once its lease has run out, b's next renewal takes over
        clock.now += TTL + timedelta(seconds=1)
        assert not a.leading  # a knows its own lease ran out: it stops running jobs before anyone takes over
        assert await b.lead_once() and b.status() == "leader"
        assert not await a.lead_once() and a.status() == "standby"
        await send("two")
        assert await a.run_job(a.drain_job) is None
        await b.run_job(b.drain_job)
        assert "two" in fake_b.texts("ext-staff_C1") and "two" not in fake_a.texts("ext-staff_C1")
        assert "one" not in fake_b.texts("ext-staff_C1")  # each message once, by whoever led at the time

        # a clean stop hands over at once, without waiting for the lease to run out
        await b.stop()
        assert await a.lead_once() and a.status() == "leader"
    finally:
        await a.stop()
        await b.stop()
    async with db.sessions() as s:
        assert await holder_of(s, "scheduler", clock()) is None  # the last one out released it


async def test_housekeeping_drops_old_ids_and_failed_rows_and_keeps_what_dedupes(db: Database) -> None:
    async with transaction(db.sessions) as s:
        p = await build_province(s)
        old, recent = T0 - timedelta(days=40), T0 - timedelta(days=1)
        s.add_all([ProcessedMessage(channel="telegram", message_id="old", at=old),
                   ProcessedMessage(channel="telegram", message_id="new", at=recent)])
        for key, status, when in [("dead-old", "dead", old), ("skipped-old", "skipped", old),
                                  ("sent-old", "sent", old), ("dead-new", "dead", recent),
                                  ("pending-old", "pending", old)]:
            await enqueue(s, key=key, kind="reminder", account_id=p.accounts["staff_C1"], text=key, now=when)
            row = (await s.execute(select(OutboxMessage).where(OutboxMessage.key == key))).scalar_one()
            row.status = status
    async with transaction(db.sessions) as s:
        pruned = await prune(s, T0, keep_processed=timedelta(days=7), keep_outbox=timedelta(days=30))
    assert (pruned.processed, pruned.outbox) == (1, 2)
    async with db.sessions() as s:
        ids = set((await s.execute(select(ProcessedMessage.message_id))).scalars())
        keys = set((await s.execute(select(OutboxMessage.key))).scalars())
        assert ids == {"new"}
        assert keys == {"sent-old", "dead-new", "pending-old"}  # a sent key stays: it is what prevents a resend
        assert (await s.execute(select(func.count()).select_from(OutboxMessage))).scalar_one() == 3


async def test_a_lease_held_by_workers_is_free_once_its_holders_worker_lease_ran_out(db: Database) -> None:
    worker_ttl = timedelta(seconds=10)
    async with transaction(db.sessions) as s:
        assert await hold(s, WORKER + "a", "a", T0, worker_ttl)  # worker a lives (until T0 + 10 s)
        assert await hold(s, WORKER + "b", "b", T0, timedelta(minutes=5))  # and b (its lease says nothing of a's)
        assert await hold(s, "scheduler", "a", T0, TTL, holders_are_workers=True)
        assert not await hold(s, "scheduler", "b", T0 + timedelta(seconds=5), TTL, holders_are_workers=True)
        assert await hold(s, WORKER + "a", "a", T0 + timedelta(seconds=6), worker_ttl)  # a renews: until T0 + 16 s
        assert not await hold(s, "scheduler", "b", T0 + timedelta(seconds=12), TTL, holders_are_workers=True)
        # a is killed: its worker lease runs out at T0 + 16 s, its scheduler lease not before T0 + 45 s
        assert not await hold(s, "scheduler", "b", T0 + timedelta(seconds=16), TTL)  # (a plain lease waits)
        assert await hold(s, "scheduler", "b", T0 + timedelta(seconds=16), TTL, holders_are_workers=True)
        assert await holder_of(s, "scheduler", T0 + timedelta(seconds=16)) == "b"


async def test_a_standby_takes_over_when_the_leaders_worker_died(db: Database, tmp_path: Path) -> None:
    clock = Clock(T0)
    fake = FakeChannel()
    sched = make_scheduler(_config(db, tmp_path), db.sessions, {"telegram": fake}, clock=clock)

    def worker(name: str) -> Scheduler:
        return Scheduler(sched.settings, db.sessions, sched.deliver, clock, Leadership(name, TTL, workers=True))

    a, b = worker("a"), worker("b")
    assert (a.leadership and a.leadership.every) == timedelta(seconds=3)  # the standby looks every 3 s
    for name in ("a", "b"):
        async with transaction(db.sessions) as s:
            await hold(s, WORKER + name, name, T0, timedelta(seconds=10))
    assert await a.lead_once() and not await b.lead_once()
    clock.now = T0 + timedelta(seconds=11)  # a was killed: its worker lease ran out; b's is renewed
    async with transaction(db.sessions) as s:
        await hold(s, WORKER + "b", "b", T0 + timedelta(seconds=9), timedelta(seconds=10))
    assert await b.lead_once() and b.status() == "leader"
    assert not await a.lead_once()  # (had it lived, it would find the lease taken and stand by)


async def test_the_lease_with_the_database_away_is_one_line(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    """Renewing the lease against a database that does not answer: one line (no traceback), not one a try;
    the worker stands by."""
    config = load_config(None, env={"DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/nobody"})
    config.scheduler.files_dir = str(tmp_path / "outbox")
    engine = make_engine(config.database.url)
    try:
        scheduler = make_scheduler(config, make_session_factory(engine), {}, clock=Clock(T0), worker="worker-a")
        with caplog.at_level(logging.INFO, logger="scheduler"):
            for _ in range(5):
                assert not await scheduler.lead_once()
        said = [r for r in caplog.records if r.name == "scheduler"]
        assert len(said) == 1 and said[0].exc_info is None, [r.getMessage() for r in said]
        assert said[0].getMessage().startswith("scheduler lease failed: ConnectionRefusedError")
        assert scheduler.status() == "standby"
    finally:
        await engine.dispose()
