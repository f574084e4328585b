"""Batched statements keep their guarantees: the "sent" marks of many replies share one
transaction yet each caller returns only once its own mark is committed (an expired lease is still
refused); the shared pace books the replies of one moment in one statement, in distinct slots; the
intake spends no transaction on a row the step marked, and a message refused before any step (too
long) still has its inbox row marked done."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.pool import QueuePool
from sqlmodel import SQLModel

from bot.config import Config
from bot.pipeline.intake import MARKED, Intake
from bot.pipeline.settle import Settle
from handlers.messages import Incoming
from models.accounts.tables import ChannelAccount
from models.db import make_engine, make_session_factory, transaction
from models.delivery import inbox, outbox
from models.delivery.pacing import SharedPace
from models.delivery.tables import OutboxMessage, Pace
from tests.conftest import PG_DSN, Database, require_service
from tests.handlers.chat import NOW, invite, make_province
from tests.handlers.chat import make_engine as make_dialog
from texts.catalog import t


async def claimed_replies(db: Database, n: int) -> list[outbox.Claimed]:
    async with transaction(db.sessions) as s:
        account = ChannelAccount(channel="telegram", external_id="77", created_at=NOW)
        s.add(account)
        await s.flush()
        assert account.id is not None
        return [await outbox.enqueue_reply(s, key=f"reply:telegram:m{i}:0", account_id=account.id,
                                           channel="telegram", external_id="77", text=f"trả lời {i}", payload=None,
                                           now=NOW, lease=timedelta(minutes=5)) for i in range(n)]


async def test_sent_marks_are_written_together_each_caller_waits_for_its_own(db: Database) -> None:
    rows = await claimed_replies(db, 12)
    settle = Settle(db.sessions, clock=lambda: NOW + timedelta(seconds=1))
    stale = rows[-1]
    stale = outbox.Claimed(**{**{f: getattr(stale, f) for f in stale.__slots__}, "lease": NOW})  # not our claim
    results = await asyncio.gather(*(settle.sent(r) for r in [*rows[:-1], stale]))
    assert results == [True] * 11 + [False]
    assert settle.writes < len(rows)  # the marks that came together were written together
    async with db.sessions() as s:
        stored = {r.key: r for r in (await s.execute(select(OutboxMessage))).scalars().all()}
    assert all(stored[r.key].status == outbox.SENT and stored[r.key].attempts == 1 for r in rows[:-1])
    assert stored[stale.key].status == outbox.SENDING and stored[stale.key].attempts == 0  # left to its lease
    # once written, a mark alone goes at once (nothing waits for company)
    assert await settle.sent(rows[0]) is False  # already sent: not marked twice
    assert settle.writes >= 2


async def test_replies_booked_at_once_share_one_statement_and_never_a_slot(pg_database: str | None) -> None:
    require_service(pg_database is not None, f"PostgreSQL does not answer at {PG_DSN}")
    assert pg_database is not None
    engine = make_engine(pg_database)
    try:
        async with engine.begin() as conn:
            await conn.execute(delete(Pace))
        now = [1000.0]
        waits: list[float] = []

        async def sleep(seconds: float) -> None:
            waits.append(seconds)
            now[0] += seconds

        pace = SharedPace(engine, "telegram", 30.0, 1.0, clock=lambda: now[0], sleep=sleep)
        await asyncio.gather(*(pace.turn(f"chat{i}") for i in range(20)))  # (each sleeps its wait, after)
        assert pace.bookings == 20
        assert pace.round_trips <= 2  # one for the first, one for the 19 that came meanwhile
        assert sorted(round(w * 30) for w in waits) == list(range(1, 20))  # 20 distinct slots, 30 a second
        # a chat asked twice in one batch: the second waits for the chat's next second, as it would alone
        before = pace.round_trips
        waits.clear()
        await asyncio.gather(pace.turn("same"), pace.turn("same"))
        assert pace.round_trips - before <= 3 and pace.bookings == 22
        assert max(waits) >= 0.9
    finally:
        await engine.dispose()


async def test_the_intake_does_not_mark_a_row_the_step_marked(sqlite_db: Database) -> None:
    seen: list[str] = []

    async def process(row: inbox.Pending) -> bool | str:
        seen.append(row.key)
        return MARKED if row.key == "stepped" else True

    intake = Intake(sqlite_db.sessions, "telegram", process)
    await intake.recover()
    await intake.accept([("stepped", "u1", {}), ("other", "u2", {})])
    await intake.idle()
    assert sorted(seen) == ["other", "stepped"]
    async with sqlite_db.sessions() as s:
        # "stepped" said its step marked it (here it did not): the intake wrote nothing for it
        assert await inbox.is_done(s, "telegram", "stepped") is False
        assert await inbox.is_done(s, "telegram", "other") is True


async def test_a_message_refused_before_any_step_still_has_its_row_marked(db: Database) -> None:
    engine = make_dialog(db.sessions)
    text = "x" * (engine.settings.max_message_chars + 1)
    async with transaction(db.sessions) as s:
        await inbox.record(s, "telegram", "m9:1", "9", {}, NOW)
    sent = await engine.step_durable(Incoming("telegram", "9", text=text, message_id="m9:1"), NOW)
    assert [s.reply.text for s in sent] == [t("common.too_long", limit=engine.settings.max_message_chars)]
    async with db.sessions() as s:
        assert await inbox.is_done(s, "telegram", "m9:1") is True


async def test_postgres_keeps_its_pool_of_connections_and_opens_none_beyond(pg_database: str | None) -> None:
    """Connections opened beyond the kept pool were closed again at their return: under load each step
    paid for a new server backend. The pool is kept, its size from the config."""
    require_service(pg_database is not None, f"PostgreSQL does not answer at {PG_DSN}")
    assert pg_database is not None
    config = Config.model_validate({"database": {"url": pg_database, "pool_size": 7}})
    engine = make_engine(config.database.url, pool_size=config.database.pool_size)
    try:
        pool = engine.sync_engine.pool
        assert isinstance(pool, QueuePool) and pool.size() == 7 and pool._max_overflow == 0
        assert Config.model_validate({}).database.pool_size == 20  # the cap per worker of before: 10 + 10
    finally:
        await engine.dispose()


async def test_sqlite_keeps_its_pool_of_connections_too(sqlite_db: Database) -> None:
    engine = make_engine(sqlite_db.url)
    try:
        pool = engine.sync_engine.pool
        assert isinstance(pool, QueuePool) and pool.size() == 20 and pool._max_overflow == 0
    finally:
        await engine.dispose()


async def test_on_postgres_a_step_waits_for_the_persons_row_lock_and_reads_the_state_after_it(
        pg_database: str | None) -> None:
    """The state is read under its row lock in the same query as the account (one round trip
    less): a step of the same person on another worker holding the row makes this one wait, and this one
    then sees what the other committed (here: the conversation dropped), not the state of before."""
    require_service(pg_database is not None, f"PostgreSQL does not answer at {PG_DSN}")
    assert pg_database is not None
    engine = make_engine(pg_database)
    sessions = make_session_factory(engine)
    try:
        async with engine.begin() as conn:
            names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        dialog = make_dialog(sessions)
        province = await make_province(sessions)
        code = await invite(sessions, province.villages[0])

        async def say(words: str, n: int) -> str:
            sent = await dialog.step_durable(Incoming("telegram", "9001", text=words, message_id=f"m9001:{n}"),
                                               NOW + timedelta(minutes=n))
            return "\n".join(s.reply.text for s in sent)

        await say(f"/start {code}", 1)
        assert t("election.ask.election_date") in await say("/baucu", 2)
        async with transaction(sessions) as other:  # the other worker, in the middle of this person's step
            state_id = (await other.execute(text("SELECT id FROM conversation_state FOR UPDATE"))).scalar_one()
            step = asyncio.create_task(say("15/12/2024", 3))

            async def waiting() -> bool:
                async with engine.connect() as conn:
                    return bool((await conn.execute(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database()"))).scalar())

            while not await waiting():  # this step waits on the row lock
                assert not step.done(), await step
                await asyncio.sleep(0.01)
            await other.execute(text("DELETE FROM conversation_state WHERE id = :id"), {"id": state_id})
        reply = await step
        assert t("election.ask.head_name") not in reply  # it saw the conversation gone, not the old step
        async with sessions() as s:
            assert (await s.execute(text("SELECT count(*) FROM conversation_state"))).scalar() == 0
    finally:
        await engine.dispose()
