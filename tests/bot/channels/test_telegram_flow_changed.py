"""A conversation stored by an older version of a flow (a step renamed since) over Telegram: the head
is told politely and the report begins again, instead of "hệ thống đang gặp sự cố" on every message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select, update

from models.db import transaction
from models.dialog.tables import ConversationState
from tests.bot.channels.test_telegram import Bot, User
from tests.bot.channels.test_telegram import fake as fake  # the fixture, shared
from tests.bot.channels.test_telegram import make_bot as make_bot  # the fixture, shared
from tests.conftest import Database
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_spec import assert_calls_match_spec
from tests.handlers.chat import invite, make_province
from texts.catalog import t


async def test_a_renamed_step_is_begun_again_not_an_error(db: Database, fake: FakeTelegram,
                                                          make_bot: Callable[..., Awaitable[Bot]]) -> None:
    bot = await make_bot(db.url)
    province = await make_province(bot.app.sessions)
    head = User(bot)
    await head.say(f"/start {await invite(bot.app.sessions, province.villages[0])}")
    await head.say("/baucu")
    assert t("election.ask.head_name") in await head.say("15/12/2024")
    async with transaction(bot.app.sessions) as s:  # the step was renamed by a deployment in between
        await s.execute(update(ConversationState).values(step="ten_truong_thon"))
    answer = await head.say("Nguyễn Văn An")
    assert t("common.flow_changed") in answer and t("common.error") not in answer
    assert answer.endswith(t("election.ask.election_date"))
    assert t("election.ask.head_name") in await head.say("15/12/2024")  # and the report goes on from there
    assert t("election.ask.pair.roll") in await head.say("Nguyễn Văn An")
    async with bot.app.sessions() as s:
        assert [(r.flow, r.step) for r in (await s.execute(select(ConversationState))).scalars()] == [
            ("election", "roll")]
    assert_calls_match_spec(fake.calls)
