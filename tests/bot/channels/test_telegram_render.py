"""Pure parts of the Telegram channel: rendering replies, splitting texts, the rate limiter's
bookkeeping and the per-chat ordering of updates."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.channels.telegram import file_url_for
from bot.channels.telegram_limits import ChatRateLimiter
from bot.channels.telegram_render import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    chosen_label,
    coalesce,
    render,
    split_text,
    tg_len,
)
from handlers.messages import Attachment, Choice, Reply
from texts.catalog import t


@given(st.text(alphabet=st.sampled_from("aăâ bđ\n😀ệ"), max_size=12_000))
def test_split_text_keeps_every_word_within_the_limit(text: str) -> None:
    parts = split_text(text, 300)
    assert all(0 < tg_len(p) <= 300 for p in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())  # no visible character lost


def test_choices_become_an_inline_keyboard_with_values_as_callback_data() -> None:
    choices = [Choice("member", "Đảng viên chính thức"), Choice("yes", "Có"), Choice("no", "Không")]
    [out] = render(Reply("Hỏi?", choices=choices))
    assert isinstance(out.markup, InlineKeyboardMarkup)
    rows = [[(b.text, b.callback_data) for b in row] for row in out.markup.inline_keyboard]
    assert rows == [[("Đảng viên chính thức", "member")], [("Có", "yes"), ("Không", "no")]]
    assert chosen_label(out.markup, "no") == "Không" and chosen_label(out.markup, "x") is None


def test_ask_phone_and_overlong_values_use_a_reply_keyboard() -> None:
    [out] = render(Reply("Số điện thoại?", ask_phone=True, choices=[Choice("skip", "Bỏ qua")]))
    assert isinstance(out.markup, ReplyKeyboardMarkup) and out.markup.one_time_keyboard
    first, second = out.markup.keyboard
    assert first[0].text == t("telegram.share_phone") and first[0].request_contact
    assert second[0].text == "Bỏ qua" and not second[0].request_contact
    [out] = render(Reply("Chọn", choices=[Choice("x" * 65, "Dài")]))
    assert isinstance(out.markup, ReplyKeyboardMarkup) and out.markup.keyboard[0][0].text == "Dài"
    [out] = render(Reply("Đã lưu."), remove_keyboard=True)
    assert isinstance(out.markup, ReplyKeyboardRemove)


def test_attachments_take_the_text_as_caption_when_it_fits() -> None:
    doc = Attachment("bang.xlsx", b"PK")
    [out] = render(Reply("Bảng tổng hợp", attachment=doc))
    assert (out.text, out.document) == ("Bảng tổng hợp", doc)
    outs = render(Reply("x" * (CAPTION_LIMIT + 1), attachment=doc, choices=[Choice("ok", "OK")]))
    assert [o.document for o in outs] == [None, doc] and outs[1].text is None and outs[1].markup is not None
    assert render(Reply("")) == []
    assert len(render(Reply("y " * TEXT_LIMIT))) == 2


def test_file_url_is_derived_from_the_api_url() -> None:
    assert file_url_for("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_url_for("http://127.0.0.1:8081/bot/") == "http://127.0.0.1:8081/file/bot"


def test_rate_limiter_books_slots_per_chat_and_overall() -> None:
    now = [100.0]
    limiter = ChatRateLimiter(per_second=30, chat_per_second=1, chat_burst=3, clock=lambda: now[0])
    assert [limiter.reserve("1") for _ in range(3)] == [0, 0, 0]  # a short burst passes
    assert [round(limiter.reserve("1"), 3) for _ in range(2)] == [1.0, 2.0]  # then one a second
    waits = [limiter.reserve(str(chat)) for chat in range(2, 40)]  # 38 other chats at once
    assert waits[:25] == [0] * 25 and 0 < waits[-1] <= 1.0  # about 30 a second overall
    now[0] += 10
    limiter.penalise("1", 5)
    assert limiter.reserve("1") == 5


def test_plain_replies_are_joined_onto_the_next() -> None:
    ask = Reply("Ngày bầu?", choices=[Choice("yes", "Có")])
    joined = coalesce([Reply("Đã liên kết."), Reply("Các lệnh:"), ask, Reply("Sau nút")])
    assert [(r.text, [c.value for c in r.choices]) for r in joined] == [
        ("Đã liên kết.\n\nCác lệnh:\n\nNgày bầu?", ["yes"]), ("Sau nút", [])]
    assert len(coalesce([Reply("x" * 3000), Reply("y" * 3000)])) == 2
