"""The Zalo stand-in refuses what the real Zalo Bot API refuses and answers the way it answers
(``tests/data/zalo-bot-api/NOTES.md``), one test per rule; raw HTTP where the wire matters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes.zalo_api import CHAT_GONE, FakeZalo

TOKEN = "1459232241454:SeCrEtZaloTokenValue0123456789"
USER = "6ede9afa66b88fe6d6a9"


@pytest.fixture
async def fake() -> AsyncIterator[FakeZalo]:
    async with FakeZalo(token=TOKEN) as server:
        yield server


async def call(fake: FakeZalo, method: str, body: dict[str, Any] | None = None,
               token: str = TOKEN) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.post(
            f"{fake.base_url}/bot{token}/{method}", json=body or {}) as response:
        return response.status, await response.json()


async def test_errors_are_http_200_with_ok_false_and_a_code(fake: FakeZalo) -> None:
    assert await call(fake, "getMe", token="1:wrong") == (
        200, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    status, body = await call(fake, "getUpdates", {"timeout": "0"})
    assert (status, body["ok"], body["error_code"]) == (200, False, 408)  # an empty poll
    status, body = await call(fake, "sendHologram")
    assert (status, body["error_code"]) == (200, 404)


async def test_a_chat_that_never_wrote_is_410(fake: FakeZalo) -> None:
    assert await call(fake, "sendMessage", {"chat_id": USER, "text": "xin chào"}) == (
        200, {"ok": False, "error_code": 410, "description": CHAT_GONE})
    fake.push_text(USER, "chào bot")
    _, body = await call(fake, "sendMessage", {"chat_id": USER, "text": "xin chào"})
    assert body["ok"] is True and set(body["result"]) == {"message_id", "date"}
    fake.gone(USER)
    assert (await call(fake, "sendMessage", {"chat_id": USER, "text": "x"}))[1]["error_code"] == 410


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/files/a.png", "https://127.0.0.1/a.png",
                                 "https://localhost/a.png", "https://10.0.0.5/a.png", "https://[::1]/a.png",
                                 "http://bot.example.vn/a.png", "not-a-url"])
async def test_send_photo_takes_a_public_https_url_only(fake: FakeZalo, url: str) -> None:
    fake.know(USER)
    status, body = await call(fake, "sendPhoto", {"chat_id": USER, "photo": url})
    assert (status, body["ok"], body["error_code"]) == (200, False, 400)
    ok = await call(fake, "sendPhoto", {"chat_id": USER, "photo": "https://bot.example.vn/files/a.png"})
    assert ok[1]["ok"] is True


async def test_chat_action_answers_ok_without_a_result(fake: FakeZalo) -> None:
    fake.know(USER)
    assert await call(fake, "sendChatAction", {"chat_id": USER, "action": "typing"}) == (200, {"ok": True})


async def test_text_and_caption_are_1_to_2000_characters(fake: FakeZalo) -> None:
    fake.know(USER)
    for text in ("", "x" * 2001, None):
        assert (await call(fake, "sendMessage", {"chat_id": USER, "text": text}))[1]["error_code"] == 400
    assert (await call(fake, "sendMessage", {"chat_id": USER, "text": "x" * 2000}))[1]["ok"] is True
    photo = {"chat_id": USER, "photo": "https://bot.example.vn/a.png", "caption": "c" * 2001}
    assert (await call(fake, "sendPhoto", photo))[1]["error_code"] == 400


async def test_set_webhook_wants_public_https_and_an_8_to_256_char_secret(fake: FakeZalo) -> None:
    for url, secret in (("http://bot.example.vn/z", "long-enough"), ("https://127.0.0.1/z", "long-enough"),
                        ("https://bot.example.vn/z", "short"), ("https://bot.example.vn/z", "s" * 257)):
        assert (await call(fake, "setWebhook", {"url": url, "secret_token": secret}))[1]["error_code"] == 400
    assert fake.webhook["url"] == ""
    _, body = await call(fake, "setWebhook", {"url": "https://bot.example.vn/z", "secret_token": "long-enough"})
    assert body["ok"] is True and fake.webhook_secret == "long-enough"
    assert (await call(fake, "getUpdates", {"timeout": "0"}))[1]["error_code"] == 400  # webhook active


async def test_events_carry_the_observed_fields(fake: FakeZalo) -> None:
    image = fake.push_image(USER, "https://photo-stal-22.zdn.vn/no/jpg/a.jpg")["message"]
    assert (image["photo_url"], image["message_type"], image["caption"]) == (
        "https://photo-stal-22.zdn.vn/no/jpg/a.jpg", "CHAT_PHOTO", "")
    assert "photo" not in image
    voice = fake.push_voice(USER)
    assert voice["event_name"] == "message.voice.received" and voice["message"]["message_type"] == "CHAT_VOICE"
    assert voice["message"]["voice_url"].startswith("https://")
    sticker = fake.push_sticker(USER)["message"]
    assert sticker["message_type"] == "CHAT_STICKER" and sticker["url"].startswith("https://")


async def test_an_empty_ok_true_poll_can_be_arranged(fake: FakeZalo) -> None:
    fake.empty_ok_polls(1)
    fake.push_text(USER, "x")
    assert await call(fake, "getUpdates", {"timeout": "30"}) == (200, {"ok": True})  # at once, no result
    assert (await call(fake, "getUpdates", {"timeout": "30"}))[1]["result"]["message"]["text"] == "x"


async def test_http_errors_mode_answers_the_code_as_status() -> None:
    async with FakeZalo(token=TOKEN, http_errors=True) as proxied:
        status, body = await call(proxied, "getMe", token="1:wrong")
    assert (status, body["error_code"]) == (401, 401)
