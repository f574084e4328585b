"""Zalo's platform cases, each through the real client, channel and App against the strict stand-in: voice
messages answered, 410 marks the chat instead of six retries, photo_url read, no loopback photo
offered, an empty ok:true poll does not spin, the webhook's empty probe gets 200, and workers without a
configured secret agree on one."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import App, build, stop
from bot.channels.zalo import ZaloChannel, derived_webhook_secret
from bot.channels.zalo_updates import parse_update
from bot.delivery import RateLimiter, drain_once
from bot.pipeline.errors import SendBlocked
from handlers.messages import Reply
from models.accounts.tables import ChannelAccount
from models.delivery.tables import OutboxMessage
from tests.bot.channels.test_zalo import HEAD, TOKEN, make_config, running_app, settle, webhook_url
from tests.bot.channels.test_zalo import channel as zalo_channel
from tests.bot.channels.test_zalo import fake as fake  # the fixture, shared
from tests.bot.channels.test_zalo_delivery import NOW, enqueue_for, outbox_row
from tests.conftest import Database
from tests.fakes.zalo_api import CHAT_GONE, FakeZalo
from tests.waiting import until
from texts.catalog import t


@pytest.fixture
async def polled(sqlite_db: Database, tmp_path: Path, fake: FakeZalo) -> AsyncIterator[App]:
    app = await running_app(make_config(sqlite_db.url, tmp_path, fake, backoff_initial=0.2))
    yield app
    await stop(app)


async def blocked(app: App, user: str = HEAD) -> bool:
    async with app.sessions() as s:
        return bool((await s.execute(select(ChannelAccount.blocked).where(
            ChannelAccount.channel == "zalo", ChannelAccount.external_id == user))).scalar_one())


async def test_a_voice_message_gets_a_friendly_answer(polled: App, fake: FakeZalo) -> None:
    update = fake.push_voice(HEAD)
    await settle(polled, fake, update["message"]["message_id"])
    assert fake.sent_to(HEAD) == [t("zalo.fallback.voice")]


async def test_other_unreadable_messages_get_one_answer_per_few_minutes(polled: App, fake: FakeZalo) -> None:
    for event in ("message.location.received", "message.unsupported.received", "message.file.received"):
        update = fake.push_event({"event_name": event, "message": fake.message(HEAD)})
        await settle(polled, fake, update["message"]["message_id"])
    assert fake.sent_to(HEAD) == [t("zalo.fallback.unsupported")]  # once, not three times


async def test_410_on_a_reply_marks_the_chat_and_queues_nothing(polled: App, fake: FakeZalo) -> None:
    fake.fail_next("sendMessage", 410, CHAT_GONE)
    update = fake.push_text(HEAD, "xin chào")
    await settle(polled, fake, update["message"]["message_id"])
    assert len(fake.methods_called("sendMessage")) == 1  # not retried
    assert await blocked(polled)
    async with polled.sessions() as s:  # the reply's own outbox row (written with the step) ends skipped
        left = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "skipped")
        assert (await s.execute(left)).scalar_one() == 0


async def test_410_in_the_outbox_is_blocked_not_retried(polled: App, fake: FakeZalo) -> None:
    zalo = zalo_channel(polled)
    key = await enqueue_for(polled, "gone-user", "nhắc")  # never wrote to the bot: Zalo answers 410
    with pytest.raises(SendBlocked):
        await zalo.send("gone-user", Reply("nhắc"))
    await drain_once(polled.sessions, {"zalo": zalo}, RateLimiter(1e6, 0.0), clock=lambda: NOW)
    row = await outbox_row(polled, key)
    assert (row.status, row.attempts) == ("skipped", 0)
    assert await blocked(polled, "gone-user")
    assert len(fake.methods_called("sendMessage")) == 2  # send, then the drain's single try


def test_images_carry_photo_url() -> None:
    body = {"event_name": "message.image.received",
            "message": {"from": {"id": "u1", "display_name": "A"}, "chat": {"id": "u1", "chat_type": "PRIVATE"},
                        "photo_url": "https://photo-stal-29.zdn.vn/no/jpg/x.jpg", "caption": "",
                        "message_type": "CHAT_PHOTO", "message_id": "m1", "date": 1}}
    update = parse_update(body)
    assert update is not None and update.photo_url == "https://photo-stal-29.zdn.vn/no/jpg/x.jpg"
    assert update.fallback_key is None  # the engine gets it (a photo of the record)
    del body["message"]["photo_url"]
    bare = parse_update(body)  # an image the bot cannot fetch: the fallback answer
    assert bare is not None and bare.photo_url is None and bare.fallback_key == "zalo.fallback.image"


async def test_an_empty_ok_true_poll_is_followed_by_a_pause(polled: App, fake: FakeZalo) -> None:
    stamps: list[float] = []
    original = fake.handlers["getUpdates"]

    async def stamped(params: dict[str, Any]) -> Any:
        stamps.append(time.monotonic())
        return await original(params)

    fake.handlers["getUpdates"] = stamped
    fake.empty_ok_polls(3)
    await until(lambda: len(stamps) >= 4 and not fake._empty_ok, "three empty answers and one more poll")
    gaps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
    assert sum(1 for gap in gaps if gap >= 0.2) >= 3, gaps  # backoff_initial after each early empty answer
    update = fake.push_text(HEAD, "/trogiup")
    await settle(polled, fake, update["message"]["message_id"])
    assert fake.sent_to(HEAD)  # and polling goes on


@pytest.fixture
async def hooked(sqlite_db: Database, tmp_path: Path, fake: FakeZalo) -> AsyncIterator[App]:
    app = await running_app(make_config(sqlite_db.url, tmp_path, fake, mode="webhook", webhook_secret=""))
    yield app
    await stop(app)


async def test_the_webhook_answers_200_to_an_empty_probe_and_any_bad_body(hooked: App, fake: FakeZalo) -> None:
    secret = zalo_channel(hooked).webhook_secret
    for raw in (b"", b"   ", b"{", b"[" * 50_000 + b"]" * 50_000, b'{"a":' * 3000 + b"1" + b"}" * 3000,
                b"\xff\xfe", b"null", b'"text"'):
        assert (await fake.deliver_webhook(webhook_url(hooked), secret, raw=raw))[0] == 200, raw[:20]
    assert fake.sent == []


async def test_workers_without_a_configured_secret_agree(sqlite_db: Database, tmp_path: Path, fake: FakeZalo,
                                                         hooked: App) -> None:
    second = await build(make_config(sqlite_db.url, tmp_path, fake, mode="webhook", webhook_secret=""))
    try:
        other = second.channels["zalo"]
        assert isinstance(other, ZaloChannel)
        first = zalo_channel(hooked)
        assert first.webhook_secret == other.webhook_secret == derived_webhook_secret(TOKEN)
        assert fake.webhook_secret == first.webhook_secret and len(first.webhook_secret) >= 32
        assert derived_webhook_secret(TOKEN + "x") != first.webhook_secret
        update = {"event_name": "message.text.received", "message": fake.message(HEAD, text="/trogiup")}
        assert (await fake.deliver_webhook(webhook_url(hooked), fake.webhook_secret, update))[0] == 200
        await settle(hooked, fake, update["message"]["message_id"])
        assert fake.sent_to(HEAD) == [t("help.unbound")]
    finally:
        await stop(second)
