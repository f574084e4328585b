"""Outbox doubles: a stop in the middle of a drain finishes the send in hand and marks it, gives the
untried rows back; a database blip after a send does not leave the row to be sent again; replies
are drained before broadcasts."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.exc import OperationalError

from bot.delivery import DrainPolicy, RateLimiter, drain
from handlers.messages import Reply
from models.db import DbSession, transaction, write_retrying
from models.delivery import outbox
from tests.conftest import Database
from tests.models.delivery.test_outbox import NOW, _accounts, _enqueue, _rows
from tests.scheduler.fake_channel import FakeChannel
from tests.waiting import until


class GatedChannel(FakeChannel):
    """Holds each send until ``gate`` is set (a slow platform)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.begun = 0

    async def send(self, external_id: str, reply: Reply) -> None:
        self.begun += 1
        await self.gate.wait()
        await super().send(external_id, reply)


async def test_a_stop_mid_send_finishes_and_marks_it_and_releases_the_rest(db: Database) -> None:
    accounts = await _accounts(db, 3)
    for i, acc in enumerate(accounts):
        await _enqueue(db, f"k{i}", acc)
    fake = GatedChannel()
    policy = DrainPolicy(concurrency=1)  # one row in hand, two waiting their turn
    task = asyncio.create_task(drain(db.sessions, {"telegram": fake}, RateLimiter(1e6, 0), policy, lambda: NOW))
    await until(lambda: fake.begun == 1, "the first send began")
    task.cancel()  # SIGTERM: the scheduler stops the drain
    await asyncio.sleep(0)
    assert not task.done()  # it waits for the send in hand
    fake.gate.set()
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()
    rows = await _rows(db)
    assert len(fake.sent) == 1
    sent = [k for k, r in rows.items() if r.status == outbox.SENT]
    assert len(sent) == 1 and fake.sent[0][1].text == f"text {sent[0]}"
    waiting = [r for r in rows.values() if r.status != outbox.SENT]
    assert [(r.status, r.locked_until, r.attempts) for r in waiting] == [(outbox.PENDING, None, 0)] * 2
    again = await drain(db.sessions, {"telegram": fake}, RateLimiter(1e6, 0), clock=lambda: NOW)
    assert again.sent == 2 and sorted(r.text for _, r in fake.sent) == ["text k0", "text k1", "text k2"]


async def test_marking_sent_is_retried_over_a_database_blip(db: Database) -> None:
    (acc,) = await _accounts(db, 1)
    await _enqueue(db, "k", acc)
    async with transaction(db.sessions) as s:
        (row,) = await outbox.claim_due(s, NOW, channels=["telegram"])
    tries = 0

    async def mark(session: DbSession) -> bool:
        nonlocal tries
        tries += 1
        if tries < 3:
            raise OperationalError("UPDATE outbox_message", {}, ConnectionResetError("connection lost"))
        return await outbox.mark_sent(session, row, NOW)

    assert await write_retrying(db.sessions, mark, first_delay=0.01) is True
    assert tries == 3 and (await _rows(db))["k"].status == outbox.SENT


async def test_a_bug_is_not_retried(db: Database) -> None:
    calls = 0

    async def broken(_: object) -> None:
        nonlocal calls
        calls += 1
        raise ValueError("a bug")

    try:
        await write_retrying(db.sessions, broken, first_delay=0.01)
    except ValueError:
        pass
    assert calls == 1


async def test_replies_are_drained_before_broadcasts(db: Database) -> None:
    a, b = await _accounts(db, 2)
    for i in range(3):
        await _enqueue(db, f"digest{i}", a)
    async with transaction(db.sessions) as s:
        row = await outbox.enqueue_reply(s, key="reply:telegram:m1:0", account_id=b, channel="telegram",
                                         external_id="u1", text="biên nhận", payload=None,
                                         now=NOW - timedelta(seconds=1), lease=timedelta(seconds=0))
    async with transaction(db.sessions) as s:
        claimed = await outbox.claim_due(s, NOW + timedelta(seconds=1), channels=["telegram"], limit=1)
    assert [c.key for c in claimed] == [row.key]  # the crashed process's reply first
