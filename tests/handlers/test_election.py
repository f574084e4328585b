"""``/baucu`` end to end at the engine: happy path, every kind of wrong answer, corrections, /huy, expiry."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from handlers.engine import Engine, expire_conversations
from handlers.flow import MAX_WRONG
from models.dialog.tables import ConversationState
from models.election.reports import audit_trail, get_election, revisions
from models.election.tables import ElectionReport
from models.progress.status import village_status
from tests.conftest import Database
from tests.handlers.chat import NOW, TODAY, Chat, Province, invite
from texts.catalog import t
from texts.fmt import planned_examples

ASK = {k: t(f"election.ask.{k}") for k in ("election_date", "head_name", "votes_for", "valid_ballots", "roll",
                                             "attendees", "party_status", "head_phone")}
# the counts are asked two at a time (or one by one); the first count question offers the one-message block
PAIR = {k: t(f"election.ask.pair.{k}") for k in ("roll", "valid_ballots")}
ASK["roll"] = PAIR["roll"] + "\n" + t("election.ask.count_block_hint")


async def bound_head(db: Database, engine: Engine, province: Province, i: int = 0, account: str = "u1") -> Chat:
    chat = Chat(engine, account=account)
    await chat.send(f"/start {await invite(db.sessions, province.villages[i])}")
    return chat


async def fill(chat: Chat, *answers: str) -> None:
    await chat.send("/baucu")
    for a in answers:
        await chat.send(a)


async def election_count(db: Database) -> int:
    async with db.sessions() as s:
        return (await s.execute(select(func.count()).select_from(ElectionReport))).scalar_one()


async def test_happy_path_with_typed_and_tapped_answers(db: Database, engine: Engine, province: Province) -> None:
    chat = await bound_head(db, engine, province)
    await fill(chat, "15/12", "nguyễn   văn an", "1 500", "1.450 người", "1.402", "801 phiếu")
    assert chat.text == ASK["party_status"] and chat.choices == ["member", "probationary", "planned", "non_member"]
    await chat.send(choice="member")
    assert chat.text == t("merger.ask.already_secretary")
    await chat.send("không")
    assert chat.text == ASK["head_phone"] and chat.choices == ["skip"] and chat.replies[-1].ask_phone
    await chat.send(choice="skip")
    assert t("election.confirm.question") in chat.text and "Nguyễn Văn An" in chat.text
    assert await election_count(db) == 0  # nothing before the confirmation
    await chat.send("ok")
    assert "Đã lưu kết quả bầu trưởng thôn của Thôn 1" in chat.text
    async with db.sessions() as s:
        report = await get_election(s, province.village_ids[0])
        assert report is not None
        assert (report.election_date, report.head_name, report.votes_for, report.valid_ballots, report.roll,
                report.party_status) == (date(2024, 12, 15), "Nguyễn Văn An", 801, 1402, 1500, "member")
        assert await village_status(s, province.village_ids[0], TODAY) == "elected_member"
        assert len(await revisions(s, province.village_ids[0])) == 1
    assert await ConversationStateGone(db)


async def ConversationStateGone(db: Database) -> bool:
    async with db.sessions() as s:
        return (await s.execute(select(func.count()).select_from(ConversationState))).scalar_one() == 0


@pytest.mark.parametrize(("step_answers", "bad", "hint"), [
    ((), "32/12", t("election.bad.date")),
    ((), "25/12/2024", t("election.bad.future", today="20/12/2024")),
    (("15/12",), "An", t("election.bad.name")),
    (("15/12",), "Nguyễn Văn 3", t("election.bad.name")),
    (("15/12", "Lê Thị Hoa"), "ba trăm", t("election.bad.count_pair")),
    (("15/12", "Lê Thị Hoa"), "-5", t("election.bad.count_pair")),
    (("15/12", "Lê Thị Hoa"), "350 330 320", t("election.bad.count_pair")),
    (("15/12", "Lê Thị Hoa", "350"), "330 hay 320", t("election.bad.count")),
    (("15/12", "Lê Thị Hoa"), "0", t("election.bad.roll_zero", roll=0)),
    (("15/12", "Lê Thị Hoa", "400", "380", "350", "300"), "7", t("election.bad.party")),
])
async def test_wrong_answers_are_reasked_with_a_hint(db: Database, engine: Engine, province: Province,
                                                     step_answers: tuple[str, ...], bad: str, hint: str) -> None:
    chat = await bound_head(db, engine, province)
    await fill(chat, *step_answers)
    question = chat.replies[-1].text
    await chat.send(bad)
    assert chat.text.startswith(hint)
    assert chat.text.endswith(question)
    assert await election_count(db) == 0


async def test_counts_one_by_one_in_form_order_each_wrong_number_named(db: Database, engine: Engine,
                                                                       province: Province) -> None:
    chat = await bound_head(db, engine, province)
    await fill(chat, "15/12", "Lê Thị Hoa", "350")
    assert chat.text == ASK["attendees"]
    await chat.send("360")
    assert chat.text == t("election.bad.attendees_over_roll", attendees=360, roll=350) + "\n" + ASK["attendees"]
    await chat.send("330")
    assert chat.text == PAIR["valid_ballots"]
    await chat.send("340")
    assert t("election.bad.valid_over_attendees", valid=340, cap=330) in chat.text
    await chat.send("320")
    await chat.send("321")
    assert chat.text == t("election.bad.votes_over_valid", votes=321, valid=320) + "\n" + ASK["votes_for"]
    await chat.send("301")
    assert chat.text == ASK["party_status"]


async def test_counts_two_a_question(db: Database, engine: Engine, province: Province) -> None:
    """Each count question takes its two numbers in one message; "1 500" is one number grouped by a
    space, "1 000" too; two numbers in the wrong order are named and the second asked again."""
    chat = await bound_head(db, engine, province)
    await fill(chat, "15/12", "Lê Thị Hoa", "350 330")
    assert chat.text == PAIR["valid_ballots"]
    await chat.send("trúng cử 301, hợp lệ 320")  # each number named by its word: the words decide
    assert chat.text == ASK["party_status"]
    await chat.send(choice="non_member")
    await chat.send(choice="skip")
    assert "• Phiếu hợp lệ: 320\n• Phiếu bầu cho người được nhiều phiếu nhất: 301" in chat.text
    await chat.send("/huy")
    await fill(chat, "15/12", "Lê Thị Hoa", "1 500")
    assert chat.text == ASK["attendees"]
    await chat.send("1.450")
    await chat.send("1.402 801")
    assert chat.text == ASK["party_status"]
    await chat.send("/huy")
    await fill(chat, "15/12", "Lê Thị Hoa", "1 000")
    assert chat.text == ASK["attendees"]
    await chat.send("/huy")
    await fill(chat, "15/12", "Lê Thị Hoa", "330 350")
    assert chat.text == t("election.bad.attendees_over_roll", attendees=350, roll=330) + "\n" + ASK["attendees"]
    await chat.send("330")
    await chat.send("320 301")
    await chat.send(choice="non_member")
    await chat.send(choice="skip")
    assert "• Danh sách: 330\n• Có mặt: 330\n• Phiếu hợp lệ: 320" in chat.text


async def test_three_wrong_answers_offer_help(db: Database, engine: Engine, province: Province) -> None:
    chat = await bound_head(db, engine, province)
    await fill(chat)
    for i in range(MAX_WRONG):
        await chat.send("không biết")
        assert (t("common.offer_help") in chat.text) == (i == MAX_WRONG - 1)
    await chat.send("15/12")  # a right answer resets the count
    await chat.send("x")
    assert t("common.offer_help") not in chat.text


async def test_probationary_and_planned_admission_dates(db: Database, engine: Engine, province: Province) -> None:
    chat = await bound_head(db, engine, province)
    await fill(chat, "15/12", "Lê Thị Hoa", "400 380 350 300", "2")
    assert chat.text == t("election.ask.party_date_probationary")
    await chat.send("1/1/2025")
    assert chat.text.startswith(t("election.bad.admission_future"))
    await chat.send("ngày 20 tháng 5 năm 2024")
    assert chat.text == ASK["head_phone"]
    await chat.send("bo qua")
    assert "20/05/2024" in chat.text
    await chat.send("1")
    async with db.sessions() as s:
        r = await get_election(s, province.village_ids[0])
        assert r is not None and (r.party_status, r.party_date) == ("probationary", date(2024, 5, 20))
    other = await bound_head(db, engine, province, 1, account="u2")
    await fill(other, "hôm qua", "Trần Văn Bình", "400 380 350 300", "quan chung, da co ke hoach ket nap dang")
    assert other.text == t("election.ask.party_date_planned", **planned_examples(TODAY))
    await other.send("15/3")
    await other.send("1")
    await other.send("đúng")
    async with db.sessions() as s:
        r = await get_election(s, province.village_ids[1])
        assert r is not None and (r.party_status, r.admission_planned_date, r.party_date, r.election_date) == (
            "non_member", date(2025, 3, 15), None, date(2024, 12, 19))
        assert await village_status(s, province.village_ids[1], TODAY) == "elected_non_member"




async def test_correction_is_a_revision_with_audit(db: Database, engine: Engine, province: Province) -> None:
    chat = await bound_head(db, engine, province)
    await fill(chat, "15/12", "Lê Thị Hoa", "400 380 350 300", "1", "không", "1", "1")
    await chat.send("/baucu")
    assert t("election.on_file", village="Thôn 1") in chat.text and chat.text.endswith(t("election.ask.which_field"))
    await chat.send("so phieu bau")  # the label, typed without diacritics
    assert chat.text == ASK["votes_for"]
    await chat.send("310")
    await chat.send(choice="send")
    assert "lần sửa thứ 2" in chat.text
    village = province.village_ids[0]
    async with db.sessions() as s:
        saved = await get_election(s, village)
        assert saved is not None and saved.votes_for == 310
        revs = await revisions(s, village)
        assert [r.revision for r in revs] == [1, 2] and revs[0].data["votes_for"] == 300
        changes = [(e.field, e.old, e.new, e.channel) for e in await audit_trail(s, village)
                   if e.action == "election.update"]
        assert changes == [("votes_for", "300", "310", "web")]


async def test_correction_keep_changes_nothing(db: Database, engine: Engine, province: Province) -> None:
    chat = await bound_head(db, engine, province)
    await fill(chat, "15/12", "Lê Thị Hoa", "400 380 350 300", "1", "không", "1", "1")
    await chat.send("/baucu")
    await chat.send(choice="keep")
    assert chat.text == t("election.kept")
    async with db.sessions() as s:
        assert len(await revisions(s, province.village_ids[0])) == 1


async def test_cancel_midway_saves_nothing(db: Database, engine: Engine, province: Province) -> None:
    chat = await bound_head(db, engine, province)
    await fill(chat, "15/12", "Lê Thị Hoa", "400 380 350 300", "1", "1")
    await chat.send("/huy")
    assert chat.text == t("common.cancelled")
    await chat.send("1")  # the old confirmation no longer means anything
    assert await election_count(db) == 0
    assert await ConversationStateGone(db)


async def test_idle_conversation_expires_without_saving(db: Database, engine: Engine, province: Province) -> None:
    chat = await bound_head(db, engine, province)
    await fill(chat, "15/12", "Lê Thị Hoa", "400 380 350 300", "1", "1")
    await chat.send("1", at=chat.now + timedelta(days=3, minutes=1))
    assert t("common.expired") in chat.text
    assert await election_count(db) == 0
    await fill(chat, "15/12")
    assert await expire_conversations(db.sessions, chat.now + timedelta(days=2)) == 0
    assert await expire_conversations(db.sessions, chat.now + timedelta(days=4)) == 1
    assert await ConversationStateGone(db)


async def test_a_head_reports_only_for_the_bound_village(db: Database, engine: Engine, province: Province) -> None:
    one = await bound_head(db, engine, province, 0, "u1")
    two = await bound_head(db, engine, province, 1, "u2")
    await fill(one, "15/12", "Lê Thị Hoa", "400 380 350 300")
    await fill(two, "14/12", "Trần Văn Bình", "200 190 150 101", "4", "1", "1")
    for answer in ("1", "không", "1", "1"):  # member, not the secretary already, no phone, send
        await one.send(answer)
    async with db.sessions() as s:
        a = await get_election(s, province.village_ids[0])
        b = await get_election(s, province.village_ids[1])
        c = await get_election(s, province.village_ids[2])
    assert a is not None and b is not None and c is None
    assert a.head_name == "Lê Thị Hoa" and a.updated_by_account_id != b.updated_by_account_id
    assert b.head_name == "Trần Văn Bình"


async def test_two_channels_one_person(db: Database, engine: Engine, province: Province) -> None:
    tele = Chat(engine, account="111", channel="telegram")
    zalo = Chat(engine, account="z-9f", channel="zalo")
    await tele.send(f"/start {await invite(db.sessions, province.villages[0])}")
    await zalo.send(await invite(db.sessions, province.villages[0]))
    await fill(tele, "15/12", "Lê Thị Hoa", "400")
    zalo.now = tele.now
    await zalo.send("380")
    assert zalo.text == PAIR["valid_ballots"]
    for a in ("350", "300", "1", "không", "1", "1"):
        await zalo.send(a)
    assert "Đã lưu kết quả" in zalo.text
    assert await election_count(db) == 1
    assert NOW < zalo.now
