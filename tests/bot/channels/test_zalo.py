"""The Zalo channel end to end: FakeZalo ↔ ZaloClient ↔ ZaloChannel ↔ the real App, engine and DB.

A village head binds by typing the invite code, reports an election, corrects it, plans and holds the
branch congress — all by typed answers (numbers, labels without diacritics) — through polling and
through the webhook; the export shows the values. The helpers here are shared by the other
``test_zalo_*`` modules.
"""

from __future__ import annotations

import asyncio
import csv
import io
import socket
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from openpyxl import load_workbook

from bot.app import App, build, start, stop
from bot.channels.zalo import ZaloChannel
from bot.config import Config
from handlers.messages import Incoming
from models.accounts.people import create_invite
from models.db import transaction
from models.delivery import inbox
from models.units.tables import Unit
from models.units.tree import add_unit
from reports.export import export_csv
from tests.conftest import Database
from tests.fakes.zalo_api import FakeZalo
from tests.waiting import until

TOKEN = "1459232241454:SeCrEtZaloTokenValue0123456789"
SECRET = "webhook-secret-0123456789"
HEAD = "6ede9afa66b88fe6d6a9"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WAIT = 30.0  # a safety net against a hang, not a time limit on the code


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_config(db_url: str, tmp_path: Path, fake: FakeZalo, mode: str = "polling", **zalo: Any) -> Config:
    return Config.model_validate({
        "database": {"url": db_url},
        "scheduler": {"enabled": False},
        "zalo": {"token": TOKEN, "api_base_url": fake.base_url, "mode": mode, "poll_timeout": 1,
                 "webhook_url": "https://bot.example.vn/zalo/webhook", "webhook_secret": SECRET,
                 "files_dir": str(tmp_path / "files"), "backoff_initial": 0.02, "backoff_max": 0.2,
                 "send_attempts": 3, **zalo},
        "web": {"host": "127.0.0.1", "port": free_port(), "secret_key": "test-secret-key-zalo"},
    })


@pytest.fixture
async def fake() -> AsyncIterator[FakeZalo]:
    async with FakeZalo(token=TOKEN) as server:
        yield server


async def running_app(config: Config) -> App:
    app = await build(config)
    await start(app)
    return app


class Village:
    """The province of tests/handlers/chat.py in small: one commune, two villages."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.village: Unit | None = None
        self.commune: Unit | None = None

    async def make(self) -> Village:
        async with transaction(self.app.sessions) as s:
            p = await add_unit(s, period="post2025", code="22", level="province", name="Quảng Ninh", parent=None)
            c = self.commune = await add_unit(s, period="post2025", code="C1", level="commune", name="Hà Tu",
                                              parent=p, type="phường", full_name="Phường Hà Tu")
            self.village = await add_unit(s, period="post2025", code="V1", level="village", name="1",
                                          parent=c, type="thôn", full_name="Thôn 1")
            await add_unit(s, period="post2025", code="V2", level="village", name="2", parent=c, type="thôn",
                           full_name="Thôn 2")
        return self

    async def invite(self, role: str = "village_head") -> str:
        unit = self.village if role == "village_head" else self.commune
        assert unit is not None
        async with transaction(self.app.sessions) as s:
            return (await create_invite(s, unit, role, datetime.now(TZ))).code

    async def export(self) -> dict[str, str]:
        async with self.app.sessions() as s:
            data = await export_csv(s, "post2025", date.today())
        return next(r for r in csv.DictReader(io.StringIO(data.decode("utf-8-sig"))) if r["village_code"] == "V1")


def channel(app: App) -> ZaloChannel:
    found = app.channels["zalo"]
    assert isinstance(found, ZaloChannel)
    return found


async def settle(app: App, fake: FakeZalo, message_id: str | None = None) -> None:
    """Wait until the update was taken (polled or posted) and everything taken was handled."""
    zalo = channel(app)
    await until(lambda: not fake.updates and (message_id is None or any(
        key.endswith(f":{message_id}") for key in zalo.recent)),
                "the update was taken", WAIT)
    await zalo.idle()


class Head:
    """A village head typing on Zalo; ``via`` is "polling" or "webhook"."""

    def __init__(self, app: App, fake: FakeZalo, user: str = HEAD, via: str = "polling") -> None:
        self.app, self.fake, self.user, self.via = app, fake, user, via

    async def say(self, text: str) -> str:
        """Send one message; returns the bot's answer (all its messages, joined by blank lines)."""
        before = len(self.fake.sent_to(self.user))
        if self.via == "polling":
            update = self.fake.push_text(self.user, text, display_name="Trưởng thôn")
        else:
            update = {"event_name": "message.text.received",
                      "message": self.fake.message(self.user, "Trưởng thôn", text=text)}
            status, _ = await self.fake.deliver_webhook(webhook_url(self.app), SECRET, update, wrapped=True)
            assert status == 200
        await settle(self.app, self.fake, update["message"]["message_id"])
        return "\n\n".join(self.fake.sent_to(self.user)[before:])


