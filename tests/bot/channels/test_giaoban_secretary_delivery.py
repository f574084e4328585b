"""The giao ban invitation delivered through the real Telegram and Zalo clients to the stand-in
servers: a branch secretary on Zalo (invited with the secretary's code) gets it and names a deputy;
the head of the same village, on Telegram, gets none; the head of a village with no secretary account
gets it, asked to pass it on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import App, build, start, stop
from bot.config import Config
from bot.delivery import RateLimiter, drain_once
from models.accounts.people import create_invite
from models.db import transaction
from models.giaoban.meetings import get_attendance, schedule_meeting
from models.giaoban.rules import GiaobanRules
from models.giaoban.sweep import sweep
from models.units.tables import Unit
from models.units.tree import add_unit
from reports.giaoban_text import renderer
from tests.bot.channels.test_telegram import Bot, Clock, User
from tests.bot.channels.test_zalo import Head, free_port
from tests.conftest import Database
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo
from texts.catalog import t
from texts.fmt import fmt_time_date

TG_TOKEN = "123456789:TEST-telegram-token"
ZALO_TOKEN = "1459232241454:SeCrEtZaloTokenValue0123456789"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeTelegram, FakeZalo]]:
    async with FakeTelegram(token=TG_TOKEN) as tg, FakeZalo(token=ZALO_TOKEN) as zalo:
        yield tg, zalo


@pytest.fixture
async def app(sqlite_db: Database, tmp_path: Path, fakes: tuple[FakeTelegram, FakeZalo]) -> AsyncIterator[App]:
    tg, zalo = fakes
    config = Config.model_validate({
        "database": {"url": sqlite_db.url},
        "scheduler": {"enabled": False},
        "telegram": {"token": TG_TOKEN, "api_base_url": tg.base_url, "mode": "polling", "poll_timeout": 1,
                     "chat_per_second": 1000},
        "zalo": {"token": ZALO_TOKEN, "api_base_url": zalo.base_url, "mode": "polling", "poll_timeout": 1,
                 "files_dir": str(tmp_path / "files")},
        "web": {"host": "127.0.0.1", "port": free_port(), "secret_key": "test-secret-key-giaoban"},
    })
    running = await build(config)
    await start(running)
    yield running
    await stop(running)


async def _invite(app: App, unit: Unit, role: str) -> str:
    async with transaction(app.sessions) as s:
        return (await create_invite(s, unit, role, datetime.now(UTC))).code


async def test_the_secretary_on_zalo_gets_the_invitation_not_the_head_on_telegram(
        app: App, fakes: tuple[FakeTelegram, FakeZalo]) -> None:
    tg, zalo = fakes
    async with transaction(app.sessions) as s:
        p = await add_unit(s, period="post2025", code="22", level="province", name="Quảng Ninh", parent=None)
        c = await add_unit(s, period="post2025", code="C1", level="commune", name="Hà Tu", parent=p,
                           type="phường", full_name="Phường Hà Tu")
        v1 = await add_unit(s, period="post2025", code="V1", level="village", name="Đồng Tâm", parent=c,
                            type="thôn", full_name="Thôn Đồng Tâm")
        v2 = await add_unit(s, period="post2025", code="V2", level="village", name="Khe Quang", parent=c,
                            type="bản", full_name="Bản Khe Quang")
    bot = Bot(app, tg, Clock(datetime.now(UTC)))
    bot.channel.clock = None  # the real time, as the Zalo channel has
    head1, head2 = User(bot, 501), User(bot, 502)
    secretary = Head(app, zalo, user="zalo-secretary-1")
    for head, village in ((head1, v1), (head2, v2)):
        answer = await head.say(f"/start {await _invite(app, village, 'village_head')}")
        assert t("bind.ok_head", village=village.full_name) in answer
    code = await _invite(app, v1, "village_secretary")
    assert t("bind.ok_secretary", village="Thôn Đồng Tâm") in await secretary.say(code)  # typed as it is on Zalo

    now = datetime.now(UTC)
    starts = (now + timedelta(days=2)).replace(microsecond=0)
    async with transaction(app.sessions) as s:
        meeting = await schedule_meeting(s, c, starts, "Hội trường xã", now)

        async def no_pack(session: object, view: object) -> str:
            return ""

        await sweep(s, GiaobanRules(), now=now, tz=TZ, render=renderer(TZ), pack_text=no_pack)
    sent_before = {501: len(tg.sent_to(501)), 502: len(tg.sent_to(502))}
    zalo_before = len(zalo.sent_to("zalo-secretary-1"))
    await drain_once(app.sessions, app.channels, RateLimiter(1e6, 0.0), clock=lambda: now)

    to_secretary = zalo.sent_to("zalo-secretary-1")[zalo_before:]
    assert t("gb.invited.secretary", village="Thôn Đồng Tâm") in to_secretary[0]  # the invitation, then the
    assert len(to_secretary) == 2 and "/giaoban" in to_secretary[1]  # report window (open two days before)
    assert tg.sent_to(501)[sent_before[501]:] == []  # the head of Thôn Đồng Tâm is not the secretary
    to_head2 = tg.sent_to(502)[sent_before[502]:]
    assert len(to_head2) == 2 and t("gb.invited.head", village="Bản Khe Quang", addr="ông/bà") in to_head2[0]

    answer = await secretary.say("Phó bí thư Nguyễn Văn An dự thay")
    assert answer == t("gb.deputy.saved", deputy="Nguyễn Văn An", village="Thôn Đồng Tâm",
                       when=fmt_time_date(starts, TZ))
    async with app.sessions() as s:
        assert meeting.id is not None and v1.id is not None
        attendance = await get_attendance(s, meeting.id, v1.id)
    assert attendance is not None and attendance.deputy == "Nguyễn Văn An"
    assert "dự thay" not in " ".join(tg.sent_to(501))
