"""ZaloClient against the fake Zalo Bot API server, and split_text's invariant."""

from __future__ import annotations

import asyncio
import logging
import unicodedata
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_aiohttp import AiohttpServer

from bot.channels.zalo_client import (
    ZaloBadRequest,
    ZaloClient,
    ZaloError,
    ZaloRetryAfter,
    ZaloServerError,
    ZaloUnauthorized,
    split_text,
)
from tests.fakes.zalo_api import FakeZalo
from tests.waiting import WAIT

TOKEN = "1459232241454:SeCrEtZaloTokenValue0123456789"
USER = "6ede9afa66b88fe6d6a9"


@pytest.fixture(params=[True, False], ids=["http-status", "http-200"])
async def fake(request: pytest.FixtureRequest) -> AsyncIterator[FakeZalo]:
    """Both ways a Zalo error may arrive: HTTP status = error_code, or HTTP 200 with ok:false."""
    async with FakeZalo(token=TOKEN, http_errors=request.param) as server:
        server.know(USER)  # as if USER had written to the bot: Zalo answers 410 to a chat it does not know
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def client(fake: FakeZalo, session: aiohttp.ClientSession) -> ZaloClient:
    return ZaloClient(TOKEN, fake.base_url, session)


async def test_get_me(client: ZaloClient, fake: FakeZalo) -> None:
    me = await client.get_me()
    assert me["id"] == fake.bot["id"] and isinstance(me["id"], str)
    assert fake.calls == [("getMe", {})]


