"""The Telegram channel when things go wrong: 429s, blocked chats, refused and lost requests, an
unreachable Bot API — and ``send`` for the outbox mapping each to the outbox's vocabulary."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import build, start, stop
from bot.delivery import RateLimiter, drain_once
from bot.pipeline.errors import SendBlocked, SendError, SendRejected, SendRetryLater
from handlers.commands import help_text
from handlers.messages import Attachment, Choice, Reply
from models.accounts.tables import ChannelAccount
from models.db import transaction
from models.delivery import outbox
from models.delivery.tables import OutboxMessage
from tests.bot.channels.test_telegram import HEAD, Bot, Clock, User, handled, make_config
from tests.bot.channels.test_telegram import fake as fake  # the fixture, shared
from tests.bot.channels.test_telegram import make_bot as make_bot  # the fixture, shared
from tests.conftest import Database
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_spec import assert_calls_match_spec
from tests.handlers.chat import NOW, invite, make_province
from texts.catalog import t

MakeBot = Callable[..., Awaitable[Bot]]


class Ticks:
    """A monotonic clock that moves only when told (for the rate limiter)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def enqueue_for(bot: Bot, chat: int, text: str) -> str:
    """An outbox row for a new Telegram account ``chat``; its key."""
    async with transaction(bot.app.sessions) as s:
        account = ChannelAccount(channel="telegram", external_id=str(chat), created_at=NOW)
        s.add(account)
        await s.flush()
        assert account.id is not None
        await outbox.enqueue(s, key=f"k{chat}", kind="reminder", account_id=account.id, text=text, now=NOW)
    return f"k{chat}"


async def outbox_row(bot: Bot, key: str) -> OutboxMessage:
    async with bot.app.sessions() as s:
        return (await s.execute(select(OutboxMessage).where(OutboxMessage.key == key))).scalar_one()


async def blocked_flag(bot: Bot, user_id: int = HEAD) -> bool:
    async with transaction(bot.app.sessions) as s:
        account = (await s.execute(select(ChannelAccount).where(
            ChannelAccount.channel == "telegram", ChannelAccount.external_id == str(user_id)))).scalar_one()
        return account.blocked


async def test_429_on_a_reply_is_retried_after_retry_after(sqlite_db: Database, fake: FakeTelegram,
                                                           make_bot: MakeBot) -> None:
    bot = await make_bot(sqlite_db.url)
    fake.fail_next("sendMessage", 429, retry_after=1)
    assert await User(bot).say("/trogiup") == t("help.unbound")
    assert [m for m, _ in fake.calls].count("sendMessage") == 2  # refused once, then sent
    assert str(HEAD) in bot.channel.limiter.paused_until  # the chat held for retry_after before the retry
    assert_calls_match_spec(fake.calls)


async def test_a_chat_that_blocked_the_bot_is_marked_and_skipped(sqlite_db: Database, fake: FakeTelegram,
                                                                 make_bot: MakeBot) -> None:
    bot = await make_bot(sqlite_db.url)
    province = await make_province(bot.app.sessions)
    head = User(bot)
    await head.say(f"/start {await invite(bot.app.sessions, province.villages[0])}")  # two replies
    assert not await blocked_flag(bot)
    fake.block(HEAD)
    sends = len(fake.methods_called("sendMessage"))
    assert await head.say(f"/start {await invite(bot.app.sessions, province.villages[1])}") == ""
    assert len(fake.methods_called("sendMessage")) == sends + 1  # the first refused, the rest skipped
    assert await blocked_flag(bot)
    with pytest.raises(SendBlocked):
        await bot.channel.send(str(HEAD), Reply("nhắc việc"))
    fake.unblock(HEAD)
    assert await head.say("/trogiup") == help_text("village_head")  # writing again lifts the mark
    assert not await blocked_flag(bot)


