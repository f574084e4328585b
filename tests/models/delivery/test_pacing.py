"""The pace all workers share on PostgreSQL (models/pacing.py): fair between chats, replies ahead of
broadcasts, a retry_after seen by one worker honoured by all; on SQLite the in-memory limiters stay."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import make_scheduler, shared_telegram_limiter
from bot.config import Config
from bot.delivery import RateLimiter
from bot.pacing import SharedRateLimiter
from models.db import make_engine, make_session_factory, transaction
from models.delivery.pacing import BULK_HORIZON, REPLY_AHEAD, SharedPace, prune_idle, take
from models.delivery.tables import Pace
from tests.conftest import PG_DSN, Database, require_service
from tests.waiting import until

RATE = 30.0
STEP = 1 / RATE


@pytest.fixture
async def pg(pg_database: str | None) -> AsyncIterator[Database]:
    """The shared pace is PostgreSQL's (SQLite is one process: see the fallback test at the end)."""
    require_service(pg_database is not None, f"PostgreSQL does not answer at {PG_DSN}")
    assert pg_database is not None
    engine = make_engine(pg_database)
    async with engine.begin() as conn:
        await conn.execute(delete(Pace))
    try:
        yield Database("postgres", pg_database, engine, make_session_factory(engine))
    finally:
        await engine.dispose()


async def book(db: Database, chat: str, now: float, *, horizon: float | None = None, burst: int = 1) -> float:
    async with db.engine.connect() as conn:
        wait = await take(conn, "telegram", chat, now, STEP, 1.0, burst, horizon)
        await conn.commit()
    return wait


async def test_a_busy_chat_holds_no_slot_of_the_others(pg: Database) -> None:
    assert await book(pg, "A", 100.0) == 0.0
    assert await book(pg, "A", 100.0) == pytest.approx(-1.0)  # A waits a second, booking nothing
    assert await book(pg, "B", 100.0) == pytest.approx(STEP)  # B takes the very next overall slot
    assert await book(pg, "C", 100.0) == pytest.approx(2 * STEP)
    assert await book(pg, "A", 101.0) == pytest.approx(0.0)  # A's second is free again: the calendar is behind
    # a burst of three (a reply of a few messages), then one a second
    assert [await book(pg, "D", 200.0, burst=3) for _ in range(4)][:3] == pytest.approx([0, STEP, 2 * STEP])
    assert await book(pg, "D", 200.0, burst=3) < -0.9


async def test_overall_slots_are_one_interval_apart_whoever_books(pg: Database) -> None:
    waits = [await book(pg, f"chat{i}", 300.0) for i in range(60)]
    assert waits == pytest.approx([i * STEP for i in range(60)])  # 30 a second, two seconds booked ahead


async def test_replies_go_ahead_of_broadcasts(pg: Database) -> None:
    # a province-wide run books only while the calendar is less than the horizon ahead
    bulk = [await book(pg, f"head{i}", 400.0, horizon=BULK_HORIZON) for i in range(40)]
    booked = [w for w in bulk if w >= 0]
    assert 0 < len(booked) <= BULK_HORIZON * RATE + 1 and all(w < 0 for w in bulk[len(booked):])
    # a receipt to a person is booked right after them, not after 40 broadcasts
    reply = await book(pg, "person", 400.0)
    assert 0 <= reply <= BULK_HORIZON + STEP
    # replies may fill the calendar far ahead; broadcasts then wait until it comes back within the horizon
    for i in range(30):
        assert await book(pg, f"asker{i}", 400.0) >= 0
    refused = await book(pg, "head99", 400.0, horizon=BULK_HORIZON)
    assert refused < -0.5


