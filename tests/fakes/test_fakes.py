"""The fake Telegram Bot API server, exercised by the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import warnings
from collections.abc import AsyncIterator

import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_spec import assert_calls_match_spec, check_call
from tests.waiting import WAIT

TOKEN = "123456789:TEST-token_abcdefghijklmnopqrstuvw"
USER = 4242


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as server:
        yield server
        assert_calls_match_spec(server.calls)  # every test's traffic must match the Bot API spec


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url) as client:
        yield client


async def test_get_me(bot: Bot, fake: FakeTelegram) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == "test_bot"
    assert fake.calls[0] == ("getMe", {})


async def test_wrong_token_is_rejected(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("1:wrong", base_url=fake.base_url):
            pass


async def test_send_message_with_keyboards(bot: Bot, fake: FakeTelegram) -> None:
    inline = InlineKeyboardMarkup([[InlineKeyboardButton("Có", callback_data="yes"),
                                    InlineKeyboardButton("Không", callback_data="no")]])
    sent = await bot.send_message(USER, "Thôn đã bầu trưởng thôn chưa?", reply_markup=inline)
    assert sent.text == "Thôn đã bầu trưởng thôn chưa?" and sent.chat.id == USER
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][1].callback_data == "no"

    contact = ReplyKeyboardMarkup([[KeyboardButton("Gửi số điện thoại", request_contact=True)]],
                                  resize_keyboard=True, one_time_keyboard=True)
    await bot.send_message(USER, "Xin chia sẻ số điện thoại", reply_markup=contact)

    params = fake.methods_called("sendMessage")
    assert params[0]["chat_id"] == USER  # JSON-decoded: PTB sends form fields, complex values as JSON
    assert params[0]["reply_markup"]["inline_keyboard"][0][0] == {"text": "Có", "callback_data": "yes"}
    assert params[1]["reply_markup"]["keyboard"][0][0] == {"text": "Gửi số điện thoại", "request_contact": True}
    assert params[1]["reply_markup"]["one_time_keyboard"] is True
    assert fake.sent_to(USER) == ["Thôn đã bầu trưởng thôn chưa?", "Xin chia sẻ số điện thoại"]


async def test_text_that_looks_like_json_stays_text(bot: Bot, fake: FakeTelegram) -> None:
    await bot.send_message(USER, "123")
    await bot.send_message(USER, "true")
    assert fake.sent_to(USER) == ["123", "true"]


async def test_send_document_bytes_and_photo(bot: Bot, fake: FakeTelegram) -> None:
    payload = b"PK\x03\x04 fake xlsx \x00\xff"
    message = await bot.send_document(USER, document=payload, filename="bao-cao.xlsx", caption="Báo cáo")
    assert message.document is not None and message.document.file_name == "bao-cao.xlsx"
    assert message.caption == "Báo cáo"
    [document] = fake.documents
    assert (document["filename"], document["data"]) == ("bao-cao.xlsx", payload)
    assert fake.methods_called("sendDocument")[0]["document"]["size"] == len(payload)

    photo = await bot.send_photo(USER, photo=b"\x89PNG\r\n\x1a\n...", caption="Biểu đồ")
    assert photo.photo and photo.caption == "Biểu đồ"
    assert await bot.send_chat_action(USER, "typing") is True


async def test_commands(bot: Bot, fake: FakeTelegram) -> None:
    commands = [BotCommand("start", "Bắt đầu"), BotCommand("baocao", "Gửi báo cáo")]
    assert await bot.set_my_commands(commands) is True
    assert await bot.get_my_commands() == tuple(commands)
    assert await bot.get_my_commands(language_code="en") == ()
    assert await bot.delete_my_commands() is True
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("Bad Command", "x")])


async def test_get_updates_offset_and_long_poll(bot: Bot, fake: FakeTelegram) -> None:
    fake.user_message(USER, "/start")
    sent = await bot.send_message(USER, "Chọn", reply_markup=InlineKeyboardMarkup(
        [[InlineKeyboardButton("1", callback_data="choice:1")]]))
    fake.callback(USER, "choice:1", sent.message_id)
    fake.contact(USER, "+84912345678")

    updates = await bot.get_updates(timeout=1)
    assert [u.update_id for u in updates] == [1, 2, 3]
    assert updates[0].message is not None and updates[0].message.text == "/start"
    assert updates[0].message.entities[0].type == "bot_command"
    query = updates[1].callback_query
    assert query is not None and query.data == "choice:1" and query.message.message_id == sent.message_id
    contact = updates[2].message.contact
    assert contact is not None and contact.phone_number == "+84912345678" and contact.user_id == USER

    assert await bot.get_updates(offset=4, timeout=0) == ()  # confirms 1-3
    assert fake.updates == []

    polls = len(fake.methods_called("getUpdates"))
    poll = asyncio.create_task(bot.get_updates(offset=4, timeout=3600))  # held open up to an hour ...
    await fake.wait_for_calls("getUpdates", polls + 1)  # ... and the server holds it now
    assert not poll.done()
    fake.push_update({"message": fake.user_message(USER, "muộn", push=False)["message"]})
    [late] = await asyncio.wait_for(poll, WAIT)  # ... but the update ends it (WAIT: a hang guard only)
    assert late.update_id == 4 and late.message.text == "muộn"


async def test_callback_answer_and_edits(bot: Bot, fake: FakeTelegram) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]])
    sent = await bot.send_message(USER, "Câu hỏi", reply_markup=markup)
    update = Update.de_json(fake.callback(USER, "ok", sent.message_id), bot)
    assert update.callback_query is not None
    assert await bot.answer_callback_query(update.callback_query.id, text="Đã ghi") is True
    assert fake.answered[0]["callback_query_id"] == update.callback_query.id

    edited = await bot.edit_message_text("Đã trả lời", chat_id=USER, message_id=sent.message_id)
    assert edited.text == "Đã trả lời" and edited.edit_date is not None
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("Đã trả lời", chat_id=USER, message_id=sent.message_id)
    await bot.edit_message_reply_markup(chat_id=USER, message_id=sent.message_id, reply_markup=markup)


async def test_webhook_excludes_polling(bot: Bot, fake: FakeTelegram) -> None:
    assert await bot.set_webhook("https://bot.example.org/tg", secret_token="s3cret_TOKEN-1") is True
    info = await bot.get_webhook_info()
    assert info.url == "https://bot.example.org/tg"
    assert fake.webhook is not None and fake.webhook["secret_token"] == "s3cret_TOKEN-1"
    with pytest.raises(Conflict):
        await bot.get_updates()
    with pytest.raises(BadRequest):
        await bot.set_webhook("http://insecure.example.org/tg")
    assert await bot.delete_webhook(drop_pending_updates=True) is True
    assert (await bot.get_webhook_info()).url == ""


async def test_retry_after_and_server_errors(bot: Bot, fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", status=429, retry_after=2)
    with pytest.raises(RetryAfter) as excinfo:
        await bot.send_message(USER, "một")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB 22 deprecates the int form of retry_after
        assert excinfo.value.retry_after in (2, dtm.timedelta(seconds=2))
    fake.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(USER, "hai")
    await bot.send_message(USER, "ba")
    assert fake.sent_to(USER) == ["ba"]
    assert len(fake.methods_called("sendMessage")) == 3  # failed calls are recorded too


async def test_blocked_user(bot: Bot, fake: FakeTelegram) -> None:
    fake.block(USER)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER, "Nhắc lịch")
    fake.unblock(USER)
    await bot.send_message(USER, "Nhắc lịch")


async def test_rate_limit_token_bucket(bot: Bot, fake: FakeTelegram) -> None:
    fake.rate_limit(per_second=2, clock=lambda: 0.0)  # time stands still: no token comes back
    outcomes = []
    for index in range(6):
        try:
            await bot.send_message(USER, f"tin {index}")
            outcomes.append("ok")
        except RetryAfter:
            outcomes.append("429")
    assert outcomes == ["ok", "ok", "429", "429", "429", "429"]  # the burst of 2, then refused
    assert (fake.accepted, fake.rejected) == (2, 4)
    fake.rate_limit(None)
    await bot.send_message(USER, "hết giới hạn")


async def test_application_polling_end_to_end(fake: FakeTelegram) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"Bạn nói: {update.effective_message.text}")

    app = (ApplicationBuilder().token(TOKEN).base_url(fake.base_url).base_file_url(fake.base_file_url)
           .build())
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        fake.user_message(USER, "xin chào")
        await fake.wait_for_calls("sendMessage", 1)
        await app.updater.stop()
        await app.stop()
    assert fake.sent_to(USER) == ["Bạn nói: xin chào"]


async def test_unknown_method_is_404() -> None:
    async with FakeTelegram() as server, Bot(TOKEN, base_url=server.base_url) as client:
        with pytest.raises(EndPointNotFound):
            await client.do_api_request("sendHologram", api_kwargs={"chat_id": USER})
        assert server.calls[-1] == ("sendHologram", {"chat_id": USER})
        with pytest.raises(AssertionError, match="sendHologram: unknown method"):
            assert_calls_match_spec(server.calls)


def test_check_call_reports_problems() -> None:
    assert check_call("sendMessage", {"chat_id": 1, "text": "x"}) == []
    assert check_call("sendMessage", {"chat_id": 1, "text": "x", "colour": "red"}) == [
        "sendMessage: unknown parameter 'colour'"
    ]
    assert check_call("sendMessage", {"text": "x"}) == ["sendMessage: missing required parameter 'chat_id'"]
    assert check_call("sendDocument", {"chat_id": 1}) == ["sendDocument: missing required parameter 'document'"]
    assert check_call("getMe", {}) == []
    assert check_call("sendmessage", {})[0].startswith("sendmessage: unknown method (did you mean 'sendMessage'")
    with pytest.raises(AssertionError, match="call #1: setMyCommands: missing required parameter 'commands'"):
        assert_calls_match_spec([("getMe", {}), ("setMyCommands", {})])
