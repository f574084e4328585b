"""What one conversation step through the Telegram channel costs the database: the SQL
statements and transactions of a lone step are counted and held at or below today's numbers, so
that a change that adds a round trip to every message shows up here. The guarantees the cuts keep
(the inbox row marked done once, in the step's own transaction; the reply's outbox row marked sent)
are checked alongside."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from models.delivery import inbox
from models.delivery.outbox import SENT
from models.delivery.tables import OutboxMessage
from models.driver import watching
from tests.bot.channels.test_telegram import Bot, User
from tests.bot.channels.test_telegram import fake as fake  # the fixtures, shared
from tests.bot.channels.test_telegram import make_bot as make_bot
from tests.conftest import Database
from tests.fakes.telegram_api import FakeTelegram
from tests.handlers.chat import invite, make_province
from texts.catalog import t


@dataclass
class Counted:
    statements: list[str] = field(default_factory=list)
    commits: int = 0

    def of(self, word: str) -> int:
        return sum(1 for s in self.statements if word in s)


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[Counted]:
    counted = Counted()

    def statement(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        counted.statements.append(" ".join(sql.split())[:80])

    def commit(_conn: Any) -> None:
        counted.commits += 1

    sync = engine.sync_engine
    event.listen(sync, "before_cursor_execute", statement)
    event.listen(sync, "commit", commit)
    try:
        with watching(lambda sql: statement(None, None, sql)):  # and those run through the driver
            yield counted
    finally:
        event.remove(sync, "before_cursor_execute", statement)
        event.remove(sync, "commit", commit)


# a typed answer in the middle of the election report: the statements today (PostgreSQL: the shared
# pace's booking of the reply besides). Before the batching: 9 and 11 (the inbox id read back after its
# INSERT, the intake's second mark of the row; on PostgreSQL the dedupe row and the inbox mark are now
# one statement, and the conversation state is read under its row lock with the account).
STEP_STATEMENTS = {"sqlite": 7, "postgres": 7}
STEP_TRANSACTIONS = 3  # the update written down, the step, the reply marked sent (before: 4)


async def test_a_step_costs_at_most_the_round_trips_of_today(db: Database, fake: FakeTelegram,
                                                             make_bot: Callable[..., Awaitable[Bot]]) -> None:
    bot = await make_bot(db.url)
    province = await make_province(bot.app.sessions)
    head = User(bot)
    code = await invite(bot.app.sessions, province.villages[0])
    assert t("bind.ok_head", village="Thôn 1") in await head.say(f"/start {code}")
    await head.say("/baucu")
    await head.say("15/12/2024")
    with counting(bot.app.engine) as counted:
        reply = await head.say("Nguyễn Văn An")
        await bot.channel.intake.idle()  # type: ignore[union-attr]  # whatever the intake does after the step
    assert reply
    assert len(counted.statements) <= STEP_STATEMENTS[db.kind], counted.statements
    assert counted.commits <= STEP_TRANSACTIONS, counted.statements
    # one mark of the inbox row (in the step; on PostgreSQL with the dedupe row), one INSERT of the
    # reply, one UPDATE marking it sent
    assert counted.of("UPDATE inbox_message") + counted.of("WITH fresh AS") == 1
    assert counted.of("INSERT INTO outbox_message") == 1
    assert counted.of("UPDATE outbox_message") == 1
    async with bot.app.sessions() as s:
        assert (await inbox.counts(s))["pending"] == 0
        statuses = (await s.execute(select(OutboxMessage.status))).scalars().all()
    assert statuses and set(statuses) == {SENT}