async def test_a_retry_after_met_by_one_worker_holds_every_worker(pg: Database) -> None:
    other = make_engine(pg.url)  # a second worker: its own engine, its own pace object
    try:
        now = [500.0]
        slept: list[float] = []

        async def sleep(seconds: float) -> None:
            slept.append(seconds)
            now[0] += seconds

        one = SharedPace(pg.engine, "telegram", RATE, 1.0, clock=lambda: now[0], sleep=sleep)
        two = SharedPace(other, "telegram", RATE, 1.0, clock=lambda: now[0], sleep=sleep)
        await one.turn("42")
        await one.hold_off("42", 7.0)  # one met a 429 with retry_after 7
        now[0] += 1.5
        await two.turn("42")  # two waits it out, though it never met the 429
        assert now[0] >= 507.0 and slept  # 1.5 s later it still waited until 7 s after the 429
        # a retry_after for the whole bot (no chat) holds every chat
        await two.hold_off(None, 3.0)
        before = now[0]
        await one.turn("43")
        assert now[0] - before == pytest.approx(3.0, abs=0.01)
    finally:
        await other.dispose()


async def test_a_killed_worker_with_many_replies_waiting_holds_the_others_back_a_little_only(pg: Database) -> None:
    other = make_engine(pg.url)
    try:
        now = 700.0
        never = asyncio.Event()

        async def stuck(_seconds: float) -> None:  # every wait lasts until the worker is killed
            await never.wait()

        one = SharedPace(pg.engine, "telegram", RATE, 1.0, clock=lambda: now, sleep=stuck)
        waiting = [asyncio.create_task(one.turn(f"head{i}")) for i in range(300)]  # ten seconds' worth of replies
        ahead = int(REPLY_AHEAD * RATE)
        await until(lambda: one.bookings >= ahead, "the first replies booked")
        await asyncio.sleep(0.2)
        assert one.bookings == ahead  # the rest not booked while these are far from due
        for task in waiting:  # kill -9
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        two = SharedPace(other, "telegram", RATE, 1.0, clock=lambda: now)
        async with other.connect() as conn:
            wait = await take(conn, "telegram", "survivor", now, STEP, 1.0)
            await conn.commit()
        assert 0 < wait <= REPLY_AHEAD + STEP  # not the ten seconds the dead worker's queue would have taken
        assert two.bookings == 0
    finally:
        await other.dispose()


async def test_two_workers_booking_at_once_never_share_a_slot(pg: Database) -> None:
    other = make_engine(pg.url)
    try:
        async def worker(engine: AsyncEngine, n: int, name: str) -> list[float]:
            out = []
            for i in range(n):
                async with engine.connect() as conn:
                    out.append(await take(conn, "zalo", f"{name}{i}", 600.0, STEP, 1.0))
                    await conn.commit()
            return out

        a, b = await asyncio.gather(worker(pg.engine, 25, "a"), worker(other, 25, "b"))
        slots = sorted(round(w / STEP) for w in a + b)
        assert slots == list(range(50))  # one calendar: 50 distinct slots, 30 a second in all
    finally:
        await other.dispose()


async def test_sqlite_keeps_the_in_memory_pace_postgres_shares_it(db: Database, tmp_path: Path) -> None:
    config = Config.model_validate({"database": {"url": db.url}, "reminders": {"election_date": "2025-01-05"},
                                    "scheduler": {"files_dir": str(tmp_path / "outbox")},
                                    "telegram": {"token": "123:abc"}})
    sched = make_scheduler(config, db.sessions, {}, engine=db.engine)
    limiter = sched.deliver.limiter  # type: ignore[attr-defined]
    shared = shared_telegram_limiter(config, db.engine)
    if db.kind == "sqlite":
        assert type(limiter) is RateLimiter and shared is None
    else:
        assert isinstance(limiter, SharedRateLimiter) and shared is not None
        await limiter.acquire("telegram:9")  # the outbox books in the shared calendar
        assert limiter.pace("telegram").bookings == 1


async def test_idle_chats_are_forgotten_the_calendar_stays(db: Database) -> None:
    async with transaction(db.sessions) as s:
        s.add_all([Pace(key="*telegram", next_at=10.0), Pace(key="telegram:old", next_at=50.0),
                   Pace(key="telegram:held", next_at=50.0, blocked_until=9_000.0),
                   Pace(key="telegram:recent", next_at=8_000.0)])
    async with transaction(db.sessions) as s:
        assert await prune_idle(s, now=10_000.0, keep=3600.0) == 1
    async with transaction(db.sessions) as s:
        keys = sorted((await s.execute(select(Pace.key))).scalars().all())
    assert keys == ["*telegram", "telegram:held", "telegram:recent"]
