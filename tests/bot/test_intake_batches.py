"""Intake in batches: a batch of updates is written down in one statement (the inbox's
guarantees unchanged: every new update gets its row, a redelivery and a key twice in a batch get none
and are not queued twice); a polled update is stored as Telegram sent it (not parsed and turned back
into JSON), and a row recovered after a restart still parses."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.pipeline.intake import Intake
from models.db import transaction
from models.delivery import inbox
from models.delivery.tables import InboxMessage
from models.driver import watching
from tests.bot.channels.test_telegram import Bot, User
from tests.bot.channels.test_telegram import fake as fake  # the fixtures, shared
from tests.bot.channels.test_telegram import make_bot as make_bot
from tests.conftest import Database
from tests.fakes.telegram_api import FakeTelegram
from tests.handlers.chat import NOW


async def test_a_batch_of_updates_is_written_in_one_statement(db: Database) -> None:
    async with transaction(db.sessions) as s:
        assert await inbox.record(s, "telegram", "m1:0", "1", {"n": 0}, NOW) is not None  # there before
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        statements.append(sql)

    items = [(f"m1:{i}", "1", {"n": i}) for i in range(12)] + [("m2:5", "2", {"twice": 1}), ("m2:5", "2", {"twice": 2})]
    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        with watching(statements.append):  # the statements run through the driver
            async with transaction(db.sessions) as s:
                fresh = await inbox.record_many(s, "telegram", items, NOW)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert len(statements) == 1, statements
    assert sorted(fresh) == sorted([f"m1:{i}" for i in range(1, 12)] + ["m2:5"])  # not the one there before
    assert fresh["m2:5"].payload == {"twice": 1}  # the first of a key twice in the batch
    async with db.sessions() as s:
        stored = {r.key: r for r in (await s.execute(select(InboxMessage))).scalars().all()}
    assert len(stored) == 13
    assert all(fresh[k].id == stored[k].id and fresh[k].account == stored[k].account for k in fresh)
    assert stored["m1:0"].payload == '{"n":0}'  # a redelivery does not overwrite


async def test_the_intake_queues_each_new_update_of_a_batch_once(db: Database) -> None:
    seen: list[str] = []

    async def process(row: inbox.Pending) -> bool:
        seen.append(row.key)
        return True

    intake = Intake(db.sessions, "telegram", process)
    await intake.recover()
    assert await intake.accept([("m1:1", "1", {}), ("m1:2", "1", {}), ("m1:1", "1", {})]) == 2
    await intake.idle()
    assert seen == ["m1:1", "m1:2"]
    assert await intake.accept([("m1:2", "1", {})]) == 1  # a redelivery of a handled one: run for unsent replies
    await intake.idle()
    await intake.stop()
    async with db.sessions() as s:
        assert (await inbox.counts(s)) == {"pending": 0, "done": 2}


async def test_a_polled_update_is_stored_as_telegram_sent_it(db: Database, fake: FakeTelegram,
                                                              make_bot: Callable[..., Awaitable[Bot]],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from telegram import Update

    to_dict = Update.to_dict
    turned_back: list[int] = []

    def counted(self: Update, recursive: bool = True) -> dict[str, Any]:
        turned_back.append(self.update_id)
        return to_dict(self, recursive)

    monkeypatch.setattr(Update, "to_dict", counted)
    bot = await make_bot(db.url)
    head = User(bot)
    sent = fake.user_message(head.id, "xin chào")
    assert await head._send(sent)  # answered
    async with db.sessions() as s:
        (payload,) = (await s.execute(select(InboxMessage.payload))).scalars().all()
    assert json.loads(payload) == sent  # exactly what getUpdates returned,
    assert sent["update_id"] not in turned_back  # not PTB's to_dict of the parsed update
    # a stored row still parses to the same update (a row recovered after a restart goes through de_json)
    channel = bot.channel
    again = Update.de_json(json.loads(payload), channel.application.bot)
    assert again.message is not None and again.message.text == "xin chào" and again.update_id == sent["update_id"]


async def test_the_connection_is_fetched_once_per_transaction(db: Database) -> None:
    from models.db import connection

    async with db.sessions() as s:
        async with s.begin():
            first = await connection(s)
            assert await connection(s) is first  # the same transaction: not fetched again
            assert first is await s.connection()
        async with s.begin():  # a new transaction of the same session: its own connection
            second = await connection(s)
            assert second is await s.connection()
            assert second.in_transaction()
        await s.rollback()
        third = await connection(s)  # after a rollback: the new transaction's, not the ended one's
        assert third is await s.connection() and third.in_transaction()
