"""Sending on Zalo: 429/5xx retried, nothing lost, long replies split, files as signed links,
the outbox's ``send`` and its error mapping, a polling loop that survives errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.app import App, stop
from bot.delivery import RateLimiter, drain, drain_once
from bot.pipeline.errors import SendError, SendRejected, SendRetryLater
from handlers.engine import Sendable
from handlers.messages import Attachment, Choice, Incoming, Reply
from models.accounts.tables import ChannelAccount
from models.db import transaction
from models.delivery import outbox
from models.delivery.tables import OutboxMessage
from tests.bot.channels.test_zalo import HEAD, WAIT, make_config, running_app, settle
from tests.bot.channels.test_zalo import channel as zalo_channel
from tests.bot.channels.test_zalo import fake as fake  # the fixture, shared
from tests.conftest import Database
from tests.fakes.zalo_api import FakeZalo
from tests.waiting import until
from texts.catalog import t

NOW = datetime(2025, 1, 6, 2, 0, tzinfo=UTC)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
async def app(sqlite_db: Database, tmp_path: Path, fake: FakeZalo) -> AsyncIterator[App]:
    running = await running_app(make_config(sqlite_db.url, tmp_path, fake))
    fake.know(HEAD)  # as if the head had written first: Zalo answers 410 to a chat it does not know
    yield running
    await stop(running)


class LongEngine:
    """Stands in for the dialog engine: answers with one long reply."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply

    async def step_durable(self, incoming: Incoming, now: object = None, shape: object = None) -> list[Sendable]:
        return [Sendable(self.reply, None)]


async def test_a_429_is_retried_and_the_reply_arrives(app: App, fake: FakeZalo) -> None:
    fake.fail_next("sendMessage", 429)
    fake.fail_next("sendMessage", 502, html=True)
    update = fake.push_text(HEAD, "xin chào")
    await settle(app, fake, update["message"]["message_id"])
    assert fake.sent_to(HEAD) == [t("bind.how_to")]
    assert len(fake.methods_called("sendMessage")) == 3


async def test_a_reply_that_cannot_be_sent_now_goes_to_the_outbox(app: App, fake: FakeZalo) -> None:
    fake.fail_next("sendMessage", 503, times=app.config.zalo.send_attempts)
    update = fake.push_text(HEAD, "xin chào")
    await settle(app, fake, update["message"]["message_id"])
    assert fake.sent_to(HEAD) == []
    async with app.sessions() as s:
        rows = (await s.execute(select(OutboxMessage))).scalars().all()
    assert [(r.kind, r.text, r.status) for r in rows] == [("reply", t("bind.how_to"), "pending")]
    assert rows[0].key == f"reply:zalo:{HEAD}:{update['message']['message_id']}:0"
    stats = await drain(app.sessions, {"zalo": zalo_channel(app)}, RateLimiter(100, 0))
    assert stats.sent == 1 and fake.sent_to(HEAD) == [t("bind.how_to")]


def long_text() -> str:
    return "\n".join(f"Dòng {i}: thôn Đồng Tâm, xã Bình Liêu báo cáo đầy đủ." for i in range(120))


async def test_a_reply_over_2000_characters_is_split_on_lines(app: App, fake: FakeZalo) -> None:
    text = long_text()
    assert len(text) > 4000
    zalo_channel(app).pipeline.engine = LongEngine(Reply(text, choices=[Choice("a", "Có"), Choice("b", "Không")]))  # type: ignore[assignment]
    update = fake.push_text(HEAD, "/trangthai")
    await settle(app, fake, update["message"]["message_id"])
    parts = fake.sent_to(HEAD)
    assert len(parts) == 4 and all(len(p) <= 2000 for p in parts)
    assert "\n".join(parts) == f"{text}\n\n1. Có\n2. Không\n{t('zalo.choices.hint_two')}"


async def test_outbox_send_splits_and_retries_later_parts_only(app: App, fake: FakeZalo) -> None:
    zalo = zalo_channel(app)
    fake.fail_next("sendMessage", 429)
    with pytest.raises(SendRetryLater):  # the first part: the outbox retries the whole message later
        await zalo.send(HEAD, Reply(long_text()))
    assert fake.sent_to(HEAD) == []
    original = fake.handlers["sendMessage"]

    async def then_429(params: dict) -> object:
        result = await original(params)
        if len(fake.sent_to(HEAD)) == 1:
            fake.fail_next("sendMessage", 429)
        return result

    fake.handlers["sendMessage"] = then_429
    await zalo.send(HEAD, Reply(long_text()))  # a 429 on the second part is retried inside send
    parts = fake.sent_to(HEAD)
    assert len(parts) == 4 and "\n".join(parts) == long_text()
    assert len(fake.methods_called("sendMessage")) == 6