async def test_send_for_the_outbox_maps_errors(sqlite_db: Database, fake: FakeTelegram, make_bot: MakeBot) -> None:
    bot = await make_bot(sqlite_db.url)
    channel = bot.channel
    clock = Ticks(time.monotonic())
    channel.limiter.clock = clock  # the pacing's time stands still unless the test moves it
    fake.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(SendRetryLater) as retry:
        await channel.send(str(HEAD), Reply("nhắc việc"))
    assert retry.value.retry_after == 7
    assert channel.limiter.retried == 0  # the outbox retries, not the channel
    assert channel.limiter.reserve(str(HEAD)) == 7  # the chat waits out the 7 s ...
    clock.now += 7
    assert channel.limiter.reserve(str(HEAD)) == 0  # ... and not a moment longer
    fake.fail_next("sendMessage", 400, description="Bad Request: chat not found")
    with pytest.raises(SendRejected):
        await channel.send(str(HEAD), Reply("nhắc việc"))
    fake.fail_next("sendMessage", 502)
    with pytest.raises(SendError) as err:
        await channel.send(str(HEAD), Reply("nhắc việc"))
    assert type(err.value) is SendError
    await channel.send(str(HEAD), Reply("Báo cáo tổng hợp", choices=[Choice("ok", "Đã xem")]))
    assert fake.sent_to(HEAD) == ["Báo cáo tổng hợp"]
    assert fake.sent[-1]["reply_markup"] == {"inline_keyboard": [[{"text": "Đã xem", "callback_data": "ok"}]]}
    await channel.send(str(HEAD), Reply("Bảng tổng hợp", attachment=Attachment("tonghop.csv", b"a,b\n1,2\n",
                                                                                   "text/csv")))
    assert fake.documents[-1]["filename"] == "tonghop.csv" and fake.documents[-1]["data"] == b"a,b\n1,2\n"
    assert fake.sent[-1]["caption"] == "Bảng tổng hợp"
    await fake.stop()  # the Bot API is gone
    with pytest.raises(SendError):
        await channel.send(str(HEAD), Reply("nhắc việc"))
    assert_calls_match_spec(fake.calls)


async def test_the_outbox_drain_records_what_the_bot_api_answered(sqlite_db: Database, fake: FakeTelegram,
                                                                  make_bot: MakeBot) -> None:
    """Each answer of the Bot API, through ``send`` and the real drain, to the outbox row's outcome."""
    bot = await make_bot(sqlite_db.url)
    cases: list[tuple[str, Callable[[int], object], str, int, timedelta | None]] = [
        # what the Bot API does,   how to make it do so,                                status, attempts, retry in
        ("429 retry_after=7", lambda _: fake.fail_next("sendMessage", 429, retry_after=7), "pending", 0,
         timedelta(seconds=7)),
        ("400 chat not found", lambda _: fake.fail_next("sendMessage", 400, description="Bad Request: chat not found"),
         "dead", 0, None),
        ("403 blocked", fake.block, "skipped", 0, None),
        ("502 bad gateway", lambda _: fake.fail_next("sendMessage", 502), "pending", 1, timedelta(seconds=30)),
        ("200 ok", lambda _: None, "sent", 1, None),
    ]
    for index, (answer, arrange, status, attempts, retry_in) in enumerate(cases):
        chat = 601 + index
        key = await enqueue_for(bot, chat, f"nhắc {index}")
        arrange(chat)
        await drain_once(bot.app.sessions, {"telegram": bot.channel}, RateLimiter(1e6, 0.0), clock=lambda: NOW)
        row = await outbox_row(bot, key)
        assert (row.status, row.attempts) == (status, attempts), answer
        if retry_in is not None:
            assert row.next_attempt_at == NOW + retry_in, answer
        assert await blocked_flag(bot, chat) is (answer == "403 blocked"), answer
    assert fake.sent_to(605) == ["nhắc 4"] and all(not fake.sent_to(c) for c in range(601, 605))


