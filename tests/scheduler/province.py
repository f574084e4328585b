"""A small fixture province for the scheduler tests: P → C1 (V11, V12, V13), C2 (V21, V22).

Heads are bound for V11, V12, V13 (one Telegram account each) and V21 (Telegram and Zalo); V22 has
no head. Staff: one account for C1, one for C2, an admin for the province. Campaign election day
is Sunday 5 January 2025; V22's election is on 12 January (a per-village override).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from models.accounts.tables import ChannelAccount, Person
from models.election.reports import (
    Actor,
    ElectionData,
    plan_congress,
    record_congress_result,
    record_election,
)
from models.reminders.rules import Rules
from models.units.tables import Unit
from models.units.tree import add_unit

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PERIOD = "post2025"
ELECTION_DAY = date(2025, 1, 5)
RULES = Rules(election_date=ELECTION_DAY)  # grace 1, plan after 7, soon 3/1, repeat 2, escalate after 3
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def at(day: date, hour: int = 8, minute: int = 0) -> datetime:
    """An instant, given in the province's local time, as UTC."""
    return datetime.combine(day, time(hour, minute), TZ).astimezone(UTC)


@dataclass
class Province:
    units: dict[str, Unit] = field(default_factory=dict)
    heads: dict[str, Person] = field(default_factory=dict)  # village code → head
    accounts: dict[str, int] = field(default_factory=dict)  # label → account id

    def id(self, code: str) -> int:
        return self.units[code].id  # type: ignore[return-value]


async def _account(session: AsyncSession, p: Province, label: str, channel: str, person: Person) -> None:
    acc = ChannelAccount(channel=channel, external_id=f"ext-{label}", person_id=person.id, created_at=T0)
    session.add(acc)
    await session.flush()
    p.accounts[label] = acc.id  # type: ignore[assignment]


async def build_province(session: AsyncSession) -> Province:
    p = Province()
    prov = await add_unit(session, period=PERIOD, code="P", level="province", name="Tỉnh Thử", parent=None)
    p.units["P"] = prov
    for c, villages in (("C1", ("V11", "V12", "V13")), ("C2", ("V21", "V22"))):
        commune = await add_unit(session, period=PERIOD, code=c, level="commune", name=f"Xã {c}", parent=prov,
                                 full_name=f"Xã {c}")
        p.units[c] = commune
        for v in villages:
            p.units[v] = await add_unit(session, period=PERIOD, code=v, level="village", name=v, parent=commune,
                                        full_name=f"Thôn {v}")
    p.units["V22"].election_date = date(2025, 1, 12)
    for v in ("V11", "V12", "V13", "V21"):
        head = Person(full_name=f"Trưởng {v}", role="village_head", unit_id=p.id(v), created_at=T0)
        session.add(head)
        await session.flush()
        p.heads[v] = head
        await _account(session, p, v, "telegram", head)
    await _account(session, p, "V21z", "zalo", p.heads["V21"])
    for label, unit, role in (("staff_C1", "C1", "staff"), ("staff_C2", "C2", "staff"), ("admin_P", "P", "admin")):
        person = Person(full_name=f"Cán bộ {unit}", role=role, unit_id=p.id(unit), created_at=T0)
        session.add(person)
        await session.flush()
        await _account(session, p, label, "telegram", person)
    await session.flush()
    return p


ACTOR = Actor(account_id=None, channel="test")


async def elect(session: AsyncSession, p: Province, v: str, when: datetime, party: str = "member",
                party_date: date | None = None, election_date: date = ELECTION_DAY) -> None:
    data = ElectionData(election_date=election_date, head_name=f"Nguyễn Văn {v}", votes_for=80, valid_ballots=95,
                        roll=100, party_status=party, party_date=party_date)
    await record_election(session, p.id(v), data, ACTOR, when, when.astimezone(TZ).date())


async def plan(session: AsyncSession, p: Province, v: str, when: datetime, planned: date) -> None:
    await plan_congress(session, p.id(v), planned, ACTOR, when, when.astimezone(TZ).date())


async def hold(session: AsyncSession, p: Province, v: str, when: datetime, held: date, merged: bool = True) -> None:
    await record_congress_result(session, p.id(v), held_date=held, secretary_name=f"Nguyễn Văn {v}", merged=merged,
                                 reason=None if merged else "khác", actor=ACTOR, now=when,
                                 today=when.astimezone(TZ).date())