async def test_outbox_send_error_mapping(app: App, fake: FakeZalo) -> None:
    zalo = zalo_channel(app)
    fake.fail_next("sendMessage", 429)
    with pytest.raises(SendRetryLater) as retry:
        await zalo.send(HEAD, Reply("nhắc"))
    assert retry.value.retry_after > 0
    fake.fail_next("sendMessage", 400)
    with pytest.raises(SendRejected):
        await zalo.send(HEAD, Reply("nhắc"))
    for code in (500, 403, 401):
        fake.fail_next("sendMessage", code)
        with pytest.raises(SendError):
            await zalo.send(HEAD, Reply("nhắc"))
    await fake.stop()  # nobody listens there: a network error
    with pytest.raises(SendError):
        await zalo.send(HEAD, Reply("nhắc"))


async def enqueue_for(app: App, user: str, text: str) -> str:
    """An outbox row for a new Zalo account ``user``; its key."""
    async with transaction(app.sessions) as s:
        account = ChannelAccount(channel="zalo", external_id=user, created_at=NOW)
        s.add(account)
        await s.flush()
        assert account.id is not None
        await outbox.enqueue(s, key=f"k-{user}", kind="reminder", account_id=account.id, text=text, now=NOW)
    return f"k-{user}"


async def outbox_row(app: App, key: str) -> OutboxMessage:
    async with app.sessions() as s:
        return (await s.execute(select(OutboxMessage).where(OutboxMessage.key == key))).scalar_one()


async def test_the_outbox_drain_records_what_the_zalo_api_answered(app: App, fake: FakeZalo) -> None:
    """Each answer of the Zalo API, through ``send`` and the real drain, to the outbox row's outcome:
    a rate limit waits without using up a try, a bad request is final, anything else is tried again
    with the outbox's backoff (a reset token can be fixed, so 401 is not final)."""
    zalo = zalo_channel(app)
    later = timedelta(seconds=30)  # the drain's first backoff
    cases: list[tuple[str, Callable[[], object], str, int, timedelta | None]] = [
        # what the API does,   how to make it do so,                             status, attempts, retry in
        ("429 quota", lambda: fake.fail_next("sendMessage", 429), "pending", 0, timedelta(seconds=1)),
        ("400 bad request", lambda: fake.fail_next("sendMessage", 400), "dead", 0, None),
        ("500 server error", lambda: fake.fail_next("sendMessage", 500), "pending", 1, later),
        ("502 gateway page", lambda: fake.fail_next("sendMessage", 502, html=True), "pending", 1, later),
        ("403 internal error", lambda: fake.fail_next("sendMessage", 403), "pending", 1, later),
        ("401 token reset", lambda: fake.fail_next("sendMessage", 401), "pending", 1, later),
        ("200 ok", lambda: None, "sent", 1, None),
    ]
    for index, (answer, arrange, status, attempts, retry_in) in enumerate(cases):
        key = await enqueue_for(app, f"user-{index}", f"nhắc {index}")
        fake.know(f"user-{index}")
        arrange()
        await drain_once(app.sessions, {"zalo": zalo}, RateLimiter(1e6, 0.0), clock=lambda: NOW)
        row = await outbox_row(app, key)
        assert (row.status, row.attempts) == (status, attempts), answer
        if retry_in is not None:
            assert row.next_attempt_at == NOW + retry_in, answer
        if attempts and status == "pending":  # the channel's own mapping, not the drain's catch-all
            assert (row.last_error or "").startswith("SendError: "), (answer, row.last_error)
    assert fake.sent_to("user-6") == ["nhắc 6"] and all(not fake.sent_to(f"user-{i}") for i in range(6))
    # the API unreachable: tried again later, and sent once it is back
    key = await enqueue_for(app, "user-7", "nhắc 7")
    fake.know("user-7")
    await fake.stop()
    await drain_once(app.sessions, {"zalo": zalo}, RateLimiter(1e6, 0.0), clock=lambda: NOW)
    row = await outbox_row(app, key)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, NOW + later)
    await fake.start()
    await drain_once(app.sessions, {"zalo": zalo}, RateLimiter(1e6, 0.0), clock=lambda: NOW + later)
    assert (await outbox_row(app, key)).status == "sent" and fake.sent_to("user-7") == ["nhắc 7"]


