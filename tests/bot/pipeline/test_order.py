"""One sender's updates keep their order across workers: a load balancer may hand a head's two quick
messages to two workers; the later one waits while the earlier one is still pending with the other
worker (alive, or dead and taken over), so the conversation takes them in the order they came."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from bot.pipeline.intake import Intake
from models.delivery import inbox
from tests.bot.pipeline.test_takeover import lease_for
from tests.conftest import Database
from tests.waiting import until

ALIVE = timedelta(minutes=5)


class Recorder:
    """Each worker's ``process``: notes the keys in the order they were processed (all workers in one
    list); a key in ``held`` waits until released."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.held: dict[str, asyncio.Event] = {}
        self.started: list[str] = []

    def hold(self, key: str) -> asyncio.Event:
        self.held[key] = asyncio.Event()
        return self.held[key]

    async def process(self, row: inbox.Pending) -> bool:
        self.started.append(row.key)
        if row.key in self.held:
            await self.held[row.key].wait()
        self.order.append(row.key)
        return True


@asynccontextmanager
async def first_message_in_hand(db: Database, **b_options: Any) -> AsyncIterator[tuple[Recorder, Intake, Intake]]:
    """Two live workers; the head's first message ``m1`` is delivered to a, whose step for it is slow
    (it waits until ``seen.held["m1"]`` is set)."""
    await lease_for(db, "a", ALIVE)
    await lease_for(db, "b", ALIVE)
    seen = Recorder()
    first = seen.hold("m1")
    a = Intake(db.sessions, "telegram", seen.process, owner="a")
    b = Intake(db.sessions, "telegram", seen.process, owner="b", **b_options)
    try:
        await a.recover()
        await b.recover()
        assert await a.accept([("m1", "head", {})]) == 1
        await until(lambda: seen.started == ["m1"], "a begins the first message")
        yield seen, a, b
    finally:
        first.set()
        await a.stop()
        await b.stop()


async def test_a_senders_later_update_waits_for_the_earlier_one_held_by_another_worker(db: Database) -> None:
    async with first_message_in_hand(db) as (seen, a, b):
        assert await b.accept([("m2", "head", {}), ("x1", "other", {})]) == 2  # the second, to b
        await until(lambda: "x1" in seen.order, "b goes on with another sender meanwhile")
        await asyncio.sleep(0.3)
        assert seen.order == ["x1"] and "m2" not in seen.started  # the head's second waits
        seen.held["m1"].set()
        await until(lambda: "m2" in seen.order, "b takes the second once the first is done")
        assert [k for k in seen.order if k.startswith("m")] == ["m1", "m2"]
        await a.idle()
        await b.idle()
        async with db.sessions() as s:
            assert await inbox.counts(s) == {"pending": 0, "done": 3}


async def test_an_earlier_update_of_a_dead_worker_is_taken_over_and_goes_first(db: Database) -> None:
    await lease_for(db, "b", ALIVE)
    await lease_for(db, "a", timedelta(seconds=1))  # a acknowledges the first message, then is killed
    seen = Recorder()
    a = Intake(db.sessions, "telegram", seen.process, owner="a")  # never processes: it is dead
    b = Intake(db.sessions, "telegram", seen.process, owner="b", takeover_every=0.2)
    try:
        await b.recover()
        assert await a.accept([("m1", "head", {})]) == 1
        a.stopping = True  # (killed: what it queued is never begun)
        assert await b.accept([("m2", "head", {})]) == 1
        await until(lambda: len(seen.order) == 2, "b processes both once a's lease has run out", 30.0)
        assert seen.order == ["m1", "m2"]
    finally:
        await b.stop()


async def test_a_later_update_goes_on_after_the_order_wait_when_the_earlier_one_never_ends(db: Database) -> None:
    async with first_message_in_hand(db, order_wait=0.5) as (seen, _a, b):
        await b.accept([("m2", "head", {})])
        await until(lambda: seen.order == ["m2"], "b gives up waiting and answers the second")


async def test_one_worker_alone_never_waits_on_its_own_rows(db: Database) -> None:
    await lease_for(db, "a", ALIVE)
    seen = Recorder()
    first = seen.hold("m1")
    a = Intake(db.sessions, "telegram", seen.process, owner="a")
    try:
        await a.recover()
        await a.accept([("m1", "head", {}), ("m2", "head", {})])
        await until(lambda: seen.started == ["m1"], "the first begins")
        first.set()
        await until(lambda: seen.order == ["m1", "m2"], "the second right after")
    finally:
        await a.stop()