async def test_get_updates_one_at_a_time_then_none(client: ZaloClient, fake: FakeZalo,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    fake.push_text(USER, "Xin chào")
    fake.push_unsupported(USER)
    first = await client.get_updates(timeout=1)
    assert first is not None and first["event_name"] == "message.text.received"
    message = first["message"]
    assert message["text"] == "Xin chào" and message["chat"]["id"] == USER
    assert isinstance(message["message_id"], str) and message["date"] > 10**12  # milliseconds
    second = await client.get_updates(timeout=1)
    assert second is not None and second["event_name"] == "message.unsupported.received"
    assert "text" not in second["message"]

    caplog.set_level(logging.INFO, logger="bot.channels.zalo_client")
    poll = asyncio.create_task(client.get_updates(timeout=1))
    await fake.wait_for_calls("getUpdates", 3)
    assert not poll.done()  # the server holds the empty poll open ...
    assert await poll is None  # ... and its 408 at the end is "nothing new", not an error
    assert fake.calls[-1] == ("getUpdates", {"timeout": "1"})  # a string, as documented
    assert "failed" not in caplog.text


async def test_long_poll_returns_when_an_update_arrives(client: ZaloClient, fake: FakeZalo) -> None:
    poll = asyncio.create_task(client.get_updates(timeout=3600))  # held open up to an hour ...
    await fake.wait_for_calls("getUpdates")  # ... and the server holds it now
    assert not poll.done()
    fake.push_image(USER, "https://example.org/a.jpg", caption="Biên bản")
    update = await asyncio.wait_for(poll, WAIT)  # ... but the update ends it (WAIT: a hang guard only)
    assert update is not None and update["message"]["photo_url"] == "https://example.org/a.jpg"


async def test_send_message(client: ZaloClient, fake: FakeZalo) -> None:
    result = await client.send_message(USER, "Cảm ơn trưởng thôn")
    assert isinstance(result["message_id"], str) and result["date"] > 10**12
    assert fake.sent_to(USER) == ["Cảm ơn trưởng thôn"]
    assert fake.calls[-1] == ("sendMessage", {"chat_id": USER, "text": "Cảm ơn trưởng thôn"})
    await client.send_message(USER, "x" * 2000)


async def test_too_long_or_empty_message_is_bad_request(client: ZaloClient) -> None:
    with pytest.raises(ZaloBadRequest) as excinfo:
        await client.send_message(USER, "x" * 2001)
    assert excinfo.value.error_code == 400 and not excinfo.value.retryable
    with pytest.raises(ZaloBadRequest):
        await client.send_message(USER, "")


async def test_429_is_retry_after(client: ZaloClient, fake: FakeZalo) -> None:
    fake.fail_next("sendMessage", error_code=429)
    with pytest.raises(ZaloRetryAfter) as excinfo:
        await client.send_message(USER, "một")
    assert excinfo.value.retry_after > 0 and excinfo.value.retryable
    await client.send_message(USER, "hai")
    assert fake.sent_to(USER) == ["hai"]


@pytest.mark.parametrize(("code", "html"), [(403, False), (500, False), (502, True), (503, False)])
async def test_server_side_errors_are_retryable(client: ZaloClient, fake: FakeZalo, code: int, html: bool) -> None:
    fake.fail_next("sendMessage", error_code=code, html=html)
    with pytest.raises(ZaloServerError) as excinfo:
        await client.send_message(USER, "x")
    assert excinfo.value.error_code == code and excinfo.value.retryable


async def test_network_error_and_token_never_shown(
    fake: FakeZalo, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.fail_next("sendMessage", 400, description=f"bad token {TOKEN}")
    with pytest.raises(ZaloBadRequest) as bad:
        await ZaloClient(TOKEN, fake.base_url, session).send_message(USER, "x")
    async with FakeZalo() as gone:
        dead_url = gone.base_url
    with pytest.raises(ZaloServerError) as down:
        await ZaloClient(TOKEN, dead_url, session).get_me()
    assert down.value.error_code == 0
    secret = TOKEN.partition(":")[2]
    for text in (str(bad.value), str(down.value), repr(ZaloClient(TOKEN, dead_url, session)), caplog.text):
        assert secret not in text
    assert "<token>" in str(bad.value)
    assert down.value.__cause__ is None and down.value.__suppress_context__


async def test_wrong_token_is_unauthorized(fake: FakeZalo, session: aiohttp.ClientSession) -> None:
    with pytest.raises(ZaloUnauthorized):
        await ZaloClient("1:wrong-token", fake.base_url, session).get_me()


async def test_webhook_lifecycle(client: ZaloClient, fake: FakeZalo) -> None:
    with pytest.raises(ZaloBadRequest):
        await client.set_webhook("https://bot.example.org/zalo", "short")
    with pytest.raises(ZaloBadRequest):
        await client.set_webhook("http://bot.example.org/zalo", "long-enough-secret")
    result = await client.set_webhook("https://bot.example.org/zalo", "long-enough-secret")
    assert result["url"] == "https://bot.example.org/zalo" and result["updated_at"] > 10**12
    assert (await client.get_webhook_info())["url"] == "https://bot.example.org/zalo"
    with pytest.raises(ZaloBadRequest):  # polling and a webhook exclude each other
        await client.get_updates(timeout=1)
    assert (await client.delete_webhook())["url"] == ""
    assert await client.get_updates(timeout=0) is None


async def test_photo_and_chat_action(client: ZaloClient, fake: FakeZalo) -> None:
    await client.send_photo(USER, "https://example.org/chart.png", caption="Tiến độ")
    assert fake.sent[-1]["photo"] == "https://example.org/chart.png" and fake.sent[-1]["caption"] == "Tiến độ"
    assert await client.send_chat_action(USER) is True
    assert fake.actions == [{"chat_id": USER, "action": "typing"}]
    with pytest.raises(ZaloBadRequest):
        await client.send_photo(USER, "not-a-url")


async def test_rate_limit_counts(client: ZaloClient, fake: FakeZalo) -> None:
    fake.rate_limit(per_second=2, clock=lambda: 0.0)  # time stands still: no token comes back
    outcomes = []
    for index in range(6):
        try:
            await client.send_message(USER, f"tin {index}")
            outcomes.append("ok")
        except ZaloRetryAfter:
            outcomes.append("429")
    assert outcomes == ["ok", "ok", "429", "429", "429", "429"]  # the burst of 2, then refused
    assert (fake.accepted, fake.rejected) == (2, 4)


async def test_deliver_webhook(fake: FakeZalo, aiohttp_server: AiohttpServer) -> None:
    received: list[tuple[str | None, dict]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/zalo", hook)
    server = await aiohttp_server(app)
    update = {"event_name": "message.text.received", "message": fake.message(USER, text="1")}
    assert await fake.deliver_webhook(str(server.make_url("/zalo")), "long-enough-secret", update) == (200, "ok")
    await fake.deliver_webhook(str(server.make_url("/zalo")), "s", update, wrapped=True)
    assert received == [("long-enough-secret", update), ("s", {"ok": True, "result": update})]


@pytest.mark.parametrize(("code", "html", "retryable"), [
    (400, False, False), (401, False, False), (403, False, True), (404, False, False), (429, False, True),
    (500, False, True), (502, True, True), (503, False, True),
])
async def test_every_error_answer_is_caught_as_a_zalo_error_with_its_code(
        client: ZaloClient, fake: FakeZalo, code: int, html: bool, retryable: bool) -> None:
    """The channel catches ``ZaloError`` around every call and decides on ``retryable``: whatever the
    API answers, that is what reaches it (and the call after works again)."""
    fake.fail_next("sendMessage", code, html=html)
    caught: ZaloError | None = None
    try:
        await client.send_message(USER, "x")
    except ZaloError as exc:
        caught = exc
    assert caught is not None and (caught.error_code, caught.retryable) == (code, retryable)
    await client.send_message(USER, "y")
    assert fake.sent_to(USER) == ["y"]


# --- split_text ----------------------------------------------------------------------------------


def separators(text: str, parts: list[str]) -> list[str]:
    """Check ``text.strip() == parts[0] + s1 + parts[1] + ...`` where each s_i is the whole whitespace
    run at the cut (empty only for a cut inside a word); return the s_i."""
    t, pos, seps = text.strip(), 0, []
    for index, part in enumerate(parts):
        if index:
            start = pos
            while pos < len(t) and t[pos].isspace():
                pos += 1
            seps.append(t[start:pos])
        assert t.startswith(part, pos), (t, parts)
        pos += len(part)
    assert pos == len(t)
    return seps


def check_common(text: str, parts: list[str], limit: int) -> list[str]:
    assert all(1 <= len(part) <= limit for part in parts)
    assert all(part == part.strip() for part in parts)
    assert (parts == []) == (text.strip() == "")
    return separators(text, parts)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.integers(min_value=1, max_value=40))
def test_split_text_invariant_any_text(text: str, limit: int) -> None:
    check_common(text, split_text(text, limit), limit)


WORDS = ["Quảng", "Ninh", "thôn", "trưởng", "bầu", "cử", "Nghiệm", "chi", "bộ", "Đại", "hội", "ệệệ",
         "khuyến", "nghị", "👨‍👩‍👧", "x" * 25, "a\u0301b\u0323c"]
word = st.sampled_from(WORDS).flatmap(
    lambda w: st.sampled_from([unicodedata.normalize("NFC", w), unicodedata.normalize("NFD", w)])
)
vietnamese = st.lists(st.tuples(word, st.sampled_from([" ", " ", "\n", "\n\n", ", "])), max_size=80).map(
    lambda pairs: "".join(w + sep for w, sep in pairs)
)


@settings(max_examples=300, deadline=None)
@given(vietnamese, st.integers(min_value=8, max_value=60))
def test_split_text_vietnamese_lines_and_clusters(text: str, limit: int) -> None:
    parts = split_text(text, limit)
    seps = check_common(text, parts, limit)
    if max(len(line) for line in text.strip().split("\n")) <= limit:
        assert all("\n" in sep for sep in seps)  # whole lines are never split while they fit
    for part in parts:  # no part starts with a mark or joiner: clusters stay whole (limit >= longest one)
        assert unicodedata.category(part[0]) not in ("Mn", "Mc", "Me") and part[0] != "\u200d"
        assert not part.endswith("\u200d")


def test_split_text_examples() -> None:
    assert split_text("") == [] and split_text(" \n\t ") == []
    assert split_text("  Xin chào  ") == ["Xin chào"]
    assert split_text("aaaaa\nbbbbb", 11) == ["aaaaa\nbbbbb"]
    assert split_text("aaaaa\nbbbbb\ncc", 11) == ["aaaaa\nbbbbb", "cc"]
    assert split_text("aaaaa\n\n\nbbbbb", 8) == ["aaaaa", "bbbbb"]
    assert split_text("one two three four", 9) == ["one two", "three", "four"]
    assert split_text("x" * 10, 4) == ["xxxx", "xxxx", "xx"]
    nfd = unicodedata.normalize("NFD", "Nghiệm")  # N g h i e + circumflex + dot below, m
    assert split_text(nfd, 5) == [nfd[:4], nfd[4:]]
    long_reply = "\n".join(f"{i}. Thôn Đồng Mỏ đã hoàn thành bầu cử trưởng thôn" for i in range(200))
    parts = split_text(long_reply)
    assert len(parts) > 1 and "\n".join(parts) == long_reply
    with pytest.raises(ValueError):
        split_text("x", 0)
