"""The engine's durable path: replies are outbox rows written with the step, the inbox row is marked
in the same transaction, a redelivery re-sends what is unsent, and a new user's first two messages
handled at once (two workers) are both answered."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import asyncpg
import pytest
from sqlalchemy import func, select, text

from handlers.engine import Engine
from handlers.messages import Incoming
from models.accounts.tables import ChannelAccount
from models.db import transaction
from models.delivery import inbox, outbox
from models.delivery.tables import OutboxMessage, ProcessedMessage
from tests.conftest import PG_DSN, Database
from tests.handlers.chat import NOW, Province, invite, make_engine
from texts.catalog import t


def message(text: str, message_id: str, account: str = "9001") -> Incoming:
    return Incoming(channel="zalo", account_id=account, text=text, message_id=message_id)


async def test_replies_are_claimed_rows_and_the_inbox_row_is_done(db: Database, engine: Engine) -> None:
    async with transaction(db.sessions) as s:
        await inbox.record(s, "zalo", "m1", "9001", {"x": 1}, NOW)
    sent = await engine.step_durable(message("xin chào", "m1"), NOW)
    assert [s.reply.text for s in sent] == [t("bind.how_to")]
    row = sent[0].row
    assert row is not None and row.key == "reply:zalo:m1:0" and row.kind == outbox.REPLY
    async with db.sessions() as s:
        assert await inbox.is_done(s, "zalo", "m1") is True
        stored = (await s.execute(select(OutboxMessage))).scalar_one()
    assert (stored.status, stored.locked_until) == (outbox.SENDING, NOW + engine.settings.reply_lease)


async def test_a_redelivery_resends_the_unsent_replies_once(db: Database, engine: Engine, province: Province) -> None:
    code = await invite(db.sessions, province.villages[0])
    first = await engine.step_durable(message(f"/start {code}", "m7"), NOW)
    assert first and all(s.row is not None for s in first)
    # the process died before sending: while the lease runs, a redelivery leaves the rows to their owner
    assert await engine.step_durable(message(f"/start {code}", "m7"), NOW + timedelta(seconds=1)) == []
    later = NOW + engine.settings.reply_lease + timedelta(seconds=1)
    again = await engine.step_durable(message(f"/start {code}", "m7"), later)
    assert [s.reply for s in again] == [s.reply for s in first]  # the same replies (choices too), not silence
    async with transaction(db.sessions) as s:
        for item in again:
            assert item.row is not None and await outbox.mark_sent(s, item.row, later)
    assert await engine.step_durable(message(f"/start {code}", "m7"), later + timedelta(hours=1)) == []
    async with db.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(ProcessedMessage))).scalar_one() == 1


async def test_a_new_users_concurrent_first_messages_are_both_handled(db: Database) -> None:
    workers = [make_engine(db.sessions), make_engine(db.sessions)]  # two processes' engines
    for round_ in range(5):
        account = f"77{round_}"
        results = await asyncio.gather(*(w.step_durable(message("xin chào", f"m{round_}-{i}", account), NOW)
                                         for i, w in enumerate(workers)))
        assert [[s.reply.text for s in r] for r in results] == [[t("bind.how_to")]] * 2
        assert all(s.row is not None for r in results for s in r)  # both saved, nothing "busy"
    async with db.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(ChannelAccount))).scalar_one() == 5
        assert (await s.execute(select(func.count()).select_from(ProcessedMessage))).scalar_one() == 10


async def test_a_step_whose_connection_was_lost_runs_again_on_a_live_one(pg_db: Database,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    """A server restart while the connection was busy (too recently used to be tried at checkout): the
    step's first statement fails, the connection is dropped, and the step runs again at once on a new
    one; the head is answered, not told to wait."""
    engine = make_engine(pg_db.sessions)
    assert [s.reply.text for s in await engine.step_durable(message("xin chào", "m1"), NOW)] == [t("bind.how_to")]
    async with pg_db.sessions() as s:
        pid = (await s.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    admin = await asyncpg.connect(PG_DSN)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    await asyncio.sleep(0.5)  # (the server's goodbye reaches the pooled connection)
    with caplog.at_level(logging.INFO, logger="handlers.engine"):
        sent = await engine.step_durable(message("chào lần nữa", "m2"), NOW + timedelta(seconds=1))
    assert [s.reply.text for s in sent] == [t("bind.how_to")]
    assert "a database connection was lost while handling zalo/m2; trying again" in caplog.messages
    async with pg_db.sessions() as s:
        assert (await s.execute(text("SELECT pg_backend_pid()"))).scalar_one() != pid
        assert await inbox.is_done(s, "zalo", "m2") is None  # (no inbox row here) and the step saved once:
        assert (await s.execute(select(func.count()).select_from(ProcessedMessage))).scalar_one() == 2
