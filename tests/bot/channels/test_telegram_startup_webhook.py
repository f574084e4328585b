"""Telegram's start-up and webhook: a deleteWebhook that fails once still ends in polling,
a setWebhook Telegram refuses is a configuration error (said once, not retried), and no webhook body,
however bad, gets anything but 200 and a log line."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from bot.app import stop
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_webhook import SECRET_HEADER
from bot.config import Config, ConfigError, load_config
from models.delivery import inbox
from tests.bot.channels.test_telegram import SECRET, TOKEN, Bot, User
from tests.bot.channels.test_telegram import fake as fake  # the fixture, shared
from tests.bot.channels.test_telegram_resilience import started_bot
from tests.conftest import Database
from tests.fakes.telegram_api import BAD_PORT, FakeTelegram
from tests.waiting import until
from texts.catalog import t


def channel(bot: Bot) -> TelegramChannel:
    assert isinstance(bot.channel, TelegramChannel)
    return bot.channel


async def test_delete_webhook_failing_once_at_start_still_ends_in_polling(
        sqlite_db: Database, fake: FakeTelegram, caplog: pytest.LogCaptureFixture) -> None:
    fake.fail_next("deleteWebhook", 502)  # the polling loop's first call, after app.start()
    bot = await started_bot(sqlite_db.url, fake)
    try:
        assert await User(bot).say("/trogiup") == t("help.unbound")  # polling after the retry
        assert len(fake.methods_called("deleteWebhook")) == 2
        assert "already running" not in caplog.text
        assert channel(bot).polling
    finally:
        await stop(bot.app)


async def test_set_webhook_refused_is_a_configuration_error_not_retried(
        sqlite_db: Database, fake: FakeTelegram, caplog: pytest.LogCaptureFixture) -> None:
    fake.fail_next("setWebhook", 400, description=BAD_PORT)
    caplog.set_level(logging.ERROR, logger="bot.channels.telegram")
    bot = await started_bot(sqlite_db.url, fake, mode="webhook")
    try:
        assert "configuration error" in caplog.text and "8443" in caplog.text
        assert channel(bot)._bootstrap_task is None  # no retries in the background
        assert len(fake.methods_called("setWebhook")) == 1 and not bot.channel.running
    finally:
        await stop(bot.app)


@pytest.mark.parametrize("url", ["https://bot.example.vn:8080/tg", "https://bot.example.vn:3000/tg"])
def test_config_refuses_a_webhook_port_telegram_refuses(url: str) -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_URL": url,
           "TELEGRAM_WEBHOOK_SECRET": SECRET}
    with pytest.raises(ConfigError, match=r"telegram.*443, 80, 88 or 8443"):
        load_config(None, env=env)
    ok = dict(env, TELEGRAM_WEBHOOK_URL="https://bot.example.vn:8443/tg")
    assert isinstance(load_config(None, env=ok), Config)


BAD_BODIES = {
    "not JSON": b"not json",
    "empty": b"",
    "a list": b"[1, 2]",
    "deeply nested": b"[" * 100_000 + b"]" * 100_000,
    "nested object": b'{"update_id": 5, "message": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001,
    "bad types": b'{"update_id": "x", "message": {"chat": 7}}',
    "not UTF-8": b'{"update_id": 1, "x": "\xff\xfe"}',
}


async def test_any_bad_webhook_body_gets_200_and_a_log_line(
        sqlite_db: Database, fake: FakeTelegram, caplog: pytest.LogCaptureFixture) -> None:
    bot = await started_bot(sqlite_db.url, fake, mode="webhook")
    caplog.set_level(logging.WARNING, logger="bot.channels.telegram_webhook")
    try:
        async with aiohttp.ClientSession() as http:
            for name, body in BAD_BODIES.items():
                async with http.post(bot.url, data=body, headers={SECRET_HEADER: SECRET,
                                                                  "Content-Type": "application/json"}) as resp:
                    assert resp.status == 200, name
        assert caplog.text.count("unreadable update ignored") >= len(BAD_BODIES) - 1  # "bad types" may parse
        assert await User(bot).say("/trogiup") == t("help.unbound")  # and the webhook still works
        await until(lambda: bot.channel.progress.total >= 1, "the good update handled")
    finally:
        await stop(bot.app)



HALF_UPDATES = {  # Bot API updates PTB reads, but lacking what a message to the bot always has
    "no from, no chat": {"update_id": 301, "message": {"message_id": 1, "date": 1700000000, "text": "/trogiup"}},
    "no from": {"update_id": 302, "message": {"message_id": 2, "date": 1700000000, "text": "/trogiup",
                                              "chat": {"id": 501, "type": "private"}}},
    "no chat": {"update_id": 303, "message": {"message_id": 3, "date": 1700000000, "text": "/trogiup",
                                              "from": {"id": 501, "is_bot": False, "first_name": "A"}}},
    "button without message": {"update_id": 304, "callback_query": {
        "id": "cq-304", "chat_instance": "1", "data": "x", "from": {"id": 501, "is_bot": False, "first_name": "A"}}},
}


@pytest.mark.parametrize("mode", ["webhook", "polling"])
async def test_an_update_that_cannot_be_handled_is_answered_200_and_does_not_block_the_others(
        sqlite_db: Database, fake: FakeTelegram, mode: str) -> None:
    """Telegram delivers a non-2xx answer again and again: an update the bot cannot handle is
    acknowledged (200, or the polling offset moves on), and what comes after it is answered."""
    bot = await started_bot(sqlite_db.url, fake, mode=mode)
    try:
        for name, update in HALF_UPDATES.items():
            if mode == "webhook":
                assert await bot.post(update) == 200, name
            else:
                fake.push_update(update)
        assert await User(bot).say("/trogiup") == t("help.unbound")
        await channel(bot).intake.idle()
        assert fake.sent_to(501) == [t("help.unbound")]  # nothing said to the half updates, nothing failed
        async with bot.app.sessions() as s:
            assert (await inbox.counts(s))["pending"] == 0
    finally:
        await stop(bot.app)
