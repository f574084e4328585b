"""An invalid result counted as the law counts it, through the chat as a head types: nobody was
elected, so the summary names "the one with the most votes (not elected)", no party, secretary or
phone question is asked, /trangthai shows no head, /dangvien and /daihoi say why they cannot go on.
And "Sửa một mục" then "Không sửa gì" never throws away a report not sent yet (/baucu, /giaoban)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from handlers.engine import Engine
from models.db import transaction
from models.election.reports import get_election
from models.election.tables import ElectionReport
from models.giaoban.meetings import schedule_meeting
from models.progress.status import village_status
from tests.conftest import Database
from tests.handlers.chat import TODAY, Chat, Province, invite
from texts.catalog import t

# the majority missed: 150 of 350 on the roll
INVALID = ("15/12/2024", "Nguyễn Văn An", "350 330 320 150")


async def _head(db: Database, engine: Engine, province: Province) -> Chat:
    chat = Chat(engine)
    await chat.send(f"/start {await invite(db.sessions, province.villages[0])}")
    return chat


async def test_an_invalid_result_names_nobody_as_elected_and_asks_nothing_about_the_winner(
        db: Database, engine: Engine, province: Province) -> None:
    chat = await _head(db, engine, province)
    typed = 0
    for answer in ("/baucu", *INVALID):
        await chat.send(answer)
        typed += 1
    summary = chat.text  # straight to the summary after the counts: no party, secretary or phone question
    assert t("election.confirm.question") in summary
    assert t("election.summary.name_invalid", name="Nguyễn Văn An") in summary
    assert t("election.summary.name", name="Nguyễn Văn An") not in summary
    assert t("election.validity.invalid_summary") in summary
    for never in ("election.ask.party_status", "merger.ask.already_secretary", "election.ask.head_phone"):
        assert t(never) not in summary
    assert "party_status" not in chat.choices
    await chat.send(choice="send")
    typed += 1
    assert t("election.invalid_saved", village="Thôn 1") in chat.text
    assert typed <= 9  # the whole report, from /baucu to the receipt
    async with db.sessions() as s:
        report = await get_election(s, province.village_ids[0])
        assert report is not None and report.valid is False
        assert (report.party_status, report.head_phone, report.party_date) == ("", None, None)
        assert await village_status(s, province.village_ids[0], TODAY) == "revote_needed"
    await chat.send("/trangthai")
    assert t("statuscmd.no_head", name="Nguyễn Văn An", date="15/12/2024") in chat.text
    assert t("statuscmd.head", name="Nguyễn Văn An", party="", date="15/12/2024")[:30] not in chat.text
    await chat.send("/dangvien")
    assert chat.text == t("merger.party.refused.no_head")
    await chat.send("/daihoi")
    assert chat.text == t("congress.need_valid_election")


async def test_an_invalid_result_corrected_to_a_valid_one_asks_the_winners_questions(
        db: Database, engine: Engine, province: Province) -> None:
    chat = await _head(db, engine, province)
    for answer in ("/baucu", *INVALID):
        await chat.send(answer)
    await chat.send(choice="edit")
    assert "party_status" not in chat.choices and "head_phone" not in chat.choices
    await chat.send(choice="votes_for")
    await chat.send("301")  # a typing mistake: 301, not 150
    assert chat.text == t("election.ask.party_status")
    await chat.send(choice="non_member")
    await chat.send(choice="skip")
    assert t("election.summary.name", name="Nguyễn Văn An") in chat.text
    await chat.send(choice="send")
    async with db.sessions() as s:
        report = await get_election(s, province.village_ids[0])
        assert report is not None and report.valid is True and report.party_status == "non_member"


async def test_nothing_to_correct_goes_back_to_the_summary_of_a_report_not_sent(
        db: Database, engine: Engine, province: Province) -> None:
    chat = await _head(db, engine, province)
    for answer in ("/baucu", "15/12/2024", "Nguyễn Văn An", "350 330 320 301"):
        await chat.send(answer)
    await chat.send(choice="member")
    await chat.send(choice="no")
    await chat.send(choice="skip")
    summary = chat.text
    await chat.send(choice="edit")
    assert chat.choices[-1] == "keep" and chat.replies[-1].choices[-1].label == t("election.keep_back")
    await chat.send(choice="keep")
    assert chat.text == summary and t("election.kept") not in chat.text  # all eight answers still there
    await chat.send(choice="send")
    assert t("election.receipt_first", village="Thôn 1", revision=1, time="")[:40] in chat.text
    async with db.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(ElectionReport))).scalar_one() == 1
    # a report on file: "nothing to correct" keeps it, as before
    await chat.send("/baucu")
    await chat.send(choice="keep")
    assert chat.text == t("election.kept")


async def test_nothing_to_correct_in_a_giao_ban_report_goes_back_to_its_summary(
        db: Database, engine: Engine, province: Province) -> None:
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    starts, now = (datetime(2024, 12, d, h, tzinfo=tz).astimezone(UTC) for d, h in ((24, 8), (21, 10)))
    async with transaction(db.sessions) as s:
        await schedule_meeting(s, province.communes[0], starts, "Hội trường xã", now)
    chat = Chat(engine)
    await chat.send(f"/start {await invite(db.sessions, province.villages[0])}", at=now)
    for step in ("/giaoban", ("yes",), ("whole",), "Kinh tế ổn định, an ninh tốt, xin hỗ trợ xi măng"):
        await (chat.send(choice=step[0], at=now) if isinstance(step, tuple) else chat.send(step, at=now))
    summary = chat.text
    await chat.send(choice="fix", at=now)
    assert chat.choices == ["whole", "back"]
    await chat.send(choice="back", at=now)
    assert chat.text == summary  # the report not sent is all there
    await chat.send(choice="send", at=now)
    assert t("gb.report.saved", village="Thôn 1", revision=1, at="10:00 21/12/2024") in chat.text
