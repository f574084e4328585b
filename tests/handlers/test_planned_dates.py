"""Questions about a planned date give examples ahead of today (whatever today is), and a planned month
("tháng 3/2027") is a date answer — through the chat as a head types."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from handlers.engine import Engine
from models.election.reports import get_election
from tests.conftest import Database
from tests.handlers.chat import NOW, Chat, Province, invite
from texts.catalog import t
from texts.fmt import planned_examples


def _dates_in(text: str) -> list[date]:
    return [date(int(y), int(m), int(d)) for d, m, y in re.findall(r"\b(\d{2})/(\d{2})/(\d{4})\b", text)]


@pytest.mark.parametrize("days_later", [0, 400, 800])
async def test_examples_of_a_planned_date_are_ahead_of_today(db: Database, engine: Engine, province: Province,
                                                             days_later: int) -> None:
    at = NOW + timedelta(days=days_later)
    today = (at + timedelta(hours=7)).date()
    chat = Chat(engine)
    await chat.send(f"/start {await invite(db.sessions, province.villages[0])}", at=NOW)  # (the invite is fresh)
    for answer in ("/baucu", today.strftime("%d/%m/%Y"), "Nguyễn Văn An", "350 330 320 301"):
        await chat.send(answer, at=at)
    await chat.send(choice="planned", at=at)
    asked = chat.text
    assert asked == t("election.ask.party_date_planned", **planned_examples(today))
    assert _dates_in(asked) and all(d > today for d in _dates_in(asked))
    ahead = date(today.year + 1, 3, 1)
    await chat.send(f"tháng 3/{ahead.year}", at=at)  # a month is enough for a planned admission
    await chat.send(choice="skip", at=at)
    assert t("election.summary.party_date_planned", date=ahead.strftime("%d/%m/%Y")) in chat.text
    await chat.send(choice="send", at=at)
    async with db.sessions() as s:
        report = await get_election(s, province.village_ids[0])
    assert report is not None and report.admission_planned_date == ahead


async def test_the_congress_date_example_is_ahead_of_today(db: Database, engine: Engine, province: Province) -> None:
    chat = Chat(engine)
    await chat.send(f"/start {await invite(db.sessions, province.villages[0])}")
    for answer in ("/baucu", "15/12/2024", "Nguyễn Văn An", "350 330 320 301", "1", "không", "bỏ qua", "1"):
        await chat.send(answer)
    await chat.send("/daihoi")
    await chat.send(choice="plan")
    today = datetime(2024, 12, 20).date()
    assert chat.text == t("congress.ask.plan_date", **planned_examples(today))
    assert all(d > today for d in _dates_in(chat.text))
    await chat.send("tháng 2/2025")
    assert t("congress.ask.plan_confirm", date="01/02/2025") in chat.text
