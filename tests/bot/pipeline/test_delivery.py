"""One delivery suite over every channel of the pipeline: Telegram and Zalo through their stand-in
servers and webhooks, and the web chat, on both databases.

A step's replies arrive once; a redelivered update is not answered twice; while the database is down
the sender is told once to wait, and the message is handled when it is back; a 429 is retried; a
user who blocked the bot is marked. What the outbox drain sends on the bot's own initiative goes
through the same adapter: once, and a long message whose second part meets a 429 is not begun again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.channels.telegram_pacing import SharedChatRateLimiter
from bot.delivery import drain_once
from bot.pacing import SharedRateLimiter
from tests.bot.channels.test_telegram import TOKEN as TG_TOKEN
from tests.bot.channels.test_zalo import TOKEN as ZALO_TOKEN
from tests.bot.pipeline.sides import DELAYED, WAIT, Outage, Side, TelegramSide, ZaloSide, open_side
from tests.conftest import Database
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo
from tests.waiting import until
from texts.catalog import t

ALL = ["telegram", "zalo", "web"]
PLATFORMS = ["telegram", "zalo"]  # a rate limit and a block exist only where a platform sends


@pytest.fixture
async def outage(db: Database) -> AsyncIterator[Outage]:
    cut = Outage(db)
    yield cut
    await cut.close()


@pytest.fixture
async def side(request: pytest.FixtureRequest, outage: Outage, tmp_path: Path) -> AsyncIterator[Side]:
    async with FakeTelegram(token=TG_TOKEN) as telegram, FakeZalo(token=ZALO_TOKEN) as zalo:
        opened = await open_side(request.param, await outage.url(), tmp_path, telegram, zalo)
        try:
            yield opened
        finally:
            await opened.close()


async def answered(side: Side, n: int) -> list[str]:
    await side.settled()
    await until(lambda: len(side.received()) >= n, f"{n} answer(s)", WAIT)
    await side.settled()
    return side.received()


@pytest.mark.parametrize("side", ALL, indirect=True)
async def test_a_steps_replies_arrive_once(side: Side) -> None:
    assert await side.send("xin chào") == 200
    assert await answered(side, 1) == [t("bind.how_to")]
    assert await side.send("/trogiup") == 200
    assert await answered(side, 2) == [t("bind.how_to"), t("help.unbound")]


@pytest.mark.parametrize("side", ALL, indirect=True)
async def test_a_redelivered_update_is_not_answered_twice(side: Side) -> None:
    assert await side.send("xin chào") == 200
    assert await answered(side, 1) == [t("bind.how_to")]
    assert await side.redeliver() == 200
    assert await side.redeliver() == 200
    await side.settled()
    assert await side.send("/trogiup") == 200  # something after the copies, to know they were handled
    assert await answered(side, 2) == [t("bind.how_to"), t("help.unbound")]


@pytest.mark.parametrize("side", ALL, indirect=True)
async def test_an_outage_tells_the_sender_to_wait_once_and_the_message_is_handled_when_back(
        side: Side, outage: Outage) -> None:
    assert await side.send("xin chào") == 200
    assert await answered(side, 1) == [t("bind.how_to")]
    await outage.cut()
    first = await side.send("/trogiup")
    await until(lambda: DELAYED in side.received(), "told to wait", WAIT)
    if first != 200:  # a platform was told to deliver again (503): it does, still during the outage
        assert first == 503
        assert await side.redeliver() == 503
    await outage.restore()
    if first != 200:
        assert await side.redeliver() == 200
    assert await answered(side, 3) == [t("bind.how_to"), DELAYED, t("help.unbound")]


@pytest.mark.parametrize("side", PLATFORMS, indirect=True)
async def test_a_429_is_retried(side: TelegramSide | ZaloSide) -> None:
    side.fail_next_send()
    assert await side.send("xin chào") == 200
    assert await answered(side, 1) == [t("bind.how_to")]
    assert side.sends() == 2  # refused once, then sent


@pytest.mark.parametrize("side", PLATFORMS, indirect=True)
async def test_a_user_who_blocked_the_bot_is_marked(side: TelegramSide | ZaloSide) -> None:
    assert await side.send("xin chào") == 200
    assert await answered(side, 1) == [t("bind.how_to")]
    assert not await side.blocked()
    side.block()
    assert await side.send("/trogiup") == 200
    await side.settled()
    assert await side.blocked()
    assert side.received() == [t("bind.how_to")]


@pytest.mark.parametrize("side", ALL, indirect=True)
async def test_a_message_from_the_outbox_arrives_once(side: Side) -> None:
    assert await side.send("xin chào") == 200  # (the account)
    assert await answered(side, 1) == [t("bind.how_to")]
    await side.queue("reminder:delivery-suite", "Nhắc việc: báo cáo kết quả bầu trưởng thôn.")
    assert (await side.drain()).sent == 1
    assert (await side.drain()).sent == 0
    assert side.received() == [t("bind.how_to"), "Nhắc việc: báo cáo kết quả bầu trưởng thôn."]


@pytest.mark.parametrize("side", PLATFORMS, indirect=True)
async def test_a_long_message_from_the_outbox_meets_a_429_part_way_and_each_part_arrives_once(
        side: TelegramSide | ZaloSide) -> None:
    assert await side.send("xin chào") == 200
    assert await answered(side, 1) == [t("bind.how_to")]
    line = "Dòng {}: thôn Đồng Tâm, xã Bình Liêu chưa báo cáo kết quả bầu trưởng thôn."
    long = "\n".join(line.format(i) for i in range(side.part_limit() * 3 // 2 // len(line)))
    assert side.part_limit() < len(long) < 2 * side.part_limit()  # two parts
    await side.queue("digest:delivery-suite", long)
    sends = side.sends()
    side.fail_second_part()
    assert (await side.drain()).sent == 1
    parts = side.received()[1:]
    assert len(parts) == 2 and "\n".join(parts) == long  # each part once, in order
    assert side.sends() == sends + 3  # the first part, the second refused, then sent


async def test_on_postgres_a_telegram_message_from_the_outbox_takes_one_slot_of_the_shared_pace(
        pg_db: Database, tmp_path: Path) -> None:
    """The drain books the message's slot in the calendar the workers share (as a reply, or a
    broadcast behind the replies); the channel's own rate limiter, booking in the same calendar, does
    not book a second (two slots a message halved the outbox's pace on PostgreSQL)."""
    async with FakeTelegram(token=TG_TOKEN) as telegram, FakeZalo(token=ZALO_TOKEN) as zalo:
        side = await open_side("telegram", pg_db.url, tmp_path, telegram, zalo)
        try:
            assert isinstance(side, TelegramSide)
            limiter = side.channel.limiter
            assert isinstance(limiter, SharedChatRateLimiter)  # PostgreSQL: the workers' shared pace
            channel_pace = limiter.pace
            await side.send("/trogiup")  # a step's reply: booked by the channel, once
            await answered(side, 1)
            replies_booked = channel_pace.bookings
            assert replies_booked == 1
            await side.queue("reminder:1", "Nhắc việc")
            drain_pace = SharedRateLimiter(pg_db.engine, 30.0, 1.0)
            stats = await drain_once(side.app.sessions, side.app.channels, drain_pace)
            assert stats.sent == 1 and "Nhắc việc" in side.received()[-1]
            assert drain_pace.pace("telegram").bookings == 1  # the drain's slot...
            assert channel_pace.bookings == replies_booked  # ...and none more by the channel
        finally:
            await side.close()
