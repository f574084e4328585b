"""The giao ban loop as a Zalo user sees it: numbered choices answered by typing the number, and the
briefing pack (up to 4,096 characters) split into messages under Zalo's 2,000, nothing lost."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.channels.zalo_client import TEXT_LIMIT
from bot.channels.zalo_render import texts
from handlers.messages import Reply
from models.db import transaction
from models.election.reports import Actor
from models.giaoban.meetings import get_meeting, schedule_meeting
from models.giaoban.pack import build_pack
from models.giaoban.reports import get_report, save_report
from models.giaoban.rules import GiaobanRules
from models.giaoban.tables import FIELDS
from models.reminders.rules import Rules
from reports.giaoban_text import render_pack
from tests.conftest import Database
from tests.handlers.chat import Chat, invite, make_engine, make_province
from texts.catalog import t

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2024, 12, 20, 3, tzinfo=UTC)


async def test_a_zalo_head_reports_by_numbers_and_the_pack_is_split(sqlite_db: Database) -> None:
    db = sqlite_db
    p = await make_province(db.sessions)
    async with transaction(db.sessions) as s:
        meeting = await schedule_meeting(s, p.communes[0], datetime(2024, 12, 21, 1, tzinfo=UTC), "Hội trường", NOW)
    chat = Chat(make_engine(db.sessions), "zalo-1", channel="zalo")
    await chat.send(await invite(db.sessions, p.villages[0]), at=NOW)  # on Zalo the code is typed as it is
    await chat.send("/giaoban", at=NOW)
    shown = "\n".join(o.text for r in chat.replies for o in texts(r))
    assert "1. " + t("gb.attend.yes") in shown and "2. " + t("gb.attend.no") in shown
    await chat.send("2")
    assert chat.text == t("gb.attend.ask_reason")
    await chat.send("Đi tập huấn ở huyện")
    assert t("gb.attend.saved_no", village="Thôn 1", when="08:00 21/12/2024", reason="Đi tập huấn ở huyện") in chat.text
    await chat.send("2")  # everything in one message, which the phone sends in two parts
    first, second = "Kinh tế: thu hoạch xong. " * 70, "An ninh: ổn định. Kiến nghị: sửa đường. " * 20
    await chat.send(first.strip())
    await chat.send(second.strip())
    assert t("gb.report.whole_more") in chat.text
    await chat.send("1")
    assert chat.text.startswith("Đã nhận báo cáo giao ban của Thôn 1 (lần 1)")
    async with db.sessions() as s:
        report = await get_report(s, meeting.id, p.village_ids[0])
    assert report is not None and report.answers == {"whole": first.strip() + "\n" + second.strip()}

    async with transaction(db.sessions) as s:
        for v in p.villages[:2]:
            assert v.id is not None
            await save_report(s, meeting, v.id, {k: f"{t(f'gb.field.{k}')} — nhiều việc cần báo cáo. " * 12
                                                 for k in FIELDS}, Actor(None, "zalo"), NOW, GiaobanRules())
        view = await get_meeting(s, meeting.id)  # type: ignore[arg-type]
        assert view is not None
        pack = await build_pack(s, view, Rules(election_date=date(2024, 12, 15)), date(2024, 12, 20))
    text = render_pack(pack, TZ, link="https://bot.example/x")
    parts = [o.text for o in texts(Reply(text))]
    assert TEXT_LIMIT < len(text) <= 4096 and text.endswith("https://bot.example/x")
    assert len(parts) >= 2 and all(len(x) <= TEXT_LIMIT for x in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())  # split at line ends and spaces only