def webhook_url(app: App) -> str:
    return f"http://127.0.0.1:{app.config.web.port}{app.config.zalo.webhook_path}"


def vn(d: date) -> str:
    return d.strftime("%d/%m/%Y")


async def full_report(head: Head, village: Village) -> None:
    today = datetime.now(TZ).date()
    elected, planned = today - timedelta(days=5), today + timedelta(days=10)
    assert "Thôn 1" in await head.say(await village.invite())
    assert "Cuộc bầu trưởng thôn diễn ra ngày nào" in await head.say("/baucu")
    await head.say(vn(elected))
    await head.say("Nguyễn Văn An")
    await head.say("400")
    await head.say("380")
    await head.say("350")
    party = await head.say("320")
    assert "1. Đảng viên chính thức\n2. Đảng viên dự bị" in party
    assert "Trả lời 1, 2, 3 hoặc 4." in party
    assert "bí thư chi bộ" in await head.say("1")
    assert "1. Bỏ qua" in await head.say("2")  # not the secretary already; then the phone: optional
    confirm = await head.say("0912 345 678")
    assert "Kết quả bầu trưởng thôn:" in confirm and "3. Hủy, không lưu" in confirm
    assert "Đã lưu kết quả bầu trưởng thôn của Thôn 1" in await head.say("dung, gui bao cao")
    # the correction: a new revision
    menu = await head.say("/baucu")
    assert "6. Số phiếu bầu" in menu and "Trả lời một số từ 1 đến 9." in menu
    await head.say("6")
    await head.say("330")
    assert "lần sửa thứ 2" in await head.say("1")
    # the congress: planned, then held
    assert "1. Báo ngày dự kiến đại hội" in await head.say("/daihoi")
    await head.say("bao ngay du kien dai hoi")
    assert "Đúng không?" in await head.say(vn(planned))
    assert "Đã lưu ngày dự kiến đại hội chi bộ" in await head.say("co")
    await head.say("/daihoi")
    await head.say("1")  # "Đại hội đã diễn ra – báo kết quả" comes first once a date is planned
    await head.say(vn(today))
    await head.say("1")  # chosen at a congress
    assert "có phải là trưởng thôn" in await head.say("Nguyen Van An")
    await head.say("1")
    assert "nhất thể hóa" in await head.say("co")

    row = await village.export()
    # chosen secretary, not yet recognised nor approved by the commune: not counted as merged
    assert row["status"] == "merger_pending" and row["merged"] == "yes"
    assert (row["election_date"], row["head_name"], row["head_party_status"]) == (
        elected.isoformat(), "Nguyễn Văn An", "member")
    assert (row["votes_for"], row["valid_ballots"], row["roll"]) == ("330", "350", "400")
    assert (row["congress_planned_date"], row["congress_held_date"]) == (planned.isoformat(), today.isoformat())
    assert row["secretary_name"] == "Nguyễn Văn An"


async def test_end_to_end_by_polling(db: Database, tmp_path: Path, fake: FakeZalo) -> None:
    fake.webhook = {"url": "https://old.example.vn/hook", "updated_at": 1}  # left over: polling clears it
    app = await running_app(make_config(db.url, tmp_path, fake))
    try:
        await full_report(Head(app, fake), await Village(app).make())
        assert fake.calls[0][0] == "deleteWebhook"
        assert fake.methods_called("sendChatAction"), "a typing action while the engine works"
        assert all(len(s["text"]) <= 2000 for s in fake.sent if s["method"] == "sendMessage")
    finally:
        await stop(app)


