"""The election record at the engine: the vote-count record in form order (one message or one by one), validity
(quorum and majority → ``revote_needed``, the commune told at once), the phone, the commune's
recognition (in chat) and its escalation, and how many messages a report takes on Telegram."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlmodel import col

from handlers.engine import Engine
from models.accounts.tables import Person
from models.db import transaction
from models.delivery.tables import OutboxMessage
from models.election.escalation import escalate_late_decisions
from models.election.record import recognition_deadline
from models.election.reports import audit_trail, get_election, revisions
from models.progress.status import village_status
from tests import images
from tests.conftest import Database
from tests.handlers.chat import TODAY, Chat, Province, invite
from tests.handlers.test_election import bound_head, fill
from texts.catalog import t
from texts.fmt import fmt_date

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


async def staff_chat(db: Database, engine: Engine, province: Province, account: str = "s1") -> Chat:
    chat = Chat(engine, account=account)
    await chat.send(f"/start {await invite(db.sessions, province.communes[0], 'staff')}")
    return chat


async def outbox(db: Database, kind: str | None = None) -> list[OutboxMessage]:
    async with db.sessions() as s:
        stmt = select(OutboxMessage).order_by(col(OutboxMessage.id))
        if kind:
            stmt = stmt.where(col(OutboxMessage.kind) == kind)
        return list((await s.execute(stmt)).scalars().all())


async def status_of(db: Database, province: Province, i: int = 0, today: date = TODAY) -> str:
    async with db.sessions() as s:
        return await village_status(s, province.village_ids[i], today)


async def report(db: Database, chat: Chat, counts: str, *, party: str = "1", phone: str = "bỏ qua",
                 valid: bool = True) -> None:
    """A whole report; a full member ("1") of a valid result is also asked "already the branch secretary?" (no);
    an invalid one (nobody elected) goes from the counts to the summary."""
    secretary = ("không",) if party == "1" else ()
    await fill(chat, "15/12", "Lê Thị Hoa", counts, *((party, *secretary, phone) if valid else ()))
    await chat.send("1")


@pytest.mark.parametrize("text", [
    "350 330 320 301", "350/330/320/301", "350, 330, 320, 301", "350-330-320-301",
    "danh sách 350, có mặt 330, hợp lệ 320, trúng cử 301",
    "350 cử tri, 330 có mặt, 320 phiếu hợp lệ, 301 phiếu trúng cử",
    "trúng cử 301, hợp lệ 320, danh sách 350, có mặt 330",  # the words decide, not the order
])
async def test_the_count_block_in_one_message_is_read_back(db: Database, engine: Engine, province: Province,
                                                          text: str) -> None:
    chat = await bound_head(db, engine, province)
    await fill(chat, "15/12", "Lê Thị Hoa", text)
    assert t("election.counts.line.roll", n=350) in chat.text
    assert t("election.counts.line.votes_for", n=301) in chat.text
    assert chat.text.endswith(t("election.ask.party_status"))


async def test_six_numbers_give_ballots_issued_and_invalid(db: Database, engine: Engine, province: Province) -> None:
    chat = await bound_head(db, engine, province)
    await report(db, chat, "350 330 330 320 10 301")
    async with db.sessions() as s:
        r = await get_election(s, province.village_ids[0])
    assert r is not None and (r.roll, r.attendees, r.ballots_issued, r.valid_ballots, r.invalid_ballots,
                              r.votes_for, r.valid) == (350, 330, 330, 320, 10, 301, True)


@pytest.mark.parametrize(("text", "hint", "asked"), [
    ("350 360 320 301", t("election.bad.attendees_over_roll", attendees=360, roll=350), "attendees"),
    ("350 330 340 301", t("election.bad.valid_over_attendees", valid=340, cap=330), "valid_ballots"),
    ("350 330 320 321", t("election.bad.votes_over_valid", votes=321, valid=320), "votes_for"),
    ("0 330 320 301", t("election.bad.roll_zero", roll=0), "roll"),
])
async def test_a_wrong_number_in_the_block_is_named_and_asked_again(db: Database, engine: Engine,
                                                                    province: Province, text: str, hint: str,
                                                                    asked: str) -> None:
    chat = await bound_head(db, engine, province)
    await fill(chat, "15/12", "Lê Thị Hoa", text)
    assert hint in chat.text and chat.text.endswith(t(f"election.ask.{asked}"))


async def test_quorum_missed_is_saved_invalid_and_the_commune_is_told(db: Database, engine: Engine,
                                                                      province: Province) -> None:
    await staff_chat(db, engine, province)
    chat = await bound_head(db, engine, province)
    await fill(chat, "15/12", "Lê Thị Hoa", "400 200 190 180")  # nobody elected: no party or phone question
    assert "200/400 (50%)" in chat.text and t("election.validity.invalid_summary") in chat.text
    await chat.send("1")
    assert t("election.invalid_saved", village="Thôn 1") in chat.text
    assert await status_of(db, province) == "revote_needed"
    notices = await outbox(db, "notice")
    assert len(notices) == 1 and "KHÔNG HỢP LỆ" in notices[0].text and "có mặt 200/400 (50%)" in notices[0].text


async def test_majority_missed_is_revote_needed_then_the_revote_is_a_new_election(db: Database, engine: Engine,
                                                                                  province: Province) -> None:
    await staff_chat(db, engine, province)
    chat = await bound_head(db, engine, province)
    await report(db, chat, "400 300 290 200", valid=False)
    assert await status_of(db, province) == "revote_needed"
    notices = await outbox(db, "notice")
    assert len(notices) == 1 and "người được nhiều phiếu nhất được 200/400 (50%)" in notices[0].text
    await chat.send("/baucu")
    assert chat.choices[:2] == ["new", "fix"]
    await chat.send(choice="new")
    assert chat.text == t("election.ask.election_date")
    for a in ("19/12", "Trần Văn Bình", "400 300 290 250", "1", "không", "bỏ qua", "1"):
        await chat.send(a)
    assert await status_of(db, province) == "elected_member"
    async with db.sessions() as s:
        r = await get_election(s, province.village_ids[0])
        actions = [e.action for e in await audit_trail(s, province.village_ids[0])]
    assert r is not None and (r.election_no, r.election_kind, r.head_name) == (2, "revote", "Trần Văn Bình")
    assert "election.new" in actions


@pytest.mark.parametrize(("typed", "stored"), [
    ("0912 345 678", "+84912345678"), ("+84 912 345 678", "+84912345678"), ("0912.345.678", "+84912345678"),
    ("84912345678", "+84912345678"),
])
async def test_phone_forms(db: Database, engine: Engine, province: Province, typed: str, stored: str) -> None:
    chat = await bound_head(db, engine, province)
    await report(db, chat, "350 330 320 301", phone=typed)
    async with db.sessions() as s:
        r = await get_election(s, province.village_ids[0])
    assert r is not None and r.head_phone == stored


async def test_a_shared_contact_is_kept_on_the_person_and_a_bad_number_reasked(db: Database, engine: Engine,
                                                                              province: Province) -> None:
    chat = Chat(engine, account="777", channel="telegram")
    await chat.send(f"/start {await invite(db.sessions, province.villages[0])}")
    await fill(chat, "15/12", "Lê Thị Hoa", "350 330 320 301", "1", "không", "12345")
    assert chat.text.startswith(t("election.bad.phone"))
    await chat.send(phone="84912345678")
    await chat.send("1")
    async with db.sessions() as s:
        people = (await s.execute(select(Person).where(col(Person.role) == "village_head"))).scalars().all()
    assert [p.phone for p in people] == ["+84912345678"]


async def test_recognition_in_chat_and_refusals(db: Database, engine: Engine, province: Province) -> None:
    staff = await staff_chat(db, engine, province)
    chat = await bound_head(db, engine, province)
    await report(db, chat, "350 330 320 301")
    deadline = recognition_deadline(TODAY)
    assert t("election.pending_recognition", deadline=fmt_date(deadline)) in chat.text
    await chat.send("/trangthai")
    assert t("statuscmd.record.pending", deadline=fmt_date(deadline)) in chat.text  # "chờ công nhận"
    assert t("statuscmd.record.term", date="15/06/2027") in chat.text  # 2.5 years
    await staff.send("/congnhan V3 1/QĐ 20/12/2024")  # another commune's village
    assert staff.text == t("names.unknown_village", text="V3")
    await staff.send("/congnhan V1 12/QĐ-UBND")
    assert staff.text == t("recognition.cmd.usage_recognise")
    await staff.send("/congnhan V2 12/QĐ-UBND 20/12/2024")
    assert staff.text == t("recognition.refused.no_election", village="Thôn 2")
    await staff.send("/congnhan V1 12/QĐ-UBND 20/12/2024")
    assert "Quyết định số 12/QĐ-UBND ngày 20/12/2024" in staff.text
    async with db.sessions() as s:
        r = await get_election(s, province.village_ids[0])
    assert r is not None and (r.recognition, r.recognition_decision, r.recognition_date) == (
        "recognised", "12/QĐ-UBND", date(2024, 12, 20))
    told = await outbox(db, "notice")
    assert [m.text for m in told] == [t("recognition.head_recognised", decision="12/QĐ-UBND", date="20/12/2024")]
    await chat.send("/trangthai")
    assert t("statuscmd.record.recognised", decision="12/QĐ-UBND", date="20/12/2024") in chat.text
    await chat.send("/congnhan V1 1 20/12/2024")  # heads cannot
    assert chat.text == t("auth.staff_only")


async def test_new_vote_ordered_in_chat(db: Database, engine: Engine, province: Province) -> None:
    staff = await staff_chat(db, engine, province)
    chat = await bound_head(db, engine, province)
    await report(db, chat, "350 330 320 301")
    await staff.send("/baulai V1")
    assert staff.text == t("recognition.cmd.new_vote", village="Thôn 1")
    assert await status_of(db, province) == "revote_needed"
    await chat.send("/baucu")
    assert chat.text.startswith(t("election.new_intro.revote", village="Thôn 1"))


async def test_recognition_late_is_escalated_once(db: Database, engine: Engine, province: Province) -> None:
    await staff_chat(db, engine, province)
    chat = await bound_head(db, engine, province)
    await report(db, chat, "350 330 320 301")  # Friday 20/12/2024: 5 working days → Friday 27/12
    on_time = datetime(2024, 12, 27, 3, 0, tzinfo=UTC)
    async with transaction(db.sessions) as s:
        assert await escalate_late_decisions(s, on_time, TZ) == 0
    late = on_time + timedelta(days=1)
    for _ in range(2):
        async with transaction(db.sessions) as s:
            await escalate_late_decisions(s, late, TZ)
    escalations = await outbox(db, "escalation")
    assert len(escalations) == 1
    assert "Thôn 1 (V1)" in escalations[0].text and "hạn quyết định 27/12/2024" in escalations[0].text


async def test_recognised_on_time_is_not_escalated(db: Database, engine: Engine, province: Province) -> None:
    staff = await staff_chat(db, engine, province)
    chat = await bound_head(db, engine, province)
    await report(db, chat, "350 330 320 301")
    await staff.send("/congnhan V1 12/QĐ-UBND 23/12/2024", at=datetime(2024, 12, 23, 3, 0, tzinfo=UTC))
    async with transaction(db.sessions) as s:
        assert await escalate_late_decisions(s, datetime(2025, 1, 10, 3, 0, tzinfo=UTC), TZ) == 0


async def test_field_usability_an_election_report_takes_at_most_9_messages_on_telegram(
        db: Database, engine: Engine, province: Province) -> None:
    """With the counts in one message, a report takes 8 messages or taps, including the merger's
    "already secretary?" tap for a full member: within the 9 the issue allows."""
    chat = Chat(engine, account="555", channel="telegram")
    await chat.send(f"/start {await invite(db.sessions, province.villages[0])}")
    sent = 0
    for kwargs in ({"text": "/baucu"}, {"text": "15/12"}, {"text": "Lê Thị Hoa"}, {"text": "350 330 320 301"},
                   {"choice": "member"}, {"choice": "no"}, {"phone": "+84912345678"},
                   {"choice": "send"}):
        await chat.send(**kwargs)  # type: ignore[arg-type]
        sent += 1
    assert "Đã lưu kết quả bầu trưởng thôn" in chat.text
    assert sent <= 9


async def test_resignation_then_interim_then_by_election_in_the_same_term(db: Database, engine: Engine,
                                                                          province: Province) -> None:
    staff = await staff_chat(db, engine, province)
    chat = await bound_head(db, engine, province)
    secretary = Chat(engine, account="b1")
    await secretary.send(f"/start {await invite(db.sessions, province.villages[0], 'village_secretary')}")
    await report(db, chat, "350 330 320 301")
    await staff.send("/khuyet V1 nghỉ hưu 01/02/2025")
    assert staff.text == t("vacancy.cmd.usage")
    await staff.send("/khuyet V1 thôi việc 19/12/2024 chuyển công tác")
    assert staff.text == t("vacancy.cmd.recorded", village="Thôn 1", kind="thôi việc", date="19/12/2024",
                           due="19/06/2025")
    assert await status_of(db, province) == "no_election"
    # the head who left is no longer bound to the village, and is not told: the secretary is
    await chat.send("/trangthai")
    assert chat.text == t("auth.unbound")
    notices = await outbox(db, "notice")
    assert [m.text for m in notices] == [t("vacancy.secretary_notice", village="Thôn 1", date="19/12/2024",
                                           due="19/06/2025")]
    await staff.send("/khuyet V1 thôi việc 19/12/2024 lần nữa")
    assert staff.text == t("vacancy.refused.already_vacant", village="Thôn 1")
    await staff.send("/lamthoi V1 20/12/2024 Trần Văn Bình")
    assert "Trần Văn Bình" in staff.text
    interim = Chat(engine, account="u9")  # the interim head binds with an invite of their own
    await interim.send(f"/start {await invite(db.sessions, province.villages[0])}")
    await interim.send("/trangthai")
    assert t("statuscmd.record.interim", name="Trần Văn Bình", since="20/12/2024", due="19/06/2025") in interim.text
    assert "Lê Thị Hoa" not in interim.text  # the head who left is not named as the head
    # six months on, no by-election: the commune is told, once
    for _ in range(2):
        async with transaction(db.sessions) as s:
            await escalate_late_decisions(s, datetime(2025, 6, 20, 3, 0, tzinfo=UTC), TZ)
    assert len([m for m in await outbox(db, "escalation") if "bầu bổ sung" in m.text]) == 1
    # the by-election: a new election in the same term, not a correction
    await interim.send("/baucu")
    assert interim.text.startswith(t("election.new_intro.by_election", village="Thôn 1"))
    for a in ("20/12", "Trần Văn Bình", "350 320 310 300", "1", "không", "bỏ qua", "1"):
        await interim.send(a)
    async with db.sessions() as s:
        r = await get_election(s, province.village_ids[0])
    assert r is not None and (r.election_no, r.election_kind, r.term_end, r.vacated_on) == (
        2, "by_election", date(2027, 6, 15), None)
    assert await status_of(db, province) == "elected_member"


async def test_term_rollover_needs_a_new_election(db: Database, engine: Engine, province: Province) -> None:
    chat = await bound_head(db, engine, province)
    await report(db, chat, "350 330 320 301")
    assert await status_of(db, province, today=date(2027, 6, 15)) == "elected_member"
    assert await status_of(db, province, today=date(2027, 6, 16)) == "no_election"  # the term is over
    await chat.send("/baucu", at=datetime(2027, 6, 20, 3, 0, tzinfo=UTC))
    assert chat.text.startswith(t("election.new_intro.regular", village="Thôn 1"))
    for a in ("19/06/2027", "Lê Thị Hoa", "360 340 330 320", "1", "không", "bỏ qua", "1"):
        await chat.send(a)
    async with db.sessions() as s:
        r = await get_election(s, province.village_ids[0])
        revs = [rev.data.get("election_no") for rev in await revisions(s, province.village_ids[0])]
    assert r is not None and (r.election_no, r.term_start, r.term_end) == (2, date(2027, 6, 19), date(2029, 12, 19))
    assert revs == [1, 2]  # the earlier term stays in the history
    assert await status_of(db, province, today=date(2027, 6, 20)) == "elected_member"


async def test_export_carries_the_record_recognition_term_and_interim_head(db: Database, engine: Engine,
                                                                           province: Province) -> None:
    from models.progress.export import EXPORT_COLUMNS, export_rows

    staff = await staff_chat(db, engine, province)
    chat = await bound_head(db, engine, province)
    await report(db, chat, "350 330 320 301", phone="0912345678")
    await staff.send("/congnhan V1 12/QĐ-UBND 20/12/2024")
    other = await bound_head(db, engine, province, 1, account="u2")
    await report(db, other, "350 330 320 301")
    await staff.send("/khuyet V2 mien nhiem 20/12/2024 vi phạm")
    await staff.send("/lamthoi V2 20/12/2024 Trần Văn Bình")
    async with db.sessions() as s:
        rows = {r["village_code"]: r async for r in export_rows(s, "post2025", TODAY)}
    assert EXPORT_COLUMNS[-6:] == ("attendees", "recognition_decision", "recognition_date", "term_end",
                                   "interim_head", "head_phone")
    one, two = rows["V1"], rows["V2"]
    assert (one["attendees"], one["recognition_decision"], one["recognition_date"], one["term_end"],
            one["interim_head"], one["head_phone"]) == ("330", "12/QĐ-UBND", "2024-12-20", "2027-06-15", "",
                                                        "+84912345678")
    assert (two["status"], two["interim_head"]) == ("no_election", "Trần Văn Bình")


async def test_digest_counts_invalid_results_and_pending_recognitions(db: Database, engine: Engine,
                                                                      province: Province) -> None:
    staff = await staff_chat(db, engine, province)
    await report(db, await bound_head(db, engine, province), "350 330 320 301")
    await report(db, await bound_head(db, engine, province, 1, account="u2"), "350 100 90 80", valid=False)
    await staff.send("/tonghop")
    assert t("digest.record", revote=1, pending=1, ending=0) in staff.text


async def test_photo_checks_and_right_after_the_report(db: Database, engine: Engine, province: Province) -> None:
    from handlers.messages import IncomingPhoto
    from models.photos.tables import ReportPhoto

    jpeg, png = images.jpeg(), images.png()
    chat = await bound_head(db, engine, province)
    await chat.send(photo=IncomingPhoto(content=jpeg))
    assert chat.text == t("photo.not_expected")  # no report in progress, none just saved
    await report(db, chat, "350 330 320 301")
    await chat.send(photo=IncomingPhoto(content=b"GIF89a" + b"\x00" * 10))
    assert chat.text == t("photo.bad_type", mb=10)
    await chat.send(photo=IncomingPhoto(error="too_large"))
    assert chat.text == t("photo.too_large", mb=10)
    await chat.send(photo=IncomingPhoto(content=png))  # right after the save: "ảnh biên bản?"
    assert chat.text == t("photo.saved_election", village="Thôn 1")
    await chat.send(photo=IncomingPhoto(content=jpeg), at=chat.now + timedelta(hours=2))
    assert chat.text == t("photo.not_expected")
    async with db.sessions() as s:
        kinds = (await s.execute(select(ReportPhoto.mime_type))).scalars().all()
    assert kinds == ["image/png"]


async def test_a_photo_mid_report_is_kept_and_the_question_asked_again(db: Database, engine: Engine,
                                                                        province: Province) -> None:
    from handlers.messages import IncomingPhoto
    from models.photos.tables import ReportPhoto

    jpeg = images.jpeg()
    chat = await bound_head(db, engine, province)
    await chat.send("/baucu")
    await chat.send("15/12")
    question = chat.text  # the winner's name
    await chat.send(photo=IncomingPhoto(error="download_failed"))
    assert chat.text == t("photo.download_failed", mb=10)  # said plainly; the report goes on
    await chat.send(photo=IncomingPhoto(content=jpeg))
    assert chat.text.startswith(t("photo.saved_election", village="Thôn 1")) and chat.text.endswith(question)
    for answer in ("Lê Thị Hoa", "350 330 320 301", "1", "không", "bỏ qua", "1"):
        await chat.send(answer)
    async with db.sessions() as s:
        election = await get_election(s, province.village_ids[0])
        photos = (await s.execute(select(ReportPhoto.kind, ReportPhoto.content))).all()
    assert election is not None and election.head_name == "Lê Thị Hoa"  # the report was not disturbed
    assert [(kind, images.decoded(content)) for kind, content in photos] == [("election", ("JPEG", (64, 48)))]