async def get(url: str) -> tuple[int, bytes, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.read(), response.headers.get("Content-Disposition", "")


async def test_a_file_is_a_signed_link_that_downloads_the_exact_bytes(app: App, fake: FakeZalo) -> None:
    content = bytes(range(256)) * 40
    await zalo_channel(app).send(HEAD, Reply("Bảng tổng hợp:", attachment=Attachment("tien-do-C1.xlsx", content,
                                                                                      XLSX)))
    texts = fake.sent_to(HEAD)
    assert texts[0] == "Bảng tổng hợp:" and "tien-do-C1.xlsx" in texts[1]
    url = next(word for word in texts[1].split() if word.startswith("http"))
    assert url.startswith(f"http://127.0.0.1:{app.config.web.port}/files/")
    status, body, disposition = await get(url)
    assert status == 200 and body == content and "tien-do-C1.xlsx" in disposition

    token = url.rsplit("/", 1)[1]
    file_id, expires, signature = token.split(".")
    base = url.rsplit("/", 1)[0]
    for forged in (f"{file_id}.{int(expires) + 3600}.{signature}", f"{file_id[::-1]}.{expires}.{signature}",
                   f"{file_id}.{expires}.{signature[:-1]}A" if signature[-1] != "A" else f"{file_id}.{expires}.x",
                   "garbage", "../../etc/passwd"):
        assert (await get(f"{base}/{forged}"))[0] in (403, 404)
        if forged != "../../etc/passwd":
            assert (await get(f"{base}/{forged}"))[0] == 403
    files = zalo_channel(app).files
    files.clock = lambda: int(expires) + 1.0
    assert (await get(url))[0] == 404  # expired


async def test_a_png_goes_as_a_photo_or_else_as_a_link(app: App, fake: FakeZalo) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"chart" * 100
    zalo = zalo_channel(app)
    await zalo.send(HEAD, Reply("", attachment=Attachment("bieu-do.png", png, "image/png", caption="Tiến độ")))
    assert not fake.methods_called("sendPhoto")  # web.public_url unset: a loopback URL is never offered
    assert "bieu-do.png" in fake.sent_to(HEAD)[-1] and "http://127.0.0.1" in fake.sent_to(HEAD)[-1]
    public, local = "https://bot.example.vn", zalo.files.base_url
    zalo.files.base_url = public  # as with web.public_url behind a TLS proxy
    await zalo.send(HEAD, Reply("", attachment=Attachment("bieu-do.png", png, "image/png", caption="Tiến độ")))
    [photo] = fake.methods_called("sendPhoto")
    assert photo["photo"].startswith(public + "/files/") and photo["caption"] == "Tiến độ"
    assert fake.sent[-1]["method"] == "sendPhoto"  # accepted by the (strict) stand-in
    assert (await get(photo["photo"].replace(public, local)))[1] == png
    fake.fail_next("sendPhoto", 400)
    await zalo.send(HEAD, Reply("", attachment=Attachment("bieu-do.png", png, "image/png")))
    assert "bieu-do.png" in fake.sent_to(HEAD)[-1] and "/files/" in fake.sent_to(HEAD)[-1]


@pytest.mark.parametrize("trouble", ["unreachable", "failing"])
async def test_the_api_down_at_start_then_up_the_bot_answers(sqlite_db: Database, tmp_path: Path, fake: FakeZalo,
                                                              caplog: pytest.LogCaptureFixture, trouble: str) -> None:
    if trouble == "unreachable":
        await fake.stop()  # nothing listens at the API's address
    else:
        fake.fail_next("deleteWebhook", 502, html=True, times=2)
        fake.fail_next("getUpdates", 503)
    app = await running_app(make_config(sqlite_db.url, tmp_path, fake))
    try:
        await until(lambda: caplog.text.count("zalo: polling failed") >= 2, "two failed polls while the API is down")
        update = fake.push_text(HEAD, "xin chào")  # written meanwhile: Zalo keeps it until fetched
        if trouble == "unreachable":
            await fake.start()  # back, at the same address
        await settle(app, fake, update["message"]["message_id"])
        assert fake.sent_to(HEAD) == [t("bind.how_to")]
        methods = [name for name, _ in fake.calls]
        assert methods[0] == "deleteWebhook" and "sendMessage" in methods
        if trouble == "failing":
            assert methods[:5] == ["deleteWebhook"] * 3 + ["getUpdates"] * 2  # refused twice, then cleared
        second = fake.push_text(HEAD, "/trogiup")
        await settle(app, fake, second["message"]["message_id"])
        assert len(fake.sent_to(HEAD)) == 2  # and it keeps answering
    finally:
        await stop(app)


async def test_polling_survives_errors_and_stops_cleanly(app: App, fake: FakeZalo) -> None:
    await fake.wait_for_calls("getUpdates")
    fake.fail_next("getUpdates", 502, html=True)
    fake.fail_next("getUpdates", 429)
    fake.fail_next("getUpdates", 500)
    fake.fail_next("getUpdates", 400)  # e.g. a webhook set meanwhile: deleteWebhook again
    await fake.wait_for_calls("deleteWebhook", 2, timeout=WAIT)
    update = fake.push_text(HEAD, "xin chào")
    await settle(app, fake, update["message"]["message_id"])
    assert fake.sent_to(HEAD) == [t("bind.how_to")]
    zalo = zalo_channel(app)
    await zalo.stop()
    await zalo.stop()  # twice is harmless
    calls = len(fake.calls)
    late = fake.push_text(HEAD, "còn ai không?")
    assert not await zalo.accept(late)  # a stopped channel takes nothing in
    await fake.stop()  # the fake's side of the last long poll goes with it
    left = [task for task in asyncio.all_tasks() if task is not asyncio.current_task() and not task.done()
            and task.get_name() not in ("poll-lease", "file-builder", "worker-lease")]  # the App's: until it stops
    assert left == [], f"still running after stop: {left}"  # no poller, no handler, no retry
    assert len(fake.calls) == calls
