"""The Telegram channel end to end: FakeTelegram ↔ python-telegram-bot ↔ TelegramChannel ↔ the real
App, engine and database (SQLite file and PostgreSQL).

A village head binds with ``/start CODE``, reports an election (typing and tapping buttons), corrects
it, plans and holds the branch congress — through polling and through the webhook; the export then
shows the values, and every request the bot made matches the Bot API specification.
"""

from __future__ import annotations

import asyncio
import csv
import io
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.app import App, build, start, stop
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_webhook import SECRET_HEADER
from bot.config import Config
from handlers.commands import menu as registry_menu
from models.db import transaction
from models.photos.tables import ReportPhoto
from reports.export import export_csv
from tests import images
from tests.conftest import Database
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_spec import assert_calls_match_spec
from tests.handlers.chat import NOW, Province, invite, make_province
from texts.catalog import t

TOKEN = "123456789:TEST-telegram-token"
SECRET = "webhook-secret_0123456789"
HOOK = "/telegram/webhook"
HEAD = 501
HANG = 60.0  # a safety net against a hang, not a time limit on the code


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_config(db_url: str, fake: FakeTelegram, mode: str = "polling", **telegram: Any) -> Config:
    return Config.model_validate({
        "database": {"url": db_url},
        "scheduler": {"enabled": False},
        # the per-chat pace (1 msg/s) is tested on its own; here it would only make the test slow
        "telegram": {"token": TOKEN, "api_base_url": fake.base_url, "mode": mode, "poll_timeout": 5,
                     "webhook_url": "https://bot.example.vn/telegram/webhook", "webhook_secret": SECRET,
                     "chat_per_second": 1000, **telegram},
        "web": {"host": "127.0.0.1", "port": free_port(), "enabled": mode == "webhook"},
    })


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as server:
        yield server


class Bot:
    """The running App with its Telegram channel, a fixed clock and a way to deliver updates."""

    def __init__(self, app: App, fake: FakeTelegram, clock: Clock) -> None:
        self.app, self.fake, self.clock = app, fake, clock
        self.channel = app.channels["telegram"]
        assert isinstance(self.channel, TelegramChannel)
        self.channel.clock = clock
        self.mode = app.config.telegram.mode
        self.url = f"http://127.0.0.1:{app.config.web.port}{app.config.telegram.webhook_path}"

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> int:
        """Deliver ``update`` to the webhook as Telegram would; the HTTP status."""
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        async with aiohttp.ClientSession() as http, http.post(self.url, json=update, headers=headers) as resp:
            return resp.status

    async def deliver(self, update: dict[str, Any]) -> None:
        if self.mode == "webhook":
            assert await self.post(update) == 200


@pytest.fixture
async def make_bot(fake: FakeTelegram) -> AsyncIterator[Callable[..., Awaitable[Bot]]]:
    bots: list[App] = []

    async def _make(db_url: str, mode: str = "polling", **telegram: Any) -> Bot:
        app = await build(make_config(db_url, fake, mode, **telegram))
        bot = Bot(app, fake, Clock(NOW))
        await start(app)
        bots.append(app)
        return bot

    yield _make
    for app in bots:
        await stop(app)


async def handled(bot: Bot, n: int, account: str | None = None) -> None:
    """Wait until the channel has handled ``n`` updates (of ``account``)."""
    await asyncio.wait_for(bot.channel.progress.wait(n, account), HANG)


class User:
    """One Telegram user typing and tapping; each call waits until the bot handled the update."""

    def __init__(self, bot: Bot, user_id: int = HEAD) -> None:
        self.bot, self.fake, self.id = bot, bot.fake, user_id
        self.handled = 0

    async def _send(self, update: dict[str, Any]) -> list[dict[str, Any]]:
        before = len(self.fake.sent)
        await self.bot.deliver(update)
        self.handled += 1
        await handled(self.bot, self.handled, str(self.id))
        return [m for m in self.fake.sent[before:] if m["chat"]["id"] == self.id]

    async def say(self, text: str) -> str:
        update = self.fake.user_message(self.id, text)
        return "\n".join(m.get("text", "") for m in await self._send(update))

    async def tap(self, value: str) -> str:
        """Press the button ``value`` under the latest question that has one."""
        question = next(m for m in reversed(self.fake.sent) if m["chat"]["id"] == self.id
                        and value in {b["callback_data"] for row in m.get("reply_markup", {}).get(
                            "inline_keyboard", []) for b in row})
        update = self.fake.callback(self.id, value, question["message_id"])
        return "\n".join(m.get("text", "") for m in await self._send(update))

    def share_contact(self, phone: str, own: bool = True) -> dict[str, Any]:
        return self.fake.contact(self.id, phone, own=own)


async def export_row(app: App, code: str) -> dict[str, str]:
    async with transaction(app.sessions) as s:
        data = await export_csv(s, "post2025", NOW.date() + timedelta(days=30))
    return next(r for r in csv.DictReader(io.StringIO(data.decode("utf-8-sig"))) if r["village_code"] == code)


