"""How many messages a head sends to finish each conversation, from the command to the receipt,
measured through the chat: an election report stays within nine messages from the head, whatever the
result, whether the vote-count record is typed in one message (as its first count question offers) or
question by question (two numbers a question)."""

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
# the vote-count record: in one message (as the first count question offers), or question by question
# (two numbers each), or — a slow typist's way, still taken — one number per message
COUNTS: dict[str, dict[str, list[Answer]]] = {
    "valid": {"in one message": ["350 330 320 301"], "question by question": ["350 330", "320 301"],
              "one number per message": ["350", "330", "320", "301"]},
    "invalid": {"in one message": ["350 330 320 150"], "question by question": ["350 330", "320 150"],
                "one number per message": ["350", "330", "320", "150"]},
}
# after the record: about the winner (nothing when nobody was elected), then the confirmation
AFTER: dict[str, list[Answer]] = {
    "member, already the secretary": [("member",), ("yes",), ("skip",), ("send",)],
    "probationary": [("probationary",), "01/06/2024", "0912345678", ("send",)],
    "planned admission": [("planned",), "tháng 3/2025", ("skip",), ("send",)],
    "non-member": [("non_member",), ("skip",), ("send",)],
    "invalid": [("send",)],
}
PATHS = [(after, counts) for after in sorted(AFTER) for counts in ("in one message", "question by question")]


def election(after: str, counts: str) -> list[Answer]:
    record = COUNTS["invalid" if after == "invalid" else "valid"][counts]
    return ["/baucu", "15/12/2024", "Nguyễn Văn An", *record, *AFTER[after]]


async def _run(chat: Chat, answers: list[Answer], at: datetime | None = None) -> int:
    for a in answers:
        await (chat.send(choice=a[0], at=at) if isinstance(a, tuple) else chat.send(a, at=at))
    return len(answers)


async def _head(db: Database, engine: Engine, province: Province, at: datetime | None = None) -> Chat:
    chat = Chat(engine)
    await chat.send(f"/start {await invite(db.sessions, province.villages[0])}", at=at)
    return chat


def _saved(chat: Chat) -> bool:
    return "Đã lưu kết quả" in chat.text or t("election.invalid_saved", village="Thôn 1") in chat.text


@pytest.mark.parametrize(("after", "counts"), PATHS)
async def test_an_election_report_takes_at_most_nine_messages(db: Database, engine: Engine, province: Province,
                                                              after: str, counts: str) -> None:
    chat = await _head(db, engine, province)
    sent = await _run(chat, election(after, counts))
    assert _saved(chat)
    by_question = counts == "question by question"
    assert sent <= 9 and sent == {"invalid": 5, "non-member": 7}.get(after, 8) + by_question


@pytest.mark.parametrize("after", sorted(AFTER))
async def test_one_number_per_message_is_taken_too(db: Database, engine: Engine, province: Province,
                                                   after: str) -> None:
    """The slow typist's way: each question of two numbers takes them one at a time (two more messages
    than question by question — the only path above nine, and the head's own choice)."""
    chat = await _head(db, engine, province)
    sent = await _run(chat, election(after, "one number per message"))
    assert _saved(chat)
    assert sent == {"invalid": 8, "non-member": 10}.get(after, 11)


async def test_the_other_head_conversations_count(db: Database, engine: Engine, province: Province) -> None:
    chat = await _head(db, engine, province)
    await _run(chat, election("non-member", "in one message"))
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
