"""Demo reports that tell the campaign's story (the article's figures) on the demo villages.

About 90% of the villages report an election held around the real election day (15/12/2024); almost
all heads are full party members, a few probationary, a few not members (some about to be admitted);
of the full members' branches some congresses are held (most merging secretary and head, some not, with
a reason), some planned, some overdue. Most results are recognised by the commune within days and most
secretaries approved by the Party committee; some still wait for one decision or the other (the village
is then ``merger_pending``, not merged); some heads were already the branch secretary when elected.
Deterministic: the same period gives the same story.

Every report is checked by the domain's rules (``check_election``) and written as the domain functions
(``record_election``, ``plan_congress``, ``record_congress_result``) write it — report row, revisions,
audit events (``revision_rows``) — with the time it would have been sent, so the change log looks real.
Each village gets a *fate* from :data:`FATES`; a new kind of story element (an invalid election, a giao
ban round) is one more fate and one more branch of ``_Story.play``.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from models.accounts.tables import Person
from models.clock import utcnow
from models.election.record import DEFAULT_TERM_MONTHS
from models.election.reports import CONGRESS_FIELDS, Actor, ElectionData, check_election, revision_rows
from models.election.tables import AuditEvent, CongressReport, ElectionReport, ReportRevision
from models.merger.rules import add_months
from models.merger.tables import CongressPlan
from models.typed_sql import table_of
from models.units.tables import Unit

ELECTION_WEEKS_AGO = 6  # the demo's election was held on the Sunday this many weeks before today
CONGRESS_DEADLINE_DAYS = 28  # each demo commune's congress deadline: this long after the election
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đỗ", "Bùi", "Đặng", "Ngô", "Dương", "Đinh")
HIGHLAND_SURNAMES = ("Vi", "Lục", "Hoàng", "Triệu", "Đặng", "Bàn", "Chíu", "Nông", "Lý", "Hà")
MALE = ("Văn Hùng", "Văn Thắng", "Đức Minh", "Văn Toàn", "Quang Huy", "Văn Bình", "Minh Tuấn", "Văn Sơn",
        "Xuân Trường", "Văn Lợi", "Đình Phúc", "Văn Khoa", "Hữu Nghĩa", "Văn Chiến", "Mạnh Cường")
FEMALE = ("Thị Hoa", "Thị Lan", "Thị Hằng", "Thị Thu", "Thị Mai", "Thị Nhung", "Thị Hương", "Thị Liên")
NOT_MERGED = ("head_not_member", "other_elected", "other")
NOTES = ("Chi bộ đề nghị chờ đồng chí trưởng thôn hết thời gian dự bị.",
         "Bí thư cũ còn nhiệm kỳ theo quyết định của Đảng ủy xã.")

# fate → weight (per thousand villages). Elected ≈ 90%.
FATES: dict[str, int] = {
    "no_report": 100,
    "elected": 110,            # elected, congress not planned yet
    "planned": 130,            # congress planned in the coming weeks
    "overdue": 60,             # congress planned, the date passed, no result
    "merged": 400,             # congress held, secretary = head, recognised and approved
    "merger_pending": 40,      # congress held, secretary = head, recognition or approval still missing
    "already_secretary": 20,   # the head was already the branch secretary when elected
    "not_merged": 50,          # congress held, another secretary (reason given)
    "probationary": 55,        # head admitted to the Party less than a year ago
    "non_member": 20,          # head not a member
    "admission_planned": 15,   # head not a member yet, admission planned
}
RECOGNISED_SHARE = 0.93  # of the results outside the pending-merger fate: recognised within 5 working days


def demo_election_day(today: date) -> date:
    """The demo lives in the present: its election day is a Sunday some weeks before ``today``, so a late
    village is days or weeks late, whatever day the demo is made."""
    day = today - timedelta(weeks=ELECTION_WEEKS_AGO)
    return day - timedelta(days=(day.weekday() + 1) % 7)


@dataclass(frozen=True, slots=True)
class Village:
    id: int
    highland: bool


def _at(day: date, rng: random.Random) -> datetime:
    """A plausible sending time on ``day`` (07:00–21:00 local), as an aware UTC datetime, never later than
    now (the demo is made in the present: nothing in it happened later today)."""
    local = datetime.combine(day, time(7)) + timedelta(minutes=rng.randrange(14 * 60))
    return min(local.replace(tzinfo=TZ).astimezone(ZoneInfo("UTC")), utcnow())


def person_name(rng: random.Random, highland: bool) -> str:
    surname = rng.choice(HIGHLAND_SURNAMES if highland else SURNAMES)
    return f"{surname} {rng.choice(FEMALE if rng.random() < 0.2 else MALE)}"


class _Story:
    """Builds the rows the domain functions would write, then writes them in a few bulk statements (the
    ORM path costs ~5 ms per report: 7 s for the province, and ``make run`` must stay quick)."""

    def __init__(self, rng: random.Random, today: date) -> None:
        self.rng, self.today = rng, today
        self.election_day = demo_election_day(today)
        self.elections: list[dict[str, Any]] = []
        self.congresses: dict[int, dict[str, Any]] = {}
        self.revisions: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.heads: dict[int, str] = {}

    def actor(self) -> Actor:
        return Actor(account_id=None, channel=self.rng.choice(("zalo", "zalo", "telegram", "web")))

    def _revise(self, kind: str, village_id: int, revision: int, new: dict[str, Any], old: dict[str, Any] | None,
                now: datetime) -> None:
        row, events = revision_rows(kind, village_id, revision, new, old, self.actor(), now)
        self.revisions.append(row)
        self.events.extend(events)

    def elect(self, v: Village, party: str = "member", party_date: date | None = None,
              recognised: bool | None = None) -> date:
        """An election result (``record_election``'s checks apply) with its record, term and, mostly, the
        commune's recognition (``recognised``: forced either way); returns the day it was sent."""
        held = self.election_day + timedelta(days=self.rng.choice((0, 0, 0, 0, 0, 0, 1, -1, 2, 7)))
        sent = min(held + timedelta(days=self.rng.choice((0, 0, 1, 1, 2, 3, 5))), self.today)
        roll = self.rng.randrange(80, 420)
        ballots = roll - self.rng.randrange(0, max(1, roll // 10))
        votes = max(roll // 2 + 1, ballots - self.rng.randrange(0, max(1, ballots // 4)))
        data = ElectionData(held, person_name(self.rng, v.highland), min(votes, ballots), ballots, roll, party,
                            party_date, attendees=min(roll, ballots + self.rng.randrange(0, 4)))
        check_election(data, sent)
        values, now = asdict(data), _at(sent, self.rng)
        # a non-member's date is the planned admission (as record_election stores it)
        values["admission_planned_date"] = values["party_date"] if party == "non_member" else None
        if party == "non_member":
            values["party_date"] = None
        values.update(valid=True, election_no=1, election_kind="regular", reported_on=sent, term_start=held,
                      term_end=add_months(held, DEFAULT_TERM_MONTHS), recognition=None, recognition_decision=None,
                      recognition_date=None)
        if recognised if recognised is not None else self.rng.random() < RECOGNISED_SHARE:
            values.update(recognition="recognised", recognition_decision=f"{self.rng.randrange(10, 300)}/QĐ-UBND",
                          recognition_date=min(sent + timedelta(days=self.rng.randrange(1, 6)), self.today))
        self.elections.append({"village_id": v.id, "revision": 1, "updated_at": now, **values})
        self._revise("election", v.id, 1, values, None, now)
        self.heads[v.id] = data.head_name
        return sent

    def _congress(self, v: Village, changes: dict[str, Any], now: datetime) -> None:
        """A congress save, as ``plan_congress`` / ``record_congress_result`` make it."""
        current = self.congresses.get(v.id)
        old = None if current is None else {f: current[f] for f in CONGRESS_FIELDS}
        new = {**(old or dict.fromkeys(CONGRESS_FIELDS)), **changes}
        revision = 1 if current is None else current["revision"] + 1
        self.congresses[v.id] = {"village_id": v.id, "revision": revision, "updated_at": now, **new}
        self._revise("congress", v.id, revision, new, old, now)

    def plan(self, v: Village, on: date, planned: date) -> None:
        self._congress(v, {"planned_date": planned}, _at(on, self.rng))

    def hold(self, v: Village, sent: date, merged: bool, approved: bool = True) -> None:
        held = min(sent + timedelta(days=self.rng.randrange(10, 45)), self.today)
        self.plan(v, min(sent + timedelta(days=self.rng.randrange(1, 5)), held), held)
        reason = None if merged else self.rng.choice(NOT_MERGED)
        approval = min(held + timedelta(days=self.rng.randrange(2, 15)), self.today) if approved else None
        self._congress(v, {"held_date": held, "merged": merged, "not_merged_reason": reason, "method": "congress",
                           "secretary_name": self.heads[v.id] if merged else person_name(self.rng, v.highland),
                           "not_merged_note": self.rng.choice(NOTES) if reason == "other" else None},
                       _at(held + timedelta(days=1), self.rng))
        if approval is not None:
            self._congress(v, {"approval_number": f"{self.rng.randrange(1, 200)}-QĐ/ĐU", "approval_date": approval},
                           _at(approval, self.rng))

    def already_secretary(self, v: Village) -> None:
        """The head was the branch secretary when elected (``record_already_secretary``)."""
        sent = self.elect(v)
        self._congress(v, {"secretary_name": self.heads[v.id], "merged": True, "method": "already_secretary"},
                       _at(sent, self.rng))

    def play(self, v: Village, fate: str) -> None:
        if fate == "no_report":
            return
        if fate in ("probationary", "non_member", "admission_planned"):
            party = "non_member" if fate == "admission_planned" else fate
            when = {"probationary": self.election_day - timedelta(days=self.rng.randrange(60, 300)),
                    "admission_planned": self.today + timedelta(days=self.rng.randrange(20, 120))}.get(fate)
            self.elect(v, party, when)
            return
        if fate == "already_secretary":
            self.already_secretary(v)
            return
        if fate == "merger_pending":  # one decision missing: the recognition (a third), else the approval
            recognised = self.rng.random() < 0.67
            self.hold(v, self.elect(v, recognised=recognised), True, approved=not recognised)
            return
        sent = self.elect(v, recognised=True if fate in ("merged", "not_merged") else None)
        if fate == "planned":
            self.plan(v, self.today - timedelta(days=self.rng.randrange(0, 5)),
                      self.today + timedelta(days=self.rng.randrange(2, 25)))
        elif fate == "overdue":
            planned = self.today - timedelta(days=self.rng.randrange(2, 20))
            self.plan(v, max(sent, planned - timedelta(days=self.rng.randrange(7, 20))), planned)
        elif fate in ("merged", "not_merged"):
            self.hold(v, sent, fate == "merged")

    async def write(self, session: AsyncSession) -> None:
        conn = await session.connection()
        for table, rows in ((ElectionReport, self.elections), (CongressReport, list(self.congresses.values())),
                            (ReportRevision, self.revisions), (AuditEvent, self.events)):
            if rows:
                await conn.execute(insert(table_of(table)), rows)


async def _villages(session: AsyncSession, period: str) -> list[Village]:
    """The period's villages without a report and without a bound head (those stay free to try)."""
    from models.demo.units import HIGHLAND

    commune = aliased(Unit)
    rows = (await session.execute(
        select(col(Unit.id), col(commune.name)).join(commune, col(commune.id) == Unit.parent_id)
        .outerjoin(ElectionReport, col(ElectionReport.village_id) == Unit.id)
        .where(col(Unit.period) == period, col(Unit.level) == "village", col(ElectionReport.id).is_(None),
               col(Unit.id).not_in(select(col(Person.unit_id)).where(col(Person.role) == "village_head")))
        .order_by(col(Unit.code)))).all()
    return [Village(int(vid or 0), any(h in name for h in HIGHLAND)) for vid, name in rows]


async def _date_the_campaign(session: AsyncSession, period: str, election_day: date, now: datetime) -> None:
    """The period's villages voted on ``election_day``; each commune's congress deadline follows it."""
    await session.execute(update(Unit).where(col(Unit.period) == period, col(Unit.level) == "village")
                          .values(election_date=election_day))
    planned = select(col(CongressPlan.unit_id))
    communes = (await session.execute(select(col(Unit.id)).where(
        col(Unit.period) == period, col(Unit.level) == "commune", col(Unit.id).not_in(planned)))).scalars().all()
    if communes:
        deadline = election_day + timedelta(days=CONGRESS_DEADLINE_DAYS)
        await session.execute(insert(table_of(CongressPlan)), [
            {"unit_id": cid, "deadline": deadline, "updated_at": now} for cid in communes])


async def seed_story(session: AsyncSession, period: str, today: date) -> Counter[str]:
    """Write the story's reports for the period's free villages; returns how many villages got each fate.
    ``today`` must be after the election day (the story is a campaign already under way)."""
    rng = random.Random(f"story-{period}")
    story = _Story(rng, today)
    await _date_the_campaign(session, period, story.election_day, _at(today, rng))
    fates, weights = list(FATES), list(FATES.values())
    counts: Counter[str] = Counter()
    for village in await _villages(session, period):
        fate = rng.choices(fates, weights)[0]
        story.play(village, fate)
        counts[fate] += 1
    await story.write(session)
    return counts
