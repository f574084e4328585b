"""The Zalo webhook and update intake: the secret, both update shapes, duplicates, fallbacks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import App, stop
from bot.config import ConfigError, load_config
from models.accounts.tables import ChannelAccount
from models.delivery.tables import ProcessedMessage
from tests.bot.channels.test_zalo import (
    HEAD,
    SECRET,
    make_config,
    running_app,
    settle,
    webhook_url,
)
from tests.bot.channels.test_zalo import channel as zalo_channel
from tests.bot.channels.test_zalo import fake as fake  # the fixture, shared
from tests.conftest import Database
from tests.fakes.zalo_api import FakeZalo
from tests.waiting import until
from texts.catalog import t


@pytest.fixture
async def hooked(sqlite_db: Database, tmp_path: Path, fake: FakeZalo) -> AsyncIterator[App]:
    app = await running_app(make_config(sqlite_db.url, tmp_path, fake, mode="webhook"))
    yield app
    await stop(app)


@pytest.fixture
async def polled(sqlite_db: Database, tmp_path: Path, fake: FakeZalo) -> AsyncIterator[App]:
    app = await running_app(make_config(sqlite_db.url, tmp_path, fake))
    yield app
    await stop(app)


async def accounts(app: App) -> int:
    async with app.sessions() as s:
        return (await s.execute(select(func.count()).select_from(ChannelAccount))).scalar_one()


def text_update(fake: FakeZalo, text: str = "/trogiup", user: str = HEAD) -> dict:
    return {"event_name": "message.text.received", "message": fake.message(user, text=text)}


@pytest.mark.parametrize("secret", [None, "", "wrong-secret-0123456789", SECRET[:-1], SECRET + "x", "bí mật"])
async def test_wrong_or_missing_secret_is_403_and_nothing_happens(hooked: App, fake: FakeZalo,
                                                                  secret: str | None) -> None:
    update = text_update(fake)
    status, _ = await fake.deliver_webhook(webhook_url(hooked), secret, update)
    assert status == 403
    await zalo_channel(hooked).idle()
    assert fake.sent == [] and await accounts(hooked) == 0
    assert f"{HEAD}:{update['message']['message_id']}" not in zalo_channel(hooked).recent


async def test_secret_is_checked_before_the_body_is_read(hooked: App) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(webhook_url(hooked), data=b"\xff not json {",
                             headers={"X-Bot-Api-Secret-Token": "nope"}) as response:
            assert response.status == 403
        async with http.post(webhook_url(hooked), data=b"\xff not json {",
                             headers={"X-Bot-Api-Secret-Token": SECRET}) as response:
            assert response.status == 200  # ignored with a log line: a non-2xx would be redelivered


@pytest.mark.parametrize("wrapped", [False, True], ids=["bare", "wrapped"])
async def test_update_bare_or_wrapped(hooked: App, fake: FakeZalo, wrapped: bool) -> None:
    update = text_update(fake, "xin chào")
    status, body = await fake.deliver_webhook(webhook_url(hooked), SECRET, update, wrapped=wrapped)
    assert status == 200 and '"ok": true' in body
    await settle(hooked, fake, update["message"]["message_id"])
    assert fake.sent_to(HEAD) == [t("bind.how_to")]


async def test_same_update_twice_by_webhook_is_handled_once(hooked: App, fake: FakeZalo) -> None:
    update = text_update(fake, "/trogiup")
    for _ in range(2):
        assert (await fake.deliver_webhook(webhook_url(hooked), SECRET, update))[0] == 200
    await settle(hooked, fake, update["message"]["message_id"])
    assert len(fake.sent_to(HEAD)) == 1
    # after a restart the in-memory LRU is empty: the engine's own record still says "handled"
    zalo_channel(hooked).recent.forget(f"{HEAD}:{update['message']['message_id']}")
    assert (await fake.deliver_webhook(webhook_url(hooked), SECRET, update, wrapped=True))[0] == 200
    await settle(hooked, fake, update["message"]["message_id"])
    assert len(fake.sent_to(HEAD)) == 1
    async with hooked.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(ProcessedMessage))).scalar_one() == 1


async def test_same_update_twice_by_polling_is_handled_once(polled: App, fake: FakeZalo) -> None:
    update = fake.push_text(HEAD, "/trogiup")
    fake.push_event(update)
    await settle(polled, fake, update["message"]["message_id"])
    assert len(fake.sent_to(HEAD)) == 1


@pytest.mark.parametrize("push,key", [
    (lambda f: f.push_event({"event_name": "message.image.received", "message": f.message(HEAD)}),
     "zalo.fallback.image"),  # an image without its photo_url
    (lambda f: f.push_sticker(HEAD), "zalo.fallback.sticker"),
    (lambda f: f.push_unsupported(HEAD), "zalo.fallback.unsupported"),
])
async def test_images_stickers_and_withheld_content_get_a_fallback(polled: App, fake: FakeZalo, push, key) -> None:
    update = push(fake)
    await settle(polled, fake, update["message"]["message_id"])
    assert fake.sent_to(HEAD) == [t(key)]
    assert await accounts(polled) == 0  # the engine was not involved


async def test_unknown_events_and_group_chats_are_ignored(hooked: App, fake: FakeZalo) -> None:
    group = text_update(fake)
    group["message"]["chat"] = {"id": "group-1", "chat_type": "GROUP"}
    follow = {"event_name": "user.follow", "message": fake.message(HEAD)}
    for update in (group, follow, {"ok": True, "result": None}, [1, 2]):
        assert (await fake.deliver_webhook(webhook_url(hooked), SECRET, update))[0] == 200  # type: ignore[arg-type]
    await zalo_channel(hooked).idle()
    assert fake.sent == [] and await accounts(hooked) == 0


@pytest.mark.parametrize("trouble", ["failing", "unreachable"])
async def test_webhook_secret_is_random_when_not_configured_and_set_webhook_is_retried(
        sqlite_db: Database, tmp_path: Path, fake: FakeZalo, trouble: str) -> None:
    if trouble == "unreachable":
        await fake.stop()  # nothing listens at the API's address
    else:
        fake.fail_next("setWebhook", 502, html=True, times=2)
    app = await running_app(make_config(sqlite_db.url, tmp_path, fake, mode="webhook", webhook_secret=""))
    try:
        assert fake.webhook["url"] == ""  # not registered yet: start() did not wait for it
        if trouble == "unreachable":
            await fake.start()  # back, at the same address
        await until(lambda: fake.webhook["url"] == app.config.zalo.webhook_url, "the webhook registered")
        if trouble == "failing":
            assert len(fake.methods_called("setWebhook")) == 3  # refused twice, then set: no more tries
        secret = zalo_channel(app).webhook_secret
        assert len(secret) >= 32 and fake.webhook_secret == secret
        update = text_update(fake, "xin chào")
        assert (await fake.deliver_webhook(webhook_url(app), SECRET, update))[0] == 403
        assert (await fake.deliver_webhook(webhook_url(app), secret, update))[0] == 200
        await settle(app, fake, update["message"]["message_id"])
        assert fake.sent_to(HEAD) == [t("bind.how_to")]  # answered through the API that came back
    finally:
        await stop(app)


@pytest.mark.parametrize("toml,env,key", [
    ("", {"ZALO_WEBHOOK_SECRET": "short"}, "zalo.webhook_secret"),
    ('[zalo]\nwebhook_path = "zalo"\n', {}, "zalo.webhook_path"),
    ('[zalo]\nfiles_path = "/"\n', {}, "zalo.files_path"),
])
def test_config_checks_the_secret_and_paths(tmp_path: Path, toml: str, env: dict, key: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=key):
        load_config(path, env=env)


async def test_message_ids_are_kept_apart_per_sender_and_any_length_is_taken(db: Database, tmp_path: Path,
                                                                              fake: FakeZalo) -> None:
    """Zalo does not promise message ids unique across users: two heads whose messages share an id are
    both answered; an id of 100 characters (past the message id's column) is answered too, not failed."""
    app = await running_app(make_config(db.url, tmp_path, fake, mode="webhook"))
    try:
        first, second = text_update(fake, "xin chào", "zalo-user-a"), text_update(fake, "xin chào", "zalo-user-b")
        second["message"]["message_id"] = first["message"]["message_id"]
        long_id = text_update(fake, "xin chào", "zalo-user-c")
        long_id["message"]["message_id"] = "9" * 100
        for update in (first, second, long_id):
            assert (await fake.deliver_webhook(webhook_url(app), SECRET, update))[0] == 200
        await until(lambda: all(fake.sent_to(u) for u in ("zalo-user-a", "zalo-user-b", "zalo-user-c")),
                    "every head answered")
        await zalo_channel(app).idle()
        for user in ("zalo-user-a", "zalo-user-b", "zalo-user-c"):
            assert fake.sent_to(user) == [t("bind.how_to")], user
        assert (await fake.deliver_webhook(webhook_url(app), SECRET, long_id))[0] == 200  # a copy: not again
        await zalo_channel(app).idle()
        assert fake.sent_to("zalo-user-c") == [t("bind.how_to")]
        async with app.sessions() as s:
            assert (await s.execute(select(func.count()).select_from(ProcessedMessage))).scalar_one() == 3
    finally:
        await stop(app)
