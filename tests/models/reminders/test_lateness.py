"""Lateness counts from when the village could have acted, on SQLite and PostgreSQL: a deadline that
passed before the head was elected does not bind him, a deadline is named as it was set, a village
just created by a split waits for its own election, a vacant post for its by-election's 6 months, and a
village that must vote again is late once it had time to; the commune is told once per sweep, in one
message listing its villages."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from models.db import transaction
from models.delivery.tables import OutboxMessage
from models.election.reports import ElectionData, record_election
from models.election.vacancy import record_vacancy
from models.merger.records import set_congress_plan
from models.progress.status import village_status
from models.reminders.rules import Rules, late_villages
from models.reminders.sweep import sweep
from models.units.changes import split_village
from models.units.tree import add_unit
from reports.late_text import render_late_grouped
from reports.reminder_text import renderer
from tests.conftest import Database
from tests.scheduler.province import ACTOR, PERIOD, RULES, TZ, at, build_province, elect

D = date.fromisoformat
TODAY = D("2025-07-01")


async def _late(db: Database, scope: int, today: date = TODAY, rules: Rules = RULES) -> dict[str, tuple[str, date]]:
    async with db.sessions() as s:
        late, total = await late_villages(s, rules, today, scope, limit=50)
    assert total == len(late)
    return {d.village_code: (d.rule, d.since) for d in late}


async def test_a_deadline_before_the_election_does_not_make_the_head_late(db: Database) -> None:
    async with transaction(db.sessions) as s:
        p = await build_province(s)
        await set_congress_plan(s, p.id("C2"), D("2025-06-30"), ACTOR, at(D("2025-05-01")))
        await elect(s, p, "V21", at(D("2025-01-06"), 10))  # elected before the deadline: bound by it
        await elect(s, p, "V22", at(TODAY - timedelta(days=1), 10), election_date=TODAY - timedelta(days=1))
    async with db.sessions() as s:
        assert await village_status(s, p.id("V21"), TODAY) == "congress_overdue"
        assert await village_status(s, p.id("V22"), TODAY) == "elected_member"  # elected yesterday
    late = await _late(db, p.id("C2"))
    assert late == {"V21": ("plan_congress", D("2025-07-01"))}  # V22: a week from its election, as without a plan
    assert (await _late(db, p.id("C2"), TODAY + timedelta(days=7)))["V22"] == ("plan_congress", D("2025-07-07"))
    # the deadline is named as it was set (30/06), the day count from the day after
    async with db.sessions() as s:
        dues, total = await late_villages(s, RULES, D("2025-07-03"), p.id("C2"))
    text = render_late_grouped("Xã C2", dues, total, D("2025-07-03"), {})
    assert "(hạn 30/06/2025), chậm 2 ngày" in text and "01/07/2025" not in text


async def test_a_village_created_by_a_split_is_late_only_after_its_own_six_months(db: Database) -> None:
    async with transaction(db.sessions) as s:
        p = await build_province(s)
        news, _ = await split_village(s, PERIOD, "V13", ["V13A", "V13B"], ["13A", "13B"], TODAY, at(TODAY))
    assert [n.election_date for n in news] == [D("2026-01-01"), D("2026-01-01")]
    assert {"V13A", "V13B"} & set(await _late(db, p.id("C1"))) == set()
    later = await _late(db, p.id("C1"), D("2026-01-03"))
    assert later["V13A"] == later["V13B"] == ("election", D("2026-01-01"))


async def test_a_vacant_post_is_late_after_the_by_election_deadline_not_before(db: Database) -> None:
    async with transaction(db.sessions) as s:
        p = await build_province(s)
        await elect(s, p, "V21", at(D("2025-01-06"), 10))
        await record_vacancy(s, p.id("V21"), kind="resignation", on=D("2025-03-31"), reason="", actor=ACTOR,
                             now=at(D("2025-04-01")), today=D("2025-04-01"))
    assert "V21" not in await _late(db, p.id("C2"), D("2025-09-30"))  # vacant and being handled
    # due 30/09 (6 months, the day clamped to the month's end), late from 01/10
    assert (await _late(db, p.id("C2"), D("2025-10-01")))["V21"] == ("by_election", D("2025-10-01"))


async def test_a_village_that_must_vote_again_is_on_the_late_list(db: Database) -> None:
    async with transaction(db.sessions) as s:
        p = await build_province(s)
        data = ElectionData(election_date=D("2025-01-05"), head_name="Nguyễn Văn A", votes_for=40, valid_ballots=95,
                            roll=100, party_status="member", attendees=96)
        await record_election(s, p.id("V21"), data, ACTOR, at(D("2025-01-05"), 10), D("2025-01-05"))
    async with db.sessions() as s:
        assert await village_status(s, p.id("V21"), D("2025-02-04")) == "revote_needed"
    assert "V21" not in await _late(db, p.id("C2"), D("2025-02-03"))  # a month to organise the new vote
    assert (await _late(db, p.id("C2"), D("2025-02-04")))["V21"] == ("revote", D("2025-02-04"))


async def test_one_escalation_per_commune_and_sweep_lists_its_villages(db: Database) -> None:
    async with transaction(db.sessions) as s:
        p = await build_province(s)
        for i in range(1, 10):  # nine villages without a head's account: escalated after 6 days
            await add_unit(s, period=PERIOD, code=f"V3{i}", level="village", name=f"3{i}", parent=p.units["C2"],
                           full_name=f"Thôn V3{i}")
    day = D("2025-01-12")
    for _ in range(2):  # a second sweep the same moment, then the next days: nothing again
        async with transaction(db.sessions) as s:
            await sweep(s, RULES, period=PERIOD, now=at(day), tz=TZ, render=renderer(day))
    for later in (D("2025-01-13"), D("2025-01-14")):
        async with transaction(db.sessions) as s:
            await sweep(s, RULES, period=PERIOD, now=at(later), tz=TZ, render=renderer(later))
    async with db.sessions() as s:
        rows = (await s.execute(select(OutboxMessage).where(OutboxMessage.kind == "escalation")
                                .where(OutboxMessage.account_id == p.accounts["staff_C2"]))).scalars().all()
    assert len(rows) == 1, [r.key for r in rows]
    (row,) = rows
    assert row.key.startswith("escalation:C2:2025-01-12:")
    assert row.text.startswith("Thôn chậm tiến độ của Xã C2 (9 thôn):")
    assert sum(line.startswith("– Thôn V3") for line in row.text.splitlines()) == 9
