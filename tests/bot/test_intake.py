"""Durable intake at the channel: what a crash left in the inbox is processed at the next start, in
order; a webhook update the database cannot take is refused (503) so the platform delivers it again."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from bot.app import stop
from models.clock import utcnow
from models.db import transaction
from models.delivery import inbox
from tests.bot.channels.test_zalo import HEAD, SECRET, make_config, running_app, webhook_url
from tests.bot.channels.test_zalo import channel as zalo_channel
from tests.bot.channels.test_zalo import fake as fake  # the fixture, shared
from tests.conftest import Database
from tests.fakes.zalo_api import FakeZalo
from tests.waiting import until
from texts.catalog import t


async def test_what_a_crash_left_in_the_inbox_is_processed_at_start(sqlite_db: Database, tmp_path: Path,
                                                                    fake: FakeZalo) -> None:
    updates = [{"event_name": "message.text.received", "message": fake.message(HEAD, text=text)}
               for text in ("xin chào", "/trogiup")]
    fake.know(HEAD)  # the head wrote to the bot (that is how the updates came): Zalo lets the bot answer
    async with transaction(sqlite_db.sessions) as s:  # written down, then the process died
        for update in updates:
            await inbox.record(s, "zalo", update["message"]["message_id"], HEAD, update, utcnow())
    app = await running_app(make_config(sqlite_db.url, tmp_path, fake))
    try:
        await zalo_channel(app).idle()
        await until(lambda: len(fake.sent_to(HEAD)) >= 2, "both answered")
        assert fake.sent_to(HEAD) == [t("bind.how_to"), t("help.unbound")]  # in order
        async with sqlite_db.sessions() as s:
            assert await inbox.counts(s) == {"pending": 0, "done": 2}
    finally:
        await stop(app)


async def test_a_webhook_update_the_database_cannot_take_gets_503(sqlite_db: Database, tmp_path: Path,
                                                                  fake: FakeZalo) -> None:
    app = await running_app(make_config(sqlite_db.url, tmp_path, fake, mode="webhook"))
    try:
        async with sqlite_db.engine.begin() as conn:  # the inbox unusable: the database "down" for writes
            await conn.execute(text("ALTER TABLE inbox_message RENAME TO inbox_away"))
        update = {"event_name": "message.text.received", "message": fake.message(HEAD, text="xin chào")}
        status, _ = await fake.deliver_webhook(webhook_url(app), SECRET, update)
        assert status == 503
        await until(lambda: fake.sent_to(HEAD) == [t("intake.delayed")], "the head is told to wait")
        async with sqlite_db.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE inbox_away RENAME TO inbox_message"))
        status, _ = await fake.deliver_webhook(webhook_url(app), SECRET, update)  # Zalo's retry
        assert status == 200
        await zalo_channel(app).idle()
        assert fake.sent_to(HEAD) == [t("intake.delayed"), t("bind.how_to")]
    finally:
        await stop(app)


async def test_a_recovered_row_goes_before_a_newer_one_delivered_first(sqlite_db: Database) -> None:
    """A webhook can deliver before the channel starts: nothing runs before recover(), then oldest first."""
    from bot.pipeline.intake import Intake

    seen: list[str] = []

    async def process(row: inbox.Pending) -> bool:
        seen.append(row.key)
        return True

    async with transaction(sqlite_db.sessions) as s:  # left pending by the last run
        await inbox.record(s, "zalo", "old", "u1", {}, utcnow())
    intake = Intake(sqlite_db.sessions, "zalo", process)
    assert await intake.accept([("new", "u1", {})]) == 1
    await intake.idle()
    assert seen == []  # not before recover()
    assert await intake.recover() == 1
    await intake.idle()
    assert seen == ["old", "new"]
    async with sqlite_db.sessions() as s:
        assert await inbox.counts(s) == {"pending": 0, "done": 2}


async def test_recovery_takes_the_whole_backlog_not_only_the_first_page(db: Database) -> None:
    """1,500 updates left by a crash (more than one page of the inbox): all processed after one start."""
    from bot.pipeline.intake import Intake

    seen: list[str] = []

    async def process(row: inbox.Pending) -> bool:
        seen.append(row.key)
        return True

    items = [(f"m{n}", f"u{n % 7}", {"n": n}) for n in range(1500)]
    async with transaction(db.sessions) as s:
        await inbox.record_many(s, "zalo", items, utcnow())
    intake = Intake(db.sessions, "zalo", process)
    assert await intake.recover(page=400) == 1500
    await intake.idle()
    assert sorted(seen) == sorted(key for key, _, _ in items) and len(seen) == 1500
    for account in {a for _, a, _ in items}:  # each account's rows in order
        mine = [k for k in seen if k in {key for key, a, _ in items if a == account}]
        assert mine == [key for key, a, _ in items if a == account]
    async with db.sessions() as s:
        assert await inbox.counts(s) == {"pending": 0, "done": 1500}


async def test_one_accounts_updates_wait_for_each_other_and_not_for_another_account(sqlite_db: Database) -> None:
    """A slow step holds up only its own account's later updates: another account is answered meanwhile."""
    import asyncio

    from bot.pipeline.intake import Intake

    log: list[str] = []
    gate = asyncio.Event()

    async def process(row: inbox.Pending) -> bool:
        log.append(f"{row.key}>")
        if row.key == "a1":
            await gate.wait()
        log.append(f"<{row.key}")
        return True

    intake = Intake(sqlite_db.sessions, "zalo", process)
    await intake.recover()
    assert await intake.accept([("a1", "a", {}), ("a2", "a", {}), ("b1", "b", {})]) == 3
    await until(lambda: "<b1" in log, "b1 (another account) handled while a1 waits")
    assert log == ["a1>", "b1>", "<b1"]  # a2 came before b1, yet waits for a1
    gate.set()
    await intake.idle()
    assert log[3:] == ["<a1", "a2>", "<a2"]
