"""How many messages a head sends to finish each conversation, measured through the chat on the path
the bot leads (the vote-count record in one message, as its first count question offers): an election
report stays within nine messages from the head, whatever the result."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from handlers.engine import Engine
from models.db import transaction
from models.giaoban.meetings import schedule_meeting
from models.giaoban.tasks import add_conclusion
from tests.conftest import Database
from tests.handlers.chat import Chat, Province, invite
from texts.catalog import t

Answer = str | tuple[str]  # typed text, or (a tapped choice,)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ELECTION: dict[str, list[Answer]] = {
    "member, already the secretary": ["/baucu", "15/12/2024", "Nguyễn Văn An", "350 330 320 301", ("member",),
                                      ("yes",), ("skip",), ("send",)],
    "probationary": ["/baucu", "15/12/2024", "Nguyễn Văn An", "350 330 320 301", ("probationary",), "01/06/2024",
                     "0912345678", ("send",)],
    "planned admission": ["/baucu", "15/12/2024", "Nguyễn Văn An", "350 330 320 301", ("planned",), "tháng 3/2025",
                          ("skip",), ("send",)],
    "non-member": ["/baucu", "15/12/2024", "Nguyễn Văn An", "350 330 320 301", ("non_member",), ("skip",),
                   ("send",)],
    "invalid": ["/baucu", "15/12/2024", "Nguyễn Văn An", "350 330 320 150", ("send",)],
}


async def _run(chat: Chat, answers: list[Answer], at: datetime | None = None) -> int:
    for a in answers:
        await (chat.send(choice=a[0], at=at) if isinstance(a, tuple) else chat.send(a, at=at))
    return len(answers)


async def _head(db: Database, engine: Engine, province: Province, at: datetime | None = None) -> Chat:
    chat = Chat(engine)
    await chat.send(f"/start {await invite(db.sessions, province.villages[0])}", at=at)
    return chat


@pytest.mark.parametrize("path", sorted(ELECTION))
async def test_an_election_report_takes_at_most_nine_messages(db: Database, engine: Engine, province: Province,
                                                              path: str) -> None:
    chat = await _head(db, engine, province)
    sent = await _run(chat, ELECTION[path])
    assert "Đã lưu kết quả" in chat.text or t("election.invalid_saved", village="Thôn 1") in chat.text
    assert sent <= 9 and sent == {"invalid": 5, "non-member": 7}.get(path, 8)


async def test_the_other_head_conversations_count(db: Database, engine: Engine, province: Province) -> None:
    chat = await _head(db, engine, province)
    await _run(chat, ELECTION["non-member"])
    counts = {
        "/baucu correction": await _run(chat, ["/baucu", ("votes_for",), "302", ("send",)]),
        "/dangvien": await _run(chat, ["/dangvien", ("admitted",), "19/12/2024", ("yes",)]),
        "/daihoi plan": await _run(chat, ["/daihoi", ("plan",), "28/12/2024", ("yes",)]),
        "/daihoi result": await _run(chat, ["/daihoi", ("result",), "19/12/2024", ("congress",), "Trần Văn Bình",
                                            ("other_elected",), ("yes",)]),
    }
    assert "Đã lưu kết quả đại hội chi bộ" in chat.text
    assert counts == {"/baucu correction": 4, "/dangvien": 4, "/daihoi plan": 4, "/daihoi result": 7}


async def test_the_giao_ban_conversations_count(db: Database, engine: Engine, province: Province) -> None:
    starts, now = (datetime(2024, 12, d, h, tzinfo=TZ).astimezone(UTC) for d, h in ((24, 8), (21, 10)))
    async with transaction(db.sessions) as s:
        meeting = await schedule_meeting(s, province.communes[0], starts, "Hội trường xã", now)
    chat = await _head(db, engine, province, now)
    counts = {"/thamdu": await _run(chat, ["/thamdu", ("yes",)], now),
              "/giaoban by field": await _run(chat, ["/giaoban", ("fields",), *[("nothing",)] * 5, "Xin 20 tấn xi măng",
                                                     ("send",)], now),
              "/giaoban correction": await _run(chat, ["/giaoban", ("fix",), ("requests",), "Xin 30 tấn xi măng",
                                                           ("send",)], now)}
    assert t("gb.report.saved", village="Thôn 1", revision=2, at="10:00 21/12/2024") in chat.text
    after = datetime(2024, 12, 24, 10, tzinfo=TZ).astimezone(UTC)
    async with transaction(db.sessions) as s:
        await add_conclusion(s, meeting, "Sửa cống thoát nước", due=date(2024, 12, 27),
                             village_ids=[province.village_ids[0]], by="canbo1", now=after, today=date(2024, 12, 24))
    counts["/nhiemvu done"] = await _run(chat, ["/nhiemvu", "1", ("done",), "Đã sửa xong"], after)
    assert chat.text == t("gb.tasks.done_saved", text="Sửa cống thoát nước")
    assert counts == {"/thamdu": 2, "/giaoban by field": 9, "/giaoban correction": 5, "/nhiemvu done": 4}
