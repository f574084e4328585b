"""The merger rules at the engine: who may be secretary, every way one is chosen, the
approval, party-status events, and lateness against the commune's congress plan."""

from __future__ import annotations

from datetime import UTC, date, datetime

from handlers.engine import Engine
from models.election.reports import audit_trail, get_congress, get_election, revisions
from models.merger.records import party_events
from models.progress.export import export_rows
from models.progress.status import village_status
from models.reminders.rules import Rules, due_today, late_villages
from tests.conftest import Database
from tests.handlers.chat import TODAY, Chat, Province, invite, unit_id
from tests.handlers.test_election import bound_head, fill
from texts.catalog import t

MERGER_COLUMNS = ("party_date", "eligible_from", "admission_planned_date", "secretary_method", "secretary_approval",
                  "not_merged_reason")


def on(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội


async def staff(db: Database, engine: Engine, province: Province) -> Chat:
    chat = Chat(engine, account="staff1")
    await chat.send(f"/start {await invite(db.sessions, province.communes[0], 'staff')}")
    return chat


async def status(db: Database, province: Province, day: date = TODAY, deadline: date | None = None) -> str:
    async with db.sessions() as s:
        return await village_status(s, province.village_ids[0], day, deadline)


async def name_head_secretary(chat: Chat, held: str, method: str = "1") -> None:
    await chat.send("/daihoi")
    await chat.send(choice="result")
    for a in (held, method, "Nguyễn Văn Ân", "có"):
        await chat.send(a)


async def test_probationary_head_named_secretary_is_refused_with_the_date(db: Database, engine: Engine,
                                                                          province: Province) -> None:
    chat = await bound_head(db, engine, province)
    await fill(chat, "15/12", "Nguyễn Văn Ân", "400 380 350 300", "2", "20/05/2024", "1", "1")  # no phone; send
    await name_head_secretary(chat, "19/12")
    assert chat.text == t("merger.refused.probationary", head="Nguyễn Văn Ân", admission="20/05/2024",
                          eligible="20/05/2025")
    assert "đủ điều kiện từ 20/05/2025, sau khi được công nhận đảng viên chính thức" in chat.text
    async with db.sessions() as s:
        assert await get_congress(s, province.village_ids[0]) is None
    assert await status(db, province) == "elected_probationary"
    await chat.send("/trangthai")
    assert t("merger.status.eligible", date="20/05/2025") in chat.text


async def test_non_member_head_is_refused_and_reasons_include_not_a_member(db: Database, engine: Engine,
                                                                           province: Province) -> None:
    chat = await bound_head(db, engine, province)
    # 170 of 320 (150 of 320 would be an invalid result): a valid count, so the refusal is the party's
    await fill(chat, "15/12", "Nguyễn Văn Ân", "320 300 290 170", "3", "01/03/2025", "1", "1")
    await name_head_secretary(chat, "19/12")
    assert chat.text == t("merger.refused.non_member", head="Nguyễn Văn Ân", admission="01/03/2025",
                          eligible="01/03/2026")
    await chat.send("/daihoi")
    await chat.send(choice="result")
    for a in ("19/12", "1", "Phạm Thị Lan"):
        await chat.send(a)
    assert chat.choices == ["head_not_member", "other_elected"]
    await chat.send("1")
    await chat.send("có")
    assert await status(db, province) == "not_merged"


async def test_full_member_already_secretary_is_merged_at_once(db: Database, engine: Engine,
                                                               province: Province) -> None:
    chat = await bound_head(db, engine, province)
    await fill(chat, "15/12", "Nguyễn Văn Ân", "400 380 350 300", "1", "có", "1")  # "1": no phone
    assert t("merger.summary.already_secretary", answer=t("common.yes")) in chat.text
    await chat.send("1")
    assert t("merger.baucu.merged_at_once", head="Nguyễn Văn Ân", title="trưởng thôn 1") in chat.text
    # already the (approved) secretary: only the commune's recognition of the election is missing
    assert await status(db, province) == "merger_pending"
    await chat.send("/trangthai")
    assert t("statuscmd.due.merger_pending", missing=t("merger.missing.recognition")) in chat.text
    assert t("statuscmd.due.merged") not in chat.text
    officer = await staff(db, engine, province)
    await officer.send("/congnhan V1 12/QĐ-UBND 19/12/2024")
    assert await status(db, province) == "merged"
    async with db.sessions() as s:
        c = await get_congress(s, province.village_ids[0])
        assert c is not None and (c.method, c.merged, c.secretary_name) == ("already_secretary", True, "Nguyễn Văn Ân")
    # a correction "not the secretary after all" undoes it
    await chat.send("/baucu")
    await chat.send(choice="party_status")
    await chat.send(choice="member")
    await chat.send("không")
    await chat.send("1")
    assert await status(db, province) == "elected_member"


async def test_by_election_and_appointment_merge_then_approval(db: Database, engine: Engine,
                                                               province: Province) -> None:
    chat = await bound_head(db, engine, province)
    await fill(chat, "15/12", "Nguyễn Văn Ân", "400 380 350 300", "1", "không", "1", "1")  # no phone; send
    await name_head_secretary(chat, "19/12", method="2")
    assert t("merger.summary.method", method=t("merger.method.by_election")) in chat.text
    await chat.send("có")
    assert await status(db, province) == "merger_pending"  # neither recognised nor approved yet
    await chat.send("/trangthai")
    assert t("merger.summary.approval_pending") in chat.text
    both = t("merger.missing.recognition") + " và " + t("merger.missing.approval")
    assert t("statuscmd.due.merger_pending", missing=both) in chat.text
    officer = await staff(db, engine, province)
    await officer.send("/congnhan V1 12/QĐ-UBND 19/12/2024")
    assert await status(db, province) == "merger_pending"  # recognised, not yet approved
    await officer.send("/chuany V1 125-QĐ/ĐU 21/12/2024")
    assert officer.text == t("merger.staff.refused.date_in_future", village="Thôn 1")
    await officer.send("/chuany V1 125-QĐ/ĐU 20/12/2024")
    assert officer.text == t("merger.staff.approved", village="Thôn 1", number="125-QĐ/ĐU", date="20/12/2024")
    async with db.sessions() as s:
        c = await get_congress(s, province.village_ids[0])
        assert c is not None and (c.method, c.approval_number, c.approval_date) == (
            "by_election", "125-QĐ/ĐU", date(2024, 12, 20))
        (row,) = [r async for r in export_rows(s, "post2025", TODAY) if r["village_code"] == "V1"]
    assert {k: row[k] for k in MERGER_COLUMNS} == {
        "party_date": "", "eligible_from": "", "admission_planned_date": "", "secretary_method": "by_election",
        "secretary_approval": "125-QĐ/ĐU 2024-12-20", "not_merged_reason": ""}
    assert await status(db, province) == "merged"
    # an appointment replaces it: the committee's appointment is its own approval
    await name_head_secretary(chat, "20/12", method="3")
    await chat.send("có")
    async with db.sessions() as s:
        c = await get_congress(s, province.village_ids[0])
        assert c is not None and (c.method, c.approval_number) == ("appointment", None)
        (row,) = [r async for r in export_rows(s, "post2025", TODAY) if r["village_code"] == "V1"]
    assert await status(db, province) == "merged"
    assert row["secretary_approval"] == ""  # not "pending"
    await officer.send("/chuany V3 1-QĐ 20/12/2024")  # not under the officer's commune
    assert officer.text == t("names.unknown_village", text="V3")


async def test_full_membership_recorded_later_then_merged(db: Database, engine: Engine, province: Province) -> None:
    chat = await bound_head(db, engine, province)
    await fill(chat, "15/12", "Nguyễn Văn Ân", "400 380 350 300", "2", "10/01/2024", "1", "1")  # no phone; send
    await chat.send("/dangvien", at=on(date(2025, 1, 5)))
    assert t("merger.party.eligible", date="10/01/2025") in chat.text
    await chat.send("05/01/2025", at=on(date(2025, 1, 5)))
    assert chat.text.startswith(t("merger.party.refused.before_eligible", eligible="10/01/2025"))
    await chat.send("/dangvien", at=on(date(2025, 1, 12)))
    await chat.send("11/01/2025", at=on(date(2025, 1, 12)))
    await chat.send("có", at=on(date(2025, 1, 12)))
    assert chat.text == t("merger.party.saved_full_member", head="Nguyễn Văn Ân", date="11/01/2025")
    village = province.village_ids[0]
    async with db.sessions() as s:
        e = await get_election(s, village)
        assert e is not None and (e.party_status, e.party_date, e.revision) == ("member", date(2025, 1, 11), 1)
        assert [r.kind for r in await revisions(s, village)] == ["election"]
        assert [(a.action, a.new) for a in await audit_trail(s, village)
                if a.action.startswith("party.")] == [("party.full_member", "member"),
                                                      ("party.full_member", "2025-01-11")]
        assert [p.kind for p in await party_events(s, village)] == ["full_member"]
    # named secretary on a date before full membership: refused; after: merged
    chat.now = on(date(2025, 1, 20))
    await name_head_secretary(chat, "10/01/2025")
    assert chat.text == t("merger.refused.member_later", head="Nguyễn Văn Ân", since="11/01/2025", on="10/01/2025")
    await name_head_secretary(chat, "15/01/2025")
    await chat.send("có")
    assert await status(db, province, date(2025, 1, 20)) == "merger_pending"
    officer = await staff(db, engine, province)
    officer.now = chat.now
    await officer.send("/congnhan V1 12/QĐ-UBND 18/12/2024")
    await officer.send("/chuany V1 7-QĐ/ĐU 17/01/2025")
    assert await status(db, province, date(2025, 1, 20)) == "merged"


async def test_admission_recorded_makes_the_head_probationary(db: Database, engine: Engine,
                                                              province: Province) -> None:
    chat = await bound_head(db, engine, province)
    await fill(chat, "15/12", "Nguyễn Văn Ân", "400 380 350 300", "4", "1", "1")  # no phone; send
    await chat.send("/dangvien")
    assert chat.choices == ["admitted", "admission_planned"]
    await chat.send("1")
    await chat.send("18/12")
    await chat.send("có")
    assert chat.text == t("merger.party.saved_admitted", head="Nguyễn Văn Ân", date="18/12/2024",
                          eligible="18/12/2025")
    assert await status(db, province) == "elected_probationary"
    async with db.sessions() as s:
        (row,) = [r async for r in export_rows(s, "post2025", TODAY) if r["village_code"] == "V1"]
    assert (row["head_party_status"], row["party_date"], row["eligible_from"]) == (
        "probationary", "2024-12-18", "2025-12-18")
    officer = await staff(db, engine, province)
    await officer.send("/ghidangvien V2 ketnap 18/12/2024")
    assert officer.text == t("merger.party.refused.no_election", eligible="")
    # a planned admission that passes unrecorded: the head is reminded (repeating, then the commune)
    await officer.send("/ghidangvien V1 dukien 10/01/2025")
    assert officer.text == t("merger.party.refused.already_admitted", eligible="")
    other = await bound_head(db, engine, province, 1, "u2")
    await fill(other, "15/12", "Trần Văn Bình", "400 380 350 300", "3", "10/01/2025", "1", "1")  # no phone; send
    rules = Rules(election_date=date(2024, 12, 15))
    async with db.sessions() as s:
        assert not await due_today(s, rules, date(2025, 1, 10), only=("admission",))
        (due,) = await due_today(s, rules, date(2025, 1, 11), only=("admission",))
    assert (due.village_code, due.since, due.on) == ("V2", date(2025, 1, 11), date(2025, 1, 10))


async def test_lateness_against_the_commune_plan(db: Database, engine: Engine, province: Province) -> None:
    chat = await bound_head(db, engine, province)
    await fill(chat, "15/12", "Nguyễn Văn Ân", "400 380 350 300", "1", "không", "1", "1")  # no phone; send
    rules = Rules(election_date=date(2024, 12, 15), congress_deadline=date(2025, 6, 30))
    officer = await staff(db, engine, province)
    await officer.send("/kehoachdaihoi")
    assert officer.text == t("merger.staff.plan_none", unit="Phường Hà Tu")
    await officer.send("/kehoachdaihoi 31/03/2025")
    assert officer.text.startswith(t("merger.staff.plan_saved", unit="Phường Hà Tu", date="31/03/2025")[:40])
    # not late before the commune's deadline (election + 7 days no longer counts), late after it
    assert await status(db, province, date(2025, 1, 31), rules.congress_deadline) == "elected_member"
    assert await status(db, province, date(2025, 4, 1), rules.congress_deadline) == "congress_overdue"
    commune = unit_id(province.communes[0])
    async with db.sessions() as s:
        assert not await due_today(s, rules, date(2025, 3, 31), scope_id=commune, only=("plan_congress",))
        late, n = await late_villages(s, rules, date(2025, 4, 2), commune)
    assert n == 2 and [(d.rule, d.village_code, d.since) for d in late] == [
        ("election", "V2", date(2024, 12, 15)), ("plan_congress", "V1", date(2025, 4, 1))]
    # the other commune has no plan of its own: the province default
    assert await status(db, province, date(2025, 6, 30), date(2025, 6, 30)) == "congress_overdue"