async def test_long_text_is_split_and_keyboard_rides_on_the_last_part(sqlite_db: Database, fake: FakeTelegram,
                                                                      make_bot: MakeBot) -> None:
    bot = await make_bot(sqlite_db.url)
    text = "\n".join(f"Thôn {i}: chưa báo cáo kết quả bầu trưởng thôn" for i in range(300))
    await bot.channel.send(str(HEAD), Reply(text, choices=[Choice("yes", "Có"), Choice("no", "Không")]))
    parts = fake.methods_called("sendMessage")
    assert len(parts) == 4 and all(len(p["text"]) <= 4096 for p in parts)
    assert "\n".join(p["text"] for p in parts) == text
    assert [("reply_markup" in p) for p in parts] == [False, False, False, True]


async def test_polling_survives_bad_gateways(sqlite_db: Database, fake: FakeTelegram, make_bot: MakeBot) -> None:
    bot = await make_bot(sqlite_db.url)
    fake.fail_next("getUpdates", 502, times=2)
    assert await User(bot).say("/trogiup") == t("help.unbound")
    assert bot.channel.running


async def test_an_unexpected_error_is_logged_and_told(sqlite_db: Database, fake: FakeTelegram, make_bot: MakeBot,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    bot = await make_bot(sqlite_db.url)

    async def broken(*_: object, **__: object) -> list[Reply]:
        raise RuntimeError("boom")

    bot.app.dialog.step_durable = broken  # type: ignore[method-assign,assignment]
    fake.user_message(HEAD, "/baucu")
    await handled(bot, 1)
    await fake.wait_for_calls("sendMessage")
    assert fake.sent_to(HEAD) == [t("common.error")]
    assert "boom" in caplog.text
    assert bot.channel.running


async def started_bot(db_url: str, fake: FakeTelegram, mode: str = "polling") -> Bot:
    """Build and start the App as ``make_bot`` does, outside the fixture: the test stops it itself."""
    app = await build(make_config(db_url, fake, mode))
    bot = Bot(app, fake, Clock(NOW))
    await start(app)  # returns even when the Bot API cannot be reached
    return bot


async def test_a_bot_api_unreachable_at_start_is_tried_again_until_the_bot_answers(
        sqlite_db: Database, fake: FakeTelegram) -> None:
    await fake.stop()  # nothing listens at the Bot API's address
    bot = await started_bot(sqlite_db.url, fake)
    try:
        assert not bot.channel.running and fake.calls == []
        head = User(bot)
        fake.user_message(HEAD, "/trogiup")  # written meanwhile: Telegram keeps it until fetched
        await fake.start()  # the Bot API is back, at the same address
        head.handled += 1
        await handled(bot, head.handled, str(HEAD))
        assert fake.sent_to(HEAD) == [t("help.unbound")]
        assert bot.channel.running and fake.calls[0][0] == "getMe"
        assert await head.say("/trogiup") == t("help.unbound")  # and it keeps answering
        assert_calls_match_spec(fake.calls)
    finally:
        await stop(bot.app)


async def test_a_bot_api_failing_at_start_is_tried_again_until_the_bot_answers(
        sqlite_db: Database, fake: FakeTelegram) -> None:
    fake.fail_next("getMe", 502, times=2)  # at start, and again at the first retry
    bot = await started_bot(sqlite_db.url, fake)
    try:
        assert not bot.channel.running and len(fake.methods_called("getMe")) == 1
        assert await User(bot).say("/trogiup") == t("help.unbound")
        assert len(fake.methods_called("getMe")) == 3  # two refused, then connected: no more tries
        assert fake.commands, "the command menu is set once connected"
        assert_calls_match_spec(fake.calls)
    finally:
        await stop(bot.app)


async def test_stop_while_the_bot_api_is_down_ends_the_retries(sqlite_db: Database, fake: FakeTelegram) -> None:
    fake.fail_next("getMe", 502, times=1000)
    before = asyncio.all_tasks()
    bot = await started_bot(sqlite_db.url, fake)
    await fake.wait_for_calls("getMe", 2)  # the retry in the background has begun
    await stop(bot.app)
    await fake.stop()  # and the fake's side of the connections with it
    left = [task for task in asyncio.all_tasks() - before if not task.done()]
    assert left == [], f"still running after stop: {left}"
    assert not bot.channel.running
