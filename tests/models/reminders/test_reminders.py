"""Reminder rules, day by day over a campaign in the fixture province, on SQLite and PostgreSQL.

Every expected reminder and escalation below is worked out by hand from the story in ``EVENTS``
and the rules (grace 1 day, plan the congress within 7 days, 3 and 1 days before, result 1 day
after, repeat every 2 days, escalate after 3 reminders, probation 12 months with 14 days' notice).
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import select

from models.db import transaction
from models.delivery.tables import OutboxMessage
from models.dialog.tables import ConversationState
from models.election.tables import AuditEvent
from models.merger.rules import add_months
from models.reminders.rules import due_today, late_villages
from models.reminders.sweep import sweep
from reports.reminder_text import renderer
from tests.conftest import Database
from tests.scheduler.province import PERIOD, RULES, TZ, Province, at, build_province, elect, hold, plan

D = date.fromisoformat


def d(s: str) -> date:
    return D(f"2025-{s}")


async def _events(session, p: Province, day: date) -> None:  # type: ignore[no-untyped-def]
    """What the villages report on ``day`` (at 10:00, between the 08:00 and 15:00 sweeps)."""
    when = at(day, 10)
    if day == d("01-05"):
        await elect(session, p, "V11", when)
    elif day == d("01-06"):
        await elect(session, p, "V21", when)
    elif day == d("01-08"):
        await plan(session, p, "V11", when, d("01-20"))
    elif day == d("01-09"):
        await elect(session, p, "V12", when, party="probationary", party_date=D("2024-02-01"))
    elif day == d("01-11"):
        # V13's head starts a report and is in the middle of it until the 12th, 20:00: no reminder
        # to him on the 12th (the 11th was not a reminder day anyway)
        session.add(ConversationState(key=f"person:{p.heads['V13'].id}", flow="election", step="ask_date",
                                      updated_at=when, expires_at=at(d("01-12"), 20)))
    elif day == d("01-24"):
        await hold(session, p, "V11", when, d("01-24"))
        await plan(session, p, "V12", when, d("02-05"))


def _every_other(first: str, last: str) -> list[date]:
    out, day = [], d(first)
    while day <= d(last):
        out.append(day)
        day += timedelta(days=2)
    return out


EXPECTED_REMINDERS: dict[tuple[str, str], list[date]] = {
    ("election", "V13"): [d("01-06"), d("01-08"), d("01-10"), *_every_other("01-13", "02-06")],
    ("election", "V12"): [d("01-06"), d("01-08")],
    ("election", "V21"): [d("01-06")],
    ("congress_soon", "V11"): [d("01-17"), d("01-19")],
    ("congress_result", "V11"): [d("01-21"), d("01-23")],
    ("plan_congress", "V21"): _every_other("01-12", "02-06"),
    ("probation", "V12"): [d("01-18"), d("01-20"), d("01-22"), d("01-24")],
    ("congress_soon", "V12"): [d("02-02"), d("02-04")],
    ("congress_result", "V12"): [d("02-06")],
}
# (rule, village, since) → (day escalated, staff account label)
EXPECTED_ESCALATIONS = {
    ("election", "V13", "2025-01-05"): (d("01-11"), "staff_C1"),
    ("plan_congress", "V21", "2025-01-12"): (d("01-17"), "staff_C2"),
    ("election", "V22", "2025-01-12"): (d("01-18"), "staff_C2"),  # no head to remind: after 6 days
    ("probation", "V12", "2025-02-01"): (d("01-23"), "staff_C1"),
}


async def _run_campaign(db: Database, p: Province, first: date, last: date) -> None:
    day = first
    while day <= last:
        for hour in (8, 15, 22):  # 22:00 is in quiet hours: nothing at all
            async with transaction(db.sessions) as s:
                stats = await sweep(s, RULES, period=PERIOD, now=at(day, hour), tz=TZ, render=renderer(day))
            assert stats.quiet == (hour == 22)
            if hour == 8:
                async with transaction(db.sessions) as s:
                    await _events(s, p, day)
        day += timedelta(days=1)


async def test_campaign_day_by_day(db: Database) -> None:
    async with transaction(db.sessions) as s:
        p = await build_province(s)
    await _run_campaign(db, p, d("01-04"), d("02-06"))
    async with db.sessions() as s:
        rows = (await s.execute(select(OutboxMessage))).scalars().all()
    label = {v: k for k, v in p.accounts.items()}
    reminders: dict[tuple[str, str], list[date]] = defaultdict(list)
    per_day_accounts: dict[tuple[str, str, date], set[str]] = defaultdict(set)
    escalations = {}
    escalated_in: dict[tuple[str, date], set[str]] = defaultdict(set)  # (village, day) → staff told
    for row in rows:
        local_day = row.created_at.astimezone(TZ).date()
        parts = row.key.split(":")
        if row.kind == "reminder":
            _, rule, village, day, _acc = parts
            assert D(day) == local_day
            assert 7 <= row.created_at.astimezone(TZ).hour < 21
            if label[row.account_id] in (village, f"{village}z"):
                per_day_accounts[(rule, village, local_day)].add(label[row.account_id])
            if not reminders[(rule, village)] or reminders[(rule, village)][-1] != local_day:
                reminders[(rule, village)].append(local_day)
        else:
            assert row.kind == "escalation"
            _, commune, day, _digest, _acc = parts
            assert D(day) == local_day
            for village in re.findall(r"^– Thôn (\w+) \(", row.text, re.M):
                assert p.units[village].parent_id == p.id(commune)
                escalated_in[(village, local_day)].add(label[row.account_id])
    async with db.sessions() as s:
        audit = (await s.execute(select(AuditEvent).where(AuditEvent.action == "escalation"))).scalars().all()
    code = {u.id: c for c, u in p.units.items()}
    for event in audit:  # one event per village and late episode: each escalated once
        key = (event.field, code[event.village_id], event.new)
        assert key not in escalations, "escalated twice"
        day = event.at.astimezone(TZ).date()
        (staff,) = escalated_in[(code[event.village_id], day)]
        escalations[key] = (day, staff)
    assert dict(reminders) == EXPECTED_REMINDERS
    assert escalations == EXPECTED_ESCALATIONS
    # V21's head has a Telegram and a Zalo account: both are reminded, each once a day
    assert per_day_accounts[("plan_congress", "V21", d("01-12"))] == {"V21", "V21z"}
    assert all(len(v) == 1 for k, v in per_day_accounts.items() if k[1] != "V21")
    text = next(r.text for r in rows if r.kind == "escalation" and "Thôn V13" in r.text)
    assert "3 lần" in text and "06/01/2025" in text


async def test_sweep_twice_and_concurrently_enqueues_once(db: Database) -> None:
    async with transaction(db.sessions) as s:
        await build_province(s)
    now = at(d("01-10"))
    counts = []
    for _ in range(2):
        async with transaction(db.sessions) as s:
            counts.append((await sweep(s, RULES, period=PERIOD, now=now, tz=TZ, render=renderer(now.date()))).reminders)
    assert counts[0] == 5 and counts[1] == 0  # V11, V12, V13 and V21 (two accounts)


async def test_due_rules_and_late_villages(db: Database) -> None:
    async with transaction(db.sessions) as s:
        p = await build_province(s)
        await elect(s, p, "V11", at(d("01-05"), 10))
        await plan(s, p, "V11", at(d("01-08"), 10), d("01-20"))
        await elect(s, p, "V21", at(d("01-06"), 10))
        await elect(s, p, "V12", at(d("01-09"), 10), party="probationary", party_date=D("2024-02-01"))
    async with db.sessions() as s:
        due = await due_today(s, RULES, d("01-22"), period=PERIOD)
        assert {(x.rule, x.village_code, x.since) for x in due} == {
            ("election", "V13", d("01-05")), ("election", "V22", d("01-12")),
            ("plan_congress", "V21", d("01-12")), ("congress_result", "V11", d("01-20")),
            ("probation", "V12", D("2025-02-01"))}
        late, total = await late_villages(s, RULES, d("01-22"), p.id("P"))
        assert total == 4
        assert [x.village_code for x in late] == ["V13", "V21", "V22", "V11"]
        late_c1, total_c1 = await late_villages(s, RULES, d("01-22"), p.id("C1"), limit=1)
        assert total_c1 == 2 and [x.village_code for x in late_c1] == ["V13"]


def test_add_months_and_quiet_hours() -> None:
    assert add_months(D("2024-02-29"), 12) == D("2025-02-28")
    assert add_months(D("2024-01-31"), 1) == D("2024-02-29")
    assert add_months(D("2025-03-31"), -1) == D("2025-02-28")
    assert RULES.is_quiet(datetime(2025, 1, 1, 21, 0)) and RULES.is_quiet(datetime(2025, 1, 1, 6, 59))
    assert not RULES.is_quiet(datetime(2025, 1, 1, 7, 0)) and not RULES.is_quiet(datetime(2025, 1, 1, 20, 59))
