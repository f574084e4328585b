"""The step's hot statements through the driver (models/driver.py), on both databases: they belong to
the session's transaction (commit and roll back with what the ORM wrote, whichever comes first), their
values read back through SQLAlchemy as SQLAlchemy wrote them, and their errors arrive as SQLAlchemy's
(a unique key taken is an IntegrityError, so the step's retry after a collision still works)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

import models.db
from models.accounts.people import new_account
from models.db import transaction, transient
from models.delivery import inbox, outbox
from models.delivery.tables import InboxMessage, OutboxMessage, ProcessedMessage
from models.dialog.state import save_state
from models.dialog.tables import ConversationState
from models.driver import driver, numbered
from tests.conftest import PG_DSN, Database

NOW = datetime(2026, 12, 8, 1, 2, 3, 456789, tzinfo=UTC)
ROUND = datetime(2026, 12, 8, 1, 2, 3, tzinfo=UTC)  # no microseconds: a format that drops them would show


async def test_statements_of_the_driver_commit_and_roll_back_with_the_orm(db: Database) -> None:
    async with transaction(db.sessions) as s:  # the driver's statement first, then the ORM's
        await inbox.record_many(s, "telegram", [("m1:1", "1", {"n": 1})], NOW)
        s.add(ProcessedMessage(channel="web", message_id="x", at=NOW))
    with pytest.raises(RuntimeError):
        async with transaction(db.sessions) as s:
            await inbox.record_many(s, "telegram", [("m1:2", "1", {"n": 2})], NOW)
            s.add(ProcessedMessage(channel="web", message_id="y", at=NOW))
            await s.flush()
            raise RuntimeError("the step failed")
    with pytest.raises(RuntimeError):
        async with transaction(db.sessions) as s:  # the ORM first, then the driver
            s.add(ProcessedMessage(channel="web", message_id="z", at=NOW))
            await s.flush()
            assert await inbox.first_time(s, "telegram", "m1:1", NOW)
            raise RuntimeError("the step failed")
    async with db.sessions() as s:
        keys = (await s.execute(select(InboxMessage.key, InboxMessage.done_at))).all()
        assert [tuple(k) for k in keys] == [("m1:1", None)]  # not marked: that transaction rolled back
        assert (await s.execute(select(ProcessedMessage.message_id))).scalars().all() == ["x"]


async def test_values_written_by_the_driver_read_back_through_sqlalchemy(db: Database) -> None:
    async with transaction(db.sessions) as s:
        account_id = await _account(s)
        row = await outbox.enqueue_reply(s, key="reply:telegram:m1:1:0", account_id=account_id, channel="telegram",
                                         external_id="1", text="Xin chào", payload='{"c": 1}', now=ROUND,
                                         lease=timedelta(seconds=60), owner="w1")
        await save_state(s, None, key="account:1", flow="election", step="date", data={"tên": "An", "n": [1, 2]},
                         wrong=0, now=NOW, expires_at=NOW + timedelta(hours=1))
    async with db.sessions() as s:
        stored = (await s.execute(select(OutboxMessage))).scalar_one()
        state = (await s.execute(select(ConversationState))).scalar_one()
    assert (stored.id, stored.status, stored.attempts, stored.owner) == (row.id, "sending", 0, "w1")
    assert stored.created_at == ROUND and stored.locked_until == ROUND + timedelta(seconds=60)
    assert state.data == {"tên": "An", "n": [1, 2]}
    assert state.expires_at == NOW + timedelta(hours=1)
    async with transaction(db.sessions) as s:  # the lease as the driver wrote it matches the claim's
        assert await outbox.mark_sent_many(s, [row], NOW) == {row.id}
    async with transaction(db.sessions) as s:
        assert await outbox.mark_sent_many(s, [row], NOW) == set()  # marked once


async def test_a_unique_key_taken_is_an_integrity_error(db: Database) -> None:
    async with transaction(db.sessions) as s:
        await save_state(s, None, key="person:7", flow="election", step="date", data={}, wrong=0, now=NOW,
                         expires_at=NOW)
    with pytest.raises(IntegrityError):
        async with transaction(db.sessions) as s:  # a second worker's first message of the same person
            await save_state(s, None, key="person:7", flow="congress", step="menu", data={}, wrong=0, now=NOW,
                             expires_at=NOW)
    async with db.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(ConversationState))).scalar_one() == 1


async def test_a_lost_postgres_connection_is_a_transient_error_with_the_connection_invalidated(
        pg_db: Database) -> None:
    db = pg_db
    with pytest.raises(DBAPIError) as lost:
        async with transaction(db.sessions) as s:
            pid = (await s.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            await _terminate(pid)
            await asyncio.sleep(0.5)  # (the server's goodbye reaches the connection)
            await inbox.mark_done(s, "telegram", "m1:1", NOW)
    assert lost.value.connection_invalidated and transient(lost.value)
    async with db.sessions() as s:  # the pool gives a live connection next
        assert (await s.execute(text("SELECT 1"))).scalar_one() == 1


async def test_a_connection_that_rested_is_tried_before_use(pg_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    db = pg_db
    async with db.sessions() as s:
        pid = (await s.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    await _terminate(pid)  # as a server restart would, while the connection rested in the pool
    monkeypatch.setattr(models.db, "IDLE_PING", 0.0)
    async with db.sessions() as s:  # pinged at checkout, found dead, replaced: no error
        assert (await s.execute(text("SELECT pg_backend_pid()"))).scalar_one() != pid


def test_placeholders_are_numbered_for_asyncpg() -> None:
    assert numbered("UPDATE t SET a = ?, b = ? WHERE id = ?") == "UPDATE t SET a = $1, b = $2 WHERE id = $3"


async def test_the_driver_is_fetched_once_per_transaction(db: Database) -> None:
    async with transaction(db.sessions) as s:
        first = await driver(s)
        assert await driver(s) is first
    async with transaction(db.sessions) as s:
        assert await driver(s) is not first


async def _account(s: AsyncSession) -> int:
    account = await new_account(s, "telegram", "1", NOW)
    assert account.id is not None
    return account.id


async def _terminate(pid: int) -> None:
    admin = await asyncpg.connect(PG_DSN)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
