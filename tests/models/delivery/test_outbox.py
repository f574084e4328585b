"""The outbox: idempotent enqueue, claims safe across processes, retries, dead letters, blocked
accounts — on SQLite and PostgreSQL, with a fake channel and injected time."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.delivery import DrainPolicy, RateLimiter, drain
from bot.pipeline.errors import SendBlocked, SendError, SendRejected, SendRetryLater
from handlers.messages import Reply
from models.accounts.tables import ChannelAccount
from models.db import make_engine, make_session_factory, transaction
from models.delivery import outbox
from models.delivery.tables import OutboxMessage
from tests.conftest import Database
from tests.scheduler.fake_channel import FakeChannel

NOW = datetime(2025, 1, 6, 2, 0, tzinfo=UTC)


def fast() -> RateLimiter:
    return RateLimiter(1e6, 0.0)


async def _accounts(db: Database, n: int, channel: str = "telegram") -> list[int]:
    async with transaction(db.sessions) as s:
        accs = [ChannelAccount(channel=channel, external_id=f"u{i}", created_at=NOW) for i in range(n)]
        s.add_all(accs)
        await s.flush()
        return [a.id for a in accs]  # type: ignore[misc]


async def _enqueue(db: Database, key: str, account_id: int, **kw: object) -> bool:
    async with transaction(db.sessions) as s:
        return await outbox.enqueue(s, key=key, kind="reminder", account_id=account_id, text=f"text {key}",
                                    now=NOW, **kw)  # type: ignore[arg-type]


async def _rows(db: Database) -> dict[str, OutboxMessage]:
    async with db.sessions() as s:
        return {r.key: r for r in (await s.execute(select(OutboxMessage))).scalars().all()}


async def test_enqueue_is_idempotent_and_drain_sends_once(db: Database) -> None:
    (acc,) = await _accounts(db, 1)
    assert await _enqueue(db, "k1", acc) is True
    assert await _enqueue(db, "k1", acc) is False
    fake = FakeChannel()
    stats = await drain(db.sessions, {"telegram": fake}, fast(), clock=lambda: NOW)
    assert stats.sent == 1 and fake.texts("u0") == ["text k1"]
    again = await drain(db.sessions, {"telegram": fake}, fast(), clock=lambda: NOW + timedelta(hours=1))
    assert again.sent == 0 and len(fake.sent) == 1
    row = (await _rows(db))["k1"]
    assert row.status == "sent" and row.attempts == 1 and row.sent_at == NOW


class FirstSlow(FakeChannel):
    """The first message to ``u0`` takes a while on its way (a slow network, a retry)."""

    async def send(self, external_id: str, reply: Reply) -> None:
        if reply.text == "text first":
            await asyncio.sleep(0.3)
        await super().send(external_id, reply)


async def test_one_persons_messages_go_in_the_order_queued_others_meanwhile(db: Database) -> None:
    one, other = await _accounts(db, 2)
    for key, account in (("first", one), ("second", one), ("third", one), ("elsewhere", other)):
        assert await _enqueue(db, key, account)
    fake = FirstSlow()
    stats = await drain(db.sessions, {"telegram": fake}, fast(), clock=lambda: NOW)
    assert stats.sent == 4
    assert fake.texts("u0") == ["text first", "text second", "text third"]  # not overtaken by the later ones
    assert fake.sent[0][0] == "u1"  # another person's went while the first was on its way


async def test_rate_limited_is_retried_later_not_lost(db: Database) -> None:
    (acc,) = await _accounts(db, 1)
    await _enqueue(db, "k", acc)
    fake = FakeChannel()
    fake.failures["u0"] = [SendRetryLater(30), SendRetryLater(30), SendRetryLater(30), SendRetryLater(30)]
    policy = DrainPolicy(max_attempts=2)
    for minutes in (0, 1, 2, 3):  # four 429s in a row: more than max_attempts, still not dead
        now = NOW + timedelta(minutes=minutes)
        stats = await drain(db.sessions, {"telegram": fake}, fast(), policy, clock=lambda now=now: now)
        assert stats.retried == 1
        row = (await _rows(db))["k"]
        assert row.status == "pending" and row.next_attempt_at == now + timedelta(seconds=30)
    early = await drain(db.sessions, {"telegram": fake}, fast(), policy, clock=lambda: NOW + timedelta(seconds=200))
    assert early.sent == 0  # not due before retry_after
    later = await drain(db.sessions, {"telegram": fake}, fast(), policy, clock=lambda: NOW + timedelta(minutes=4))
    assert later.sent == 1 and fake.texts("u0") == ["text k"]


async def test_dead_letter_after_max_attempts_with_backoff(db: Database) -> None:
    (acc,) = await _accounts(db, 1)
    await _enqueue(db, "k", acc)
    fake = FakeChannel()
    fake.always["u0"] = SendError("502 bad gateway")
    policy = DrainPolicy(max_attempts=3, backoff_base=timedelta(seconds=10))
    now = NOW
    delays = []
    for _ in range(3):
        await drain(db.sessions, {"telegram": fake}, fast(), policy, clock=lambda now=now: now)
        row = (await _rows(db))["k"]
        if row.status == "dead":
            break
        delays.append(row.next_attempt_at - now)
        now = row.next_attempt_at
    assert delays == [timedelta(seconds=10), timedelta(seconds=20)]
    row = (await _rows(db))["k"]
    assert row.status == "dead" and row.attempts == 3 and "502" in (row.last_error or "")
    later = await drain(db.sessions, {"telegram": fake}, fast(), policy, clock=lambda: now + timedelta(days=1))
    assert later.dead == 0 and later.retried == 0


async def test_blocked_account_is_marked_and_skipped(db: Database) -> None:
    a, b = await _accounts(db, 2)
    await _enqueue(db, "a1", a)
    await _enqueue(db, "b1", b)
    fake = FakeChannel()
    fake.failures["u0"] = [SendBlocked("Forbidden: bot was blocked by the user")]
    stats = await drain(db.sessions, {"telegram": fake}, fast(), clock=lambda: NOW)
    assert stats.skipped == 1 and stats.sent == 1
    await _enqueue(db, "a2", a)  # a later message to the blocked account is not even tried
    fake.failures["u0"] = []
    stats = await drain(db.sessions, {"telegram": fake}, fast(), clock=lambda: NOW)
    assert stats.skipped == 1 and fake.texts("u0") == []
    rows = await _rows(db)
    assert rows["a1"].status == rows["a2"].status == "skipped" and rows["b1"].status == "sent"
    async with db.sessions() as s:
        assert (await s.get(ChannelAccount, a)).blocked is True  # type: ignore[union-attr]


async def test_rejected_is_dead_at_once_and_other_channels_wait(db: Database) -> None:
    (t,) = await _accounts(db, 1)
    (z,) = await _accounts(db, 1, channel="zalo")
    await _enqueue(db, "t", t)
    await _enqueue(db, "z", z)
    fake = FakeChannel()
    fake.failures["u0"] = [SendRejected("message is too long")]
    await drain(db.sessions, {"telegram": fake}, fast(), clock=lambda: NOW)
    rows = await _rows(db)
    assert rows["t"].status == "dead" and rows["z"].status == "pending"  # no zalo channel: left for later


async def test_crashed_worker_lease_expires(db: Database) -> None:
    (acc,) = await _accounts(db, 1)
    await _enqueue(db, "k", acc)
    async with transaction(db.sessions) as s:  # a worker claims, then dies before sending
        claimed = await outbox.claim_due(s, NOW, channels=["telegram"], lease=timedelta(minutes=5))
    assert [c.key for c in claimed] == ["k"]
    fake = FakeChannel()
    assert (await drain(db.sessions, {"telegram": fake}, fast(), clock=lambda: NOW + timedelta(minutes=1))).sent == 0
    later = await drain(db.sessions, {"telegram": fake}, fast(), clock=lambda: NOW + timedelta(minutes=6))
    assert later.sent == 1
    async with transaction(db.sessions) as s:  # the dead worker's late report changes nothing
        assert await outbox.mark_sent(s, claimed[0], NOW) is False


async def test_held_kinds_wait(db: Database) -> None:
    (acc,) = await _accounts(db, 1)
    await _enqueue(db, "r", acc)
    fake = FakeChannel()
    quiet = DrainPolicy(hold_kinds=("reminder",))
    assert (await drain(db.sessions, {"telegram": fake}, fast(), quiet, clock=lambda: NOW)).sent == 0
    assert (await drain(db.sessions, {"telegram": fake}, fast(), clock=lambda: NOW)).sent == 1


async def test_attachment_is_read_from_disk(db: Database, tmp_path: Path) -> None:
    (acc,) = await _accounts(db, 1)
    path = tmp_path / "tien-do.xlsx"
    path.write_bytes(b"PK\x03\x04data")
    await _enqueue(db, "f", acc, attachment_path=str(path))
    fake = FakeChannel()
    await drain(db.sessions, {"telegram": fake}, fast(), clock=lambda: NOW)
    att = fake.sent[0][1].attachment
    assert att is not None and att.filename == "tien-do.xlsx" and att.content == b"PK\x03\x04data"
    assert att.mime_type.endswith("spreadsheetml.sheet")


async def test_two_drains_at_once_send_each_key_once(db: Database) -> None:
    """Two worker processes (two engines, two rate limiters) draining one database at the same time."""
    accounts = await _accounts(db, 40)
    async with transaction(db.sessions) as s:
        for i in range(400):
            await outbox.enqueue(s, key=f"k{i}", kind="digest", account_id=accounts[i % 40], text=f"m{i}", now=NOW)
    second = make_engine(db.url)
    try:
        other = make_session_factory(second)
        fakes = [FakeChannel(delay=0.001), FakeChannel(delay=0.001)]
        policy = DrainPolicy(batch=25)
        results = await asyncio.gather(
            drain(db.sessions, {"telegram": fakes[0]}, fast(), policy, clock=lambda: NOW),
            drain(other, {"telegram": fakes[1]}, fast(), policy, clock=lambda: NOW))
    finally:
        await second.dispose()
    sent = Counter(r.text for f in fakes for _, r in f.sent)
    assert len(sent) == 400 and set(sent.values()) == {1}
    assert sum(r.sent for r in results) == 400
    assert all(r.sent > 0 for r in results), "both workers should have taken a share"
    rows = await _rows(db)
    assert {rows[f"k{i}"].status for i in range(400)} == {"sent"}


async def test_rate_limiter_slots() -> None:
    clock = [100.0]
    lim = RateLimiter(per_second=10, per_chat_seconds=1.0, clock=lambda: clock[0])
    waits = [lim.reserve("a"), lim.reserve("b"), lim.reserve("a"), lim.reserve("c")]
    assert waits == pytest.approx([0.0, 0.1, 1.0, 0.2])  # "a" waits for its chat, "c" does not wait for "a"
    lim.penalise("b", 5)
    assert lim.reserve("b") == pytest.approx(5.0, abs=0.11)


async def _reply(db: Database, key: str, account_id: int, at: datetime) -> outbox.Claimed:
    """A step's reply row, claimed by the channel that will send it (as the engine writes it)."""
    async with transaction(db.sessions) as s:
        return await outbox.enqueue_reply(s, key=key, account_id=account_id, channel="telegram", external_id="u0",
                                          text=f"text {key}", payload=None, now=at, lease=timedelta(seconds=60))