async def test_end_to_end_by_webhook(sqlite_db: Database, tmp_path: Path, fake: FakeZalo) -> None:
    app = await running_app(make_config(sqlite_db.url, tmp_path, fake, mode="webhook"))
    try:
        assert fake.webhook["url"] == "https://bot.example.vn/zalo/webhook" and fake.webhook_secret == SECRET
        await full_report(Head(app, fake, via="webhook"), await Village(app).make())
        assert not fake.methods_called("getUpdates")
    finally:
        await stop(app)


async def test_one_person_two_channels(sqlite_db: Database, tmp_path: Path, fake: FakeZalo) -> None:
    """Begun on Zalo, finished on Telegram (the same person: two invites for the same village)."""
    app = await running_app(make_config(sqlite_db.url, tmp_path, fake))
    try:
        village = await Village(app).make()
        head = Head(app, fake)
        await head.say(await village.invite())
        elected = datetime.now(TZ).date() - timedelta(days=3)

        async def telegram(text: str) -> str:
            incoming = Incoming(channel="telegram", account_id="777001", text=text, message_id=f"tg-{text}")
            return "\n".join(r.text for r in await app.dialog.step_for_web(incoming))

        assert "Thôn 1" in await telegram(f"/start {await village.invite()}")
        await head.say("/baucu")
        await head.say(vn(elected))
        await head.say("Trần Thị Bình")
        assert "có mặt" in await telegram("320")
        await telegram("310")
        await telegram("305")
        await telegram("300")
        await telegram("dang vien chinh thuc")
        await telegram("không")
        await telegram("bỏ qua")
        assert "Đã lưu kết quả" in await telegram("1")
        row = await village.export()
        assert (row["head_name"], row["votes_for"], row["roll"]) == ("Trần Thị Bình", "300", "320")
        # and back on Zalo, the same person sees the village as reported
        assert "Trần Thị Bình" in await head.say("/baucu")
    finally:
        await stop(app)


async def test_staff_get_the_export_and_the_chart_as_links(sqlite_db: Database, tmp_path: Path,
                                                           fake: FakeZalo) -> None:
    app = await running_app(make_config(sqlite_db.url, tmp_path, fake))
    try:
        village = await Village(app).make()
        staff = Head(app, fake, user="staff-0001")
        assert "Phường Hà Tu" in await staff.say(await village.invite("staff"))
        answer = await staff.say("/xuatfile")
        url = next(w for w in answer.split() if w.startswith("http://"))
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            assert response.status == 200
            rows = list(load_workbook(io.BytesIO(await response.read())).active.iter_rows(values_only=True))
        assert {"V1", "V2"} <= {cell for row in rows for cell in row}
        digest = await staff.say("/tonghop")
        assert not fake.methods_called("sendPhoto")  # no web.public_url: Zalo could not fetch a photo here
        chart = next(w for w in digest.split() if w.startswith("http://"))  # so the chart comes as a link
        async with aiohttp.ClientSession() as http, http.get(chart) as response:
            assert response.status == 200 and (await response.read()).startswith(b"\x89PNG")
    finally:
        await stop(app)


async def test_a_stop_while_getupdates_hands_over_an_update_loses_nothing(db: Database, tmp_path: Path,
                                                                         fake: FakeZalo) -> None:
    """Zalo's getUpdates has no offset: what it hands out is consumed. A stop (SIGTERM) that lands while
    a poll's answer is on its way lets the update be written down instead of cutting the poll off."""
    app = await running_app(make_config(db.url, tmp_path, fake))
    zalo = channel(app)
    get_updates = fake.handlers["getUpdates"]
    stopping: list[asyncio.Task[None]] = []

    async def handed(params: dict[str, Any]) -> Any:
        update = await get_updates(params)  # consumed from here on
        stopping.append(asyncio.create_task(zalo.stop()))
        for _ in range(5):  # the stop starts before the answer leaves
            await asyncio.sleep(0)
        return update

    fake.handlers["getUpdates"] = handed
    try:
        message = fake.message("z900", text="xin chào")
        fake.know("z900")
        fake.push_event({"event_name": "message.text.received", "message": message})
        await until(lambda: stopping and stopping[0].done(), "the stop ends")
        stopping[0].result()
        async with app.sessions() as s:
            assert await inbox.is_done(s, "zalo", f"z900:{message['message_id']}") is not None  # written down
    finally:
        await stop(app)
