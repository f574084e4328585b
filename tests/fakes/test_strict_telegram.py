"""The Telegram stand-in refuses what the real Bot API refuses (one test per rule), through the real
python-telegram-bot client, so a bot that passes against the fake does not fail in production."""

from __future__ import annotations

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_spec import check_types
from tests.fakes.test_fakes import USER
from tests.fakes.test_fakes import bot as bot  # the fixtures, shared (every call checked against the spec)
from tests.fakes.test_fakes import fake as fake


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Có", callback_data=data)]])


async def test_callback_data_over_64_bytes_is_refused(bot: Bot, fake: FakeTelegram) -> None:
    await bot.send_message(USER, "ok", reply_markup=keyboard("x" * 64))
    await bot.send_message(USER, "ok", reply_markup=keyboard("ễ" * 21))  # 63 bytes
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "no", reply_markup=keyboard("ễ" * 22))  # 22 characters, 66 bytes
    assert fake.sent_to(USER) == ["ok", "ok"]


async def test_text_over_4096_utf16_units_is_refused(bot: Bot, fake: FakeTelegram) -> None:
    await bot.send_message(USER, "a" * 4096)
    await bot.send_message(USER, "😀" * 2048)  # 4,096 UTF-16 units
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER, "😀" * 4096)  # 4,096 characters but 8,192 units
    sent = await bot.send_message(USER, "câu hỏi")
    with pytest.raises(BadRequest, match=r"(?i)MESSAGE_TOO_LONG"):
        await bot.edit_message_text("😀" * 2049, chat_id=USER, message_id=sent.message_id)


async def test_caption_over_1024_is_refused(bot: Bot, fake: FakeTelegram) -> None:
    await bot.send_document(USER, b"x", filename="a.xlsx", caption="c" * 1024)
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_document(USER, b"x", filename="a.xlsx", caption="😀" * 513)
    assert len(fake.documents) == 2 and len(fake.sent) == 1  # the upload is read, the message refused


@pytest.mark.parametrize("port", [8080, 3000, 8443 + 1])
async def test_webhook_only_on_ports_443_80_88_8443(bot: Bot, fake: FakeTelegram, port: int) -> None:
    with pytest.raises(BadRequest, match=r"(?i)ports 80, 88, 443 or 8443"):
        await bot.set_webhook(f"https://bot.example.vn:{port}/tg")
    assert fake.webhook is None
    for ok in (443, 80, 88, 8443):
        assert await bot.set_webhook(f"https://bot.example.vn:{ok}/tg") is True
    assert await bot.set_webhook("https://bot.example.vn/tg") is True  # 443 implied


async def test_max_connections_1_to_100(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)max_connections"):
        await bot.set_webhook("https://bot.example.vn/tg", max_connections=101)


@pytest.mark.filterwarnings("ignore:Please use 'Bot.sendMessage'")
async def test_values_of_the_wrong_type_are_refused(bot: Bot, fake: FakeTelegram) -> None:
    with pytest.raises(BadRequest, match=r"(?i)expected Integer"):
        await bot.do_api_request("sendMessage", api_kwargs={"chat_id": USER, "text": "x", "message_thread_id": "a"})
    with pytest.raises(BadRequest, match=r"(?i)InlineKeyboardButton has no field 'callback'"):
        await bot.do_api_request("sendMessage", api_kwargs={
            "chat_id": USER, "text": "x", "reply_markup": {"inline_keyboard": [[{"text": "a", "callback": "b"}]]}})
    assert fake.sent == []


def test_check_types_follows_the_spec() -> None:
    markup = {"inline_keyboard": [[{"text": "Có", "callback_data": "yes"}]]}
    assert check_types("sendMessage", {"chat_id": 1, "text": "x", "reply_markup": markup}) == []
    assert check_types("sendMessage", {"chat_id": "@chan", "text": "x", "disable_notification": True}) == []
    assert check_types("sendMessage", {"chat_id": 1.5, "text": "x"}) == [
        "sendMessage.chat_id: expected Integer, got float"]
    assert check_types("sendMessage", {"chat_id": 1, "text": "x", "disable_notification": "yes"}) == [
        "sendMessage.disable_notification: expected Boolean, got str"]
    assert check_types("sendMessage", {"chat_id": 1, "text": "x", "reply_markup": {"inline_keyboard": [{}]}})


async def test_empty_button_text_and_long_callback_answer_are_refused(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)text buttons"):
        await bot.send_message(USER, "x", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(" ", callback_data="a")]]))
    with pytest.raises(BadRequest, match=r"(?i)MESSAGE_TOO_LONG"):
        await bot.answer_callback_query("1", text="x" * 201)
