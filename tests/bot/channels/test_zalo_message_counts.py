"""How many messages a village head sends over Zalo (every answer typed: choices by their number),
from ``/baucu`` to the receipt: at most nine, whether the vote-count record is typed in one message or
question by question (two numbers each)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from bot.app import stop
from models.accounts.people import create_invite
from models.db import transaction
from tests.bot.channels.test_zalo import TZ, Head, make_config, running_app, vn
from tests.bot.channels.test_zalo import fake as fake  # the fixture, shared
from tests.conftest import Database
from tests.fakes.zalo_api import FakeZalo
from tests.handlers.chat import make_province
from texts.catalog import t

RECORD = {"in one message": ["350 330 320 301"], "question by question": ["350 330", "320 301"]}


class Counted(Head):
    """A Zalo head whose messages are counted."""

    sent = 0

    async def say(self, text: str) -> str:
        self.sent += 1
        return await super().say(text)


async def test_an_election_report_takes_at_most_nine_messages(sqlite_db: Database, tmp_path: Path,
                                                              fake: FakeZalo) -> None:
    app = await running_app(make_config(sqlite_db.url, tmp_path, fake))
    try:
        province = await make_province(app.sessions)
        elected = vn(datetime.now(TZ).date() - timedelta(days=5))
        counts: dict[str, int] = {}
        for i, (path, record) in enumerate(RECORD.items()):
            async with transaction(app.sessions) as s:
                code = (await create_invite(s, province.villages[i], "village_head", datetime.now(TZ))).code
            head = Counted(app, fake, user=f"head-{i}")
            assert f"Thôn {i + 1}" in await head.say(code)
            head.sent = 0
            assert t("election.ask.election_date") in await head.say("/baucu")
            await head.say(elected)
            answer = await head.say("Nguyễn Văn An")
            assert t("election.ask.pair.roll") in answer
            for part in record:
                answer = await head.say(part)
                assert part != "350 330" or t("election.ask.pair.valid_ballots") in answer
            assert "1. Đảng viên chính thức" in answer
            assert "bí thư chi bộ" in await head.say("1")  # a full member
            assert "1. Bỏ qua" in await head.say("1")  # already the branch secretary; the phone is optional
            assert "3. Hủy, không lưu" in await head.say("1")  # no phone; the summary to confirm
            assert f"Đã lưu kết quả bầu trưởng thôn của Thôn {i + 1}" in await head.say("1")
            counts[path] = head.sent
        assert counts == {"in one message": 8, "question by question": 9}
    finally:
        await stop(app)
