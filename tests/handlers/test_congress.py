"""``/daihoi`` at the engine: plan, move (history kept), result merged or not, refusals; ``/trangthai``."""

from __future__ import annotations

from datetime import date, timedelta

from handlers.engine import Engine
from models.election.reports import audit_trail, get_congress, revisions
from models.progress.export import export_rows
from models.progress.status import village_status
from tests.conftest import Database
from tests.handlers.chat import TODAY, Chat, Province
from tests.handlers.test_election import bound_head, fill
from texts.catalog import t


async def elected(db: Database, engine: Engine, province: Province) -> Chat:
    chat = await bound_head(db, engine, province)
    await fill(chat, "15/12", "Nguyễn Văn Ân", "400 380 350 300", "1", "không", "1", "1")
    return chat


async def test_congress_needs_an_election_first(db: Database, engine: Engine, province: Province) -> None:
    chat = await bound_head(db, engine, province)
    await chat.send("/daihoi")
    assert chat.text == t("congress.need_election")


async def test_plan_then_move_keeps_the_old_date(db: Database, engine: Engine, province: Province) -> None:
    chat = await elected(db, engine, province)
    await chat.send("/daihoi")
    assert chat.choices == ["plan", "result"]
    await chat.send("bao ngay du kien")
    await chat.send("hôm qua")
    assert chat.text.startswith(t("congress.bad.plan_past", today="20/12/2024"))
    await chat.send("5/1")
    assert chat.text == t("congress.ask.plan_confirm", date="05/01/2025")
    await chat.send("có")
    assert chat.text == t("congress.plan_saved", date="05/01/2025")
    await chat.send("/daihoi")
    assert chat.choices == ["result", "plan"]
    await chat.send(choice="plan")
    await chat.send("ngày 12 tháng 1")
    await chat.send("co")
    assert chat.text == t("congress.plan_moved", old="05/01/2025", date="12/01/2025")
    village = province.village_ids[0]
    async with db.sessions() as s:
        c = await get_congress(s, village)
        assert c is not None and c.planned_date == date(2025, 1, 12) and c.revision == 2
        kept = [r.data["planned_date"] for r in await revisions(s, village) if r.kind == "congress"]
        assert kept == ["2025-01-05", "2025-01-12"]
        assert await village_status(s, village, TODAY) == "congress_planned"
        assert await village_status(s, village, date(2025, 1, 13)) == "congress_overdue"


async def test_result_merged_when_the_secretary_is_the_head(db: Database, engine: Engine, province: Province) -> None:
    chat = await elected(db, engine, province)
    await chat.send("/daihoi")
    await chat.send("2")
    await chat.send("10/12")
    assert chat.text.startswith(t("congress.bad.held_before_election", date="15/12/2024"))
    await chat.send("hôm qua")
    assert chat.choices == ["congress", "by_election", "appointment"]
    await chat.send("1")
    await chat.send("NGUYEN  VAN AN")  # other case, spaces and diacritics
    assert chat.text == t("congress.ask.same_person", name="Nguyen Van An", head="Nguyễn Văn Ân")
    await chat.send("có")
    assert t("congress.summary.merged") in chat.text
    await chat.send("đúng")
    assert chat.text == t("congress.result_saved_merged", village="Thôn 1")
    async with db.sessions() as s:
        c = await get_congress(s, province.village_ids[0])
        assert c is not None and c.merged and c.secretary_name == "Nguyễn Văn Ân" and c.held_date == date(2024, 12, 19)
        rows = [r async for r in export_rows(s, "post2025", TODAY)]
    row = next(r for r in rows if r["village_code"] == "V1")
    # chosen, not yet recognised nor approved: not counted as merged
    assert (row["status"], row["merged"], row["congress_held_date"], row["secretary_name"]) == (
        "merger_pending", "yes", "2024-12-19", "Nguyễn Văn Ân")


async def test_result_not_merged_records_the_reason(db: Database, engine: Engine, province: Province) -> None:
    chat = await elected(db, engine, province)
    await chat.send("/daihoi")
    await chat.send(choice="result")
    await chat.send("20/12")
    await chat.send("1")
    await chat.send("Phạm Thị Lan")
    assert chat.choices == ["other_elected"]  # the head is a full member: "not a full member" is not offered
    await chat.send("x")
    assert chat.text.startswith(t("congress.bad.reason"))
    await chat.send("Trưởng thôn xin không kiêm nhiệm vì lý do sức khỏe")
    await chat.send("1")
    assert chat.text == t("congress.result_saved", village="Thôn 1")
    async with db.sessions() as s:
        village = province.village_ids[0]
        c = await get_congress(s, village)
        assert c is not None and c.merged is False and c.not_merged_reason == "other"
        assert "sức khỏe" in (c.not_merged_note or "")  # a typed reason: the code "other" and the words kept
        assert await village_status(s, village, TODAY) == "not_merged"
    # a correction: the same person after all
    await chat.send("/daihoi")
    assert chat.text.endswith(t("congress.ask.held_date"))
    for a in ("20/12", "1", "Nguyễn Văn Ân", "có", "có"):
        await chat.send(a)
    async with db.sessions() as s:
        c = await get_congress(s, village)
        assert c is not None and c.merged and c.not_merged_reason is None and c.revision == 2
        fields = {e.field for e in await audit_trail(s, village) if e.action == "congress.update"}
        assert fields == {"secretary_name", "merged", "not_merged_reason", "not_merged_note"}


async def test_status_says_what_is_due(db: Database, engine: Engine, province: Province) -> None:
    chat = await bound_head(db, engine, province)
    await chat.send("/trangthai")
    assert t("statuscmd.due.no_election") in chat.text
    await fill(chat, "15/12", "Nguyễn Văn Ân", "400 380 350 300", "1", "không", "1", "1")
    await chat.send("/trangthai")
    assert t("statuscmd.due.elected_member") in chat.text and "Nguyễn Văn Ân" in chat.text
    await chat.send("/daihoi")
    for a in ("1", "22/12", "có"):
        await chat.send(a)
    await chat.send("/trangthai", at=chat.now + timedelta(days=3))
    assert t("statuscmd.due.congress_overdue") in chat.text
