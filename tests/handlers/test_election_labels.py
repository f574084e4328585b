"""One label per concept; a saved result shown again is introduced once; a name typed without any
diacritics gets one gentle question (type it with diacritics, or keep it)."""

from __future__ import annotations

from handlers.engine import Engine
from models.election.reports import get_election
from tests.conftest import Database
from tests.handlers.chat import Province
from tests.handlers.test_election import ASK, bound_head, fill
from texts.catalog import t


async def test_a_name_without_diacritics_is_asked_about_once(db: Database, engine: Engine,
                                                             province: Province) -> None:
    chat = await bound_head(db, engine, province)
    await fill(chat, "15/12", "nguyen van an")
    assert chat.text == t("election.ask.name_accents", name="Nguyen Van An") and chat.choices == ["keep"]
    await chat.send("Nguyễn Văn Ân")
    assert chat.text == ASK["roll"]
    other = await bound_head(db, engine, province, 1, account="u2")
    await fill(other, "15/12", "Vi Van Hung")
    await other.send(choice="keep")
    assert other.text == ASK["roll"]
    for answer in ("400", "380", "350", "300"):  # the record in form order: roll, attendees, valid, votes for
        await other.send(answer)
    await other.send(choice="member")
    assert other.text == t("merger.ask.already_secretary")
    await other.send(choice="no")
    await other.send(choice="skip")  # the optional phone
    assert "Vi Van Hung" in other.text
    await other.send("ok")
    async with db.sessions() as s:
        report = await get_election(s, province.village_ids[1])
        assert report is not None and report.head_name == "Vi Van Hung"


async def test_a_name_with_diacritics_goes_straight_on(db: Database, engine: Engine, province: Province) -> None:
    chat = await bound_head(db, engine, province)
    await fill(chat, "15/12", "Lê Thị Hoa")
    assert chat.text == ASK["roll"]


async def test_a_saved_result_is_introduced_once_and_one_label_per_party_status(
        db: Database, engine: Engine, province: Province) -> None:
    chat = await bound_head(db, engine, province)
    # 150 of 400 misses the majority: an invalid result (saved, revote needed), shown with its ✘ line
    # (nobody elected: no party status is asked, none is shown)
    await fill(chat, "15/12", "Lê Thị Hoa", "400", "380", "350", "150")
    await chat.send("ok")
    await chat.send("/baucu")
    shown = "\n".join(r.text for r in chat.replies)
    assert shown.count(t("election.summary.title")) == 0 and shown.count("Kết quả bầu trưởng thôn") == 1
    assert t("election.validity.majority_missed", votes=150, roll=400, pct="37,5%") in shown
    assert t("election.validity.invalid_summary") not in shown  # it asks to send anyway: not for a saved result
    assert t("party.non_member") not in shown
    await chat.send(choice="fix")  # a typing mistake: 250 votes, a valid result of a non-member
    await chat.send(choice="votes_for")
    await chat.send("250")
    await chat.send(choice="non_member")
    await chat.send(choice="skip")
    await chat.send("ok")
    await chat.send("/baucu")
    shown = "\n".join(r.text for r in chat.replies)
    assert t("election.party_choice.non_member") == t("party.non_member") in shown
    await chat.send("/huy")
    await chat.send("/trangthai")
    assert t("party.non_member") in chat.text
    for status in ("member", "probationary", "non_member"):
        assert t(f"election.party_choice.{status}") == t(f"party.{status}")
    assert t("election.field.roll") == t("web.field.roll") == t("export.roll")