async def report_everything(bot: Bot, province: Province, head: User) -> None:
    """Bind, report, correct, plan, hold — typing some answers and tapping the others."""
    code = await invite(bot.app.sessions, province.villages[0])
    assert t("bind.ok_head", village="Thôn 1") in await head.say(f"/start {code}")
    assert t("election.ask.election_date") in await head.say("/baucu")
    await head.say("15/12/2024")
    await head.say("Nguyễn Văn An")
    assert t("election.ask.party_status") in await head.say("250 240 200 180")
    assert t("merger.ask.already_secretary") in await head.tap("member")
    assert t("election.ask.head_phone") in await head.tap("no")
    # the reply keyboard's button sends its label
    assert t("merger.summary.already_secretary", answer=t("common.no")) in await head.say(t("election.phone.skip"))
    assert t("election.receipt_first", village="Thôn 1", revision=1, time="10:00 20/12/2024") in await head.tap("send")
    # the correction: a new revision
    await head.say("/baucu")
    await head.tap("votes_for")
    assert t("election.confirm.question") in await head.say("190")
    await head.say("Có")
    # the congress: planned, then (after the date) held and merged
    await head.say("/daihoi")
    await head.tap("plan")
    await head.say("28/12/2024")
    await head.tap("yes")
    bot.clock.now = NOW + timedelta(days=9)
    await head.say("/daihoi")
    await head.tap("result")
    await head.say("28/12/2024")
    await head.tap("congress")
    await head.say("Nguyễn Văn An")
    await head.tap("yes")
    assert t("congress.result_saved_merged", village="Thôn 1") in await head.say("có")


async def check_export(bot: Bot) -> None:
    row = await export_row(bot.app, "V1")
    # the head chosen secretary, but neither the commune's recognition nor the approval recorded yet
    assert (row["status"], row["head_name"], row["votes_for"], row["valid_ballots"], row["roll"]) == (
        "merger_pending", "Nguyễn Văn An", "190", "200", "250")
    assert (row["election_date"], row["congress_planned_date"], row["congress_held_date"]) == (
        "2024-12-15", "2024-12-28", "2024-12-28")
    assert (row["head_party_status"], row["secretary_name"], row["merged"]) == ("member", "Nguyễn Văn An", "yes")


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_report_end_to_end(db: Database, fake: FakeTelegram, make_bot: Callable[..., Awaitable[Bot]],
                                 mode: str) -> None:
    bot = await make_bot(db.url, mode)
    province = await make_province(bot.app.sessions)
    head = User(bot)
    await report_everything(bot, province, head)
    await check_export(bot)
    assert_calls_match_spec(fake.calls)
    menu = next(iter(fake.commands.values()))
    assert [(c["command"], c["description"]) for c in menu] == registry_menu()
    assert "nhantonghop" in [c["command"] for c in menu]  # every command of the registry is in the menu
    assert len(fake.answered) == 9  # every tap answered
    assert all("reply_markup" not in m for m in fake.sent if "Đã chọn" in m.get("text", ""))
    if mode == "webhook":
        assert fake.webhook is not None and fake.webhook["secret_token"] == SECRET
        assert not fake.methods_called("getUpdates")


async def test_webhook_refuses_wrong_or_missing_secret(sqlite_db: Database, fake: FakeTelegram,
                                                       make_bot: Callable[..., Awaitable[Bot]]) -> None:
    bot = await make_bot(sqlite_db.url, "webhook")
    calls = len(fake.calls)
    update = fake.user_message(HEAD, "/start", push=False) | {"update_id": 99}
    assert await bot.post(update, secret="wrong-secret_0123456789") == 403
    assert await bot.post(update, secret=None) == 403
    assert await bot.post(update, secret=SECRET[:-1]) == 403
    async with aiohttp.ClientSession() as http, http.post(bot.url, data=b"not json",
                                                          headers={SECRET_HEADER: "x"}) as resp:
        assert resp.status == 403  # the body is never read
    assert bot.channel.progress.total == 0 and len(fake.calls) == calls
    async with transaction(bot.app.sessions) as s:
        from sqlalchemy import func, select

        from models.accounts.tables import ChannelAccount
        assert await s.scalar(select(func.count()).select_from(ChannelAccount)) == 0
    async with aiohttp.ClientSession() as http, http.post(bot.url, data=b"not json",
                                                          headers={SECRET_HEADER: SECRET}) as resp:
        assert resp.status == 200  # ignored and logged: Telegram would redeliver a 4xx forever


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_redelivered_update_is_handled_once(sqlite_db: Database, fake: FakeTelegram,
                                                  make_bot: Callable[..., Awaitable[Bot]], mode: str) -> None:
    bot = await make_bot(sqlite_db.url, mode)
    update = fake.user_message(HEAD, "/trogiup", push=False) | {"update_id": 41}
    if mode == "polling":
        fake.push_update(update)
        fake.push_update(dict(update))  # the same update twice in one batch
    else:
        assert await bot.post(update) == 200
        assert await bot.post(update) == 200
    await handled(bot, 1, str(HEAD))
    await bot.channel.intake.idle()  # the copy is skipped, or recognised as handled (nothing unsent to resend)
    assert len(fake.sent_to(HEAD)) == 1
    assert fake.sent_to(HEAD) == [t("help.unbound")]