async def test_a_reply_the_conversation_moved_past_is_dropped_not_sent_again(db: Database) -> None:
    """A process killed between a reply's send and its mark left the row claimed; the user went on
    (the next message was answered by another worker). When the lease expires the old reply (an old
    question) is not sent again; the newer one, and the replies of one step together, still go."""
    (acc,) = await _accounts(db, 1)
    await _reply(db, "reply:telegram:m1:0", acc, NOW)  # sent, never marked: its process died
    await _reply(db, "reply:telegram:m2:0", acc, NOW + timedelta(seconds=5))  # the user moved on
    await _reply(db, "reply:telegram:m2:1", acc, NOW + timedelta(seconds=5))  # (same step: not "newer")
    fake = FakeChannel()
    stats = await drain(db.sessions, {"telegram": fake}, fast(), clock=lambda: NOW + timedelta(minutes=2))
    assert stats.sent == 2 and [r.text for _, r in fake.sent] == ["text reply:telegram:m2:0",
                                                                     "text reply:telegram:m2:1"]
    rows = await _rows(db)
    assert rows["reply:telegram:m1:0"].status == outbox.SKIPPED
    assert rows["reply:telegram:m1:0"].last_error == outbox.SUPERSEDED
    async with transaction(db.sessions) as s:  # a redelivery of the old message claims nothing either
        assert await outbox.claim_replies(s, "reply:telegram:m1:", NOW + timedelta(minutes=3),
                                          timedelta(seconds=60)) == []


async def test_the_latest_reply_left_by_a_crash_is_still_sent(db: Database) -> None:
    (acc,) = await _accounts(db, 1)
    await _reply(db, "reply:telegram:m1:0", acc, NOW)
    async with transaction(db.sessions) as s:  # its redelivery claims it once the lease is over
        again = await outbox.claim_replies(s, "reply:telegram:m1:", NOW + timedelta(minutes=2),
                                           timedelta(seconds=60))
    assert [r.key for r in again] == ["reply:telegram:m1:0"]
