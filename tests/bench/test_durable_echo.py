"""The second baseline of ``bench telegram`` (bench/durable_echo.py) does what it claims, on both
databases: each update echoed once, its dedupe row, state and reply written, the reply marked sent; a
redelivered message (a new update, the same message) is neither answered nor counted again."""

from __future__ import annotations

from sqlalchemy import func, select

from bench.durable_echo import META, OUTBOX, SEEN, STATE, durable_echo_bot
from tests.conftest import Database
from tests.fakes.telegram_api import FakeTelegram

TOKEN = "123456789:durable-echo"


async def test_durable_echo_writes_each_update_once(db: Database) -> None:
    async with FakeTelegram(TOKEN) as fake:
        app, progress = await durable_echo_bot(db.engine, TOKEN, fake.base_url, fake.base_file_url, 4)
        try:
            first = fake.user_message(1001, "xin chào")
            await progress.wait(1, "1001")
            fake.user_message(1001, "15/12")
            fake.callback(1001, "member", fake.sent[-1]["message_id"] if fake.sent else 1)
            fake.user_message(1002, "Nguyễn Văn An")
            await progress.wait(3, "1001")
            await progress.wait(1, "1002")
            fake.push_update({"message": first["message"]})  # Telegram sends the first message again
            await progress.wait(4, "1001")
        finally:
            assert app.updater is not None
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
        assert fake.sent_to(1001) == ["xin chào", "15/12", "member"]
        assert fake.sent_to(1002) == ["Nguyễn Văn An"]
    try:
        async with db.engine.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(SEEN))).scalar_one() == 4
            steps = dict((await conn.execute(select(STATE.c.chat, STATE.c.step))).all())
            assert steps == {"1001": 3, "1002": 1}
            unsent = select(func.count()).select_from(OUTBOX).where(OUTBOX.c.sent_at.is_(None))
            assert (await conn.execute(unsent)).scalar_one() == 0
            assert (await conn.execute(select(func.count()).select_from(OUTBOX))).scalar_one() == 4
    finally:
        async with db.engine.begin() as conn:
            await conn.run_sync(META.drop_all)
