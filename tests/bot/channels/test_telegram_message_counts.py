"""How many messages a village head sends over Telegram, from ``/baucu`` to the receipt: at most nine,
whether the vote-count record is typed in one message or question by question (two numbers each) —
counted as the updates the bot handled from that head."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.bot.channels.test_telegram import HEAD, Bot, User
from tests.bot.channels.test_telegram import fake as fake  # the fixture, shared
from tests.bot.channels.test_telegram import make_bot as make_bot  # the fixture, shared
from tests.conftest import Database
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_spec import assert_calls_match_spec
from tests.handlers.chat import invite, make_province
from texts.catalog import t

RECORD = {"in one message": ["350 330 320 301"], "question by question": ["350 330", "320 301"]}


async def test_an_election_report_takes_at_most_nine_messages(sqlite_db: Database, fake: FakeTelegram,
                                                              make_bot: Callable[..., Awaitable[Bot]]) -> None:
    bot = await make_bot(sqlite_db.url)
    province = await make_province(bot.app.sessions)
    counts: dict[str, int] = {}
    for i, (path, record) in enumerate(RECORD.items()):
        head = User(bot, HEAD + i)
        await head.say(f"/start {await invite(bot.app.sessions, province.villages[i])}")
        before = head.handled
        assert t("election.ask.election_date") in await head.say("/baucu")
        await head.say("15/12/2024")
        answer = await head.say("Nguyễn Văn An")
        assert answer.startswith(t("election.ask.pair.roll"))
        for part in record:
            answer = await head.say(part)
            assert part != "350 330" or answer.startswith(t("election.ask.pair.valid_ballots"))
        assert t("election.ask.party_status") in answer
        await head.tap("member")
        await head.tap("yes")  # already the branch secretary
        await head.say(t("election.phone.skip"))  # the reply keyboard's button sends its label
        assert f"Đã lưu kết quả bầu trưởng thôn của Thôn {i + 1}" in await head.tap("send")
        counts[path] = head.handled - before
    assert counts == {"in one message": 8, "question by question": 9}
    assert_calls_match_spec(fake.calls)