async def test_contact_and_unsupported_messages(sqlite_db: Database, fake: FakeTelegram,
                                                make_bot: Callable[..., Awaitable[Bot]]) -> None:
    bot = await make_bot(sqlite_db.url)
    province = await make_province(bot.app.sessions)
    head = User(bot)
    await head.say(f"/start {await invite(bot.app.sessions, province.villages[1])}")
    for own, expected in ((False, t("telegram.not_own_contact")), (True, t("bind.phone_saved", phone="0912345678"))):
        before = len(fake.sent)
        head.share_contact("+84912345678", own=own)
        head.handled += 1
        await handled(bot, head.handled, str(HEAD))
        assert [m["text"] for m in fake.sent[before:]] == [expected]
        assert fake.methods_called("sendMessage")[-1]["reply_markup"] == {"remove_keyboard": True}
    fake.push_update({"message": fake.incoming(HEAD, location={"latitude": 21.0, "longitude": 107.1})})
    head.handled += 1
    await handled(bot, head.handled, str(HEAD))
    assert fake.sent_to(HEAD)[-1] == t("telegram.unsupported")
    assert_calls_match_spec(fake.calls)


PHOTO = images.jpeg(80, 60)  # a real JPEG: it is decoded and re-encoded before it is kept


async def test_a_photo_during_the_report_is_fetched_and_attached(sqlite_db: Database, fake: FakeTelegram,
                                                                 make_bot: Callable[..., Awaitable[Bot]]) -> None:
    bot = await make_bot(sqlite_db.url)
    province = await make_province(bot.app.sessions)
    head = User(bot)
    await head.say(f"/start {await invite(bot.app.sessions, province.villages[0])}")
    await head.say("/baucu")
    await head.say("15/12/2024")
    fake.user_photo(HEAD, PHOTO, served=False)  # the file cannot be fetched
    head.handled += 1
    await handled(bot, head.handled, str(HEAD))
    assert fake.sent_to(HEAD)[-1] == t("photo.download_failed")
    before = len(fake.sent)
    fake.user_photo(HEAD, PHOTO)
    head.handled += 1
    await handled(bot, head.handled, str(HEAD))
    texts = [m["text"] for m in fake.sent[before:]]
    assert texts[0].startswith(t("photo.saved_election", village="Thôn 1"))
    assert texts[-1].endswith(t("election.ask.head_name"))  # the question in progress, asked again
    assert fake.methods_called("getFile")[-1]["file_id"].startswith("ph")
    await head.say("Lê Thị Hoa")
    assert t("election.ask.party_status") in await head.say("350 330 320 301")
    async with bot.app.sessions() as s:
        photos = (await s.execute(select(ReportPhoto))).scalars().all()
    assert [(p.village_id, p.kind, p.mime_type, images.decoded(p.content)) for p in photos] == [
        (province.village_ids[0], "election", "image/jpeg", ("JPEG", (80, 60)))]
    png = images.png(30, 20)
    fake.user_image_file(HEAD, png)  # an image sent as a file: taken the same way
    head.handled += 1
    await handled(bot, head.handled, str(HEAD))
    assert t("photo.saved_election", village="Thôn 1") in "\n".join(fake.sent_to(HEAD)[-2:])
    async with bot.app.sessions() as s:
        stored = (await s.execute(select(ReportPhoto.content).order_by(ReportPhoto.id))).scalars().all()  # type: ignore[arg-type]
    assert [images.decoded(c) for c in stored] == [("JPEG", (80, 60)), ("PNG", (30, 20))]
    assert_calls_match_spec(fake.calls)


async def test_a_question_that_cannot_be_closed_does_not_hold_the_answer_back(
        sqlite_db: Database, fake: FakeTelegram, make_bot: Callable[..., Awaitable[Bot]]) -> None:
    """Taking the buttons off the answered question is cosmetic: Telegram failing it (a 502 here) costs
    the head nothing, the next question still comes."""
    bot = await make_bot(sqlite_db.url)
    province = await make_province(bot.app.sessions)
    head = User(bot)
    code = await invite(bot.app.sessions, province.villages[0])
    await head.say(f"/start {code}")
    await head.say("/baucu")
    await head.say("15/12/2024")
    await head.say("Nguyễn Văn An")
    assert t("election.ask.party_status") in await head.say("250 240 200 180")
    fake.fail_next("editMessageText", status=502)
    fake.fail_next("editMessageReplyMarkup", status=502)
    assert t("merger.ask.already_secretary") in await head.tap("member")
