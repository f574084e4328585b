"""The floor of ``bench telegram`` (bench/durable_echo.py) does what it claims, on both databases,
through the raw drivers: each update echoed once, its dedupe row, state and reply written, the reply
marked sent; a redelivered message (a new update, the same message) is neither answered nor written
again."""

from __future__ import annotations

from bench.durable_echo import durable_echo_bot, open_store
from tests.conftest import Database
from tests.fakes.telegram_api import FakeTelegram

TOKEN = "123456789:durable-echo"


async def test_durable_echo_writes_each_update_once(db: Database) -> None:
    store = await open_store(db.url)
    try:
        async with FakeTelegram(TOKEN) as fake:
            app, progress = await durable_echo_bot(store, TOKEN, fake.base_url, fake.base_file_url, 4)
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
        assert [tuple(r) for r in await store.count("SELECT count(*) FROM echo_seen")] == [(4,)]
        steps = {r[0]: r[1] for r in await store.count("SELECT chat, step FROM echo_state")}
        assert steps == {"1001": 3, "1002": 1}
        assert [tuple(r) for r in await store.count(
            "SELECT count(*), count(sent_at) FROM echo_outbox")] == [(4, 4)]
        texts = {r[0] for r in await store.count("SELECT data FROM echo_state")}
        assert texts == {"member", "Nguyễn Văn An"}
    finally:
        await store.close(drop=True)
