"""Results left unrecognised past their 5 working days and posts left vacant past their by-election's 6
months, on SQLite and PostgreSQL: each staff account gets ONE message per sweep listing its villages
(name and code), each village once per deadline — a second sweep, a second worker or the next day
sends nothing again, and a village late later gets a message of its own."""

from __future__ import annotations

import asyncio
from datetime import date

from sqlalchemy import select

from models.db import transaction
from models.delivery.tables import OutboxMessage
from models.election.escalation import escalate_late_decisions
from models.election.recognition import decide
from models.election.tables import AuditEvent
from models.election.vacancy import record_vacancy
from models.units.tree import add_unit
from tests.conftest import Database
from tests.scheduler.province import ACTOR, TZ, Province, at, build_province, elect
from texts.catalog import t

D = date.fromisoformat
REPORTED = D("2025-01-06")  # a Monday: the commune decides by Monday 13/01 (5 working days)


async def _story(db: Database) -> Province:
    """Every village elected and reported on 06/01; V13 and V22 fall vacant on 07/01 and 08/01 (their
    by-elections due 07/07 and 08/07); V12 is recognised in time."""
    async with transaction(db.sessions) as s:
        p = await build_province(s)
        for v in ("V11", "V12", "V13", "V21", "V22"):
            await elect(s, p, v, at(REPORTED, 10))
        await decide(s, p.id("V12"), new_vote=False, decision="5/QĐ-UBND", on=D("2025-01-10"),
                     actor=ACTOR, now=at(D("2025-01-10")), today=D("2025-01-10"))
        for v, on in (("V13", D("2025-01-07")), ("V22", D("2025-01-08"))):
            await record_vacancy(s, p.id(v), kind="resignation", on=on, reason="", actor=ACTOR, now=at(on, 16),
                                 today=on)
    return p


async def _sweep(db: Database, day: date) -> int:
    async with transaction(db.sessions) as s:
        return await escalate_late_decisions(s, at(day), TZ)


async def _messages(db: Database, p: Province) -> dict[str, list[OutboxMessage]]:
    """Per staff account (its label), its escalations in the order queued."""
    label = {account: name for name, account in p.accounts.items()}
    async with db.sessions() as s:
        rows = (await s.execute(select(OutboxMessage).where(OutboxMessage.kind == "escalation")
                                .order_by(OutboxMessage.id))).scalars().all()
    out: dict[str, list[OutboxMessage]] = {}
    for row in rows:
        out.setdefault(label[row.account_id], []).append(row)
    return out


def _villages(text: str) -> list[str]:
    """The codes of the villages a message lists, in order."""
    return [line.split("(", 1)[1].split(")", 1)[0] for line in text.splitlines() if line.startswith("– ")]


async def test_one_message_per_staff_account_and_sweep_each_village_once(db: Database) -> None:
    p = await _story(db)
    assert await _sweep(db, D("2025-01-13")) == 0  # the deadline day itself: not late yet
    assert await _sweep(db, D("2025-01-14")) == 2  # one message for C1's staff, one for C2's
    assert await _sweep(db, D("2025-01-14")) == 0  # a second sweep (or a second worker) the same moment
    assert await _sweep(db, D("2025-01-15")) == 0  # the next day: nothing new
    first = await _messages(db, p)
    assert {k: len(v) for k, v in first.items()} == {"staff_C1": 1, "staff_C2": 1}  # the admin above: not
    (c1,), (c2,) = first["staff_C1"], first["staff_C2"]
    assert _villages(c1.text) == ["V11"] and _villages(c2.text) == ["V21"]  # V12 recognised, V13/V22 vacant
    assert c1.text.splitlines() == [
        t("recognition.late_title", n=1),
        t("recognition.late_line", village="Thôn V11", code="V11", name="Nguyễn Văn V11", date="05/01/2025",
          reported="06/01/2025", deadline="13/01/2025"),
        t("recognition.late_ask")]
    assert c1.key.startswith("decision_late:2025-01-14:") and c1.key.endswith(f":a{p.accounts['staff_C1']}")
    # six months on, V13's and V22's by-elections are late: again one message each, only the new villages
    assert await _sweep(db, D("2025-07-07")) == 0  # V13 due 07/07
    assert await _sweep(db, D("2025-07-09")) == 2
    assert await _sweep(db, D("2025-07-10")) == 0
    later = await _messages(db, p)
    assert [_villages(m.text) for m in later["staff_C1"]] == [["V11"], ["V13"]]
    assert [_villages(m.text) for m in later["staff_C2"]] == [["V21"], ["V22"]]
    assert later["staff_C1"][1].text.splitlines() == [
        t("vacancy.late_title", n=1),
        t("vacancy.late_line", village="Thôn V13", code="V13", since="07/01/2025", due="07/07/2025"),
        t("vacancy.late_ask")]
    async with db.sessions() as s:
        events = (await s.execute(select(AuditEvent).where(AuditEvent.action == "escalation"))).scalars().all()
    assert sorted((e.village_id, e.field, e.new) for e in events) == sorted([
        (p.id("V11"), "recognition_late", "2025-01-13"), (p.id("V21"), "recognition_late", "2025-01-13"),
        (p.id("V13"), "by_election_late", "2025-07-07"), (p.id("V22"), "by_election_late", "2025-07-08")])


async def test_many_late_villages_are_one_message_listing_them_all(db: Database) -> None:
    """Nine villages of a commune late at once, recognitions and by-elections: one message per staff
    account, both lists in it, each village with its code."""
    p = await _story(db)
    async with transaction(db.sessions) as s:
        for i in range(1, 8):
            code = f"V3{i}"
            p.units[code] = await add_unit(s, period="post2025", code=code, level="village", name=code,
                                           parent=p.units["C1"], full_name=f"Thôn {code}")
            await elect(s, p, code, at(REPORTED, 10))
    assert await _sweep(db, D("2025-07-09")) == 2
    (c1,) = (await _messages(db, p))["staff_C1"]
    assert _villages(c1.text) == ["V11", *(f"V3{i}" for i in range(1, 8)), "V13"]
    assert t("recognition.late_title", n=8) in c1.text and t("vacancy.late_title", n=1) in c1.text
    assert c1.text.index(t("recognition.late_ask")) < c1.text.index(t("vacancy.late_title", n=1))


async def test_two_workers_sweeping_at_once_send_it_once(db: Database) -> None:
    """Two sweeps in two transactions at the same moment (two workers): the same keys, one message per
    staff account, one audit event per village."""
    p = await _story(db)
    results = await asyncio.gather(_sweep(db, D("2025-01-14")), _sweep(db, D("2025-01-14")))
    assert sorted(results) == [0, 2]
    assert {k: len(v) for k, v in (await _messages(db, p)).items()} == {"staff_C1": 1, "staff_C2": 1}
    async with db.sessions() as s:
        events = (await s.execute(select(AuditEvent).where(AuditEvent.action == "escalation"))).scalars().all()
    assert sorted(e.village_id for e in events) == sorted([p.id("V11"), p.id("V21")])
