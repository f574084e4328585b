"""The digest's first paragraph is the article's sentence in today's figures, forwardable upward as it
is: reproduced here from the demo province's export rows (village by village, not the digest's
aggregate), on SQLite and PostgreSQL — every full-member head in exactly one bucket, the thousands dot,
the probationary heads' eligibility dates ("merge next year"), no slash command."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

from sqlalchemy import select

from models.db import transaction
from models.demo.story import seed_story
from models.demo.units import seed_demo
from models.progress.digest import MEMBER_BUCKETS, compute
from models.progress.export import export_rows
from models.progress.status import ELECTED
from models.reminders.rules import Rules
from models.units.tables import Unit
from reports.digest_text import render_digest
from tests.conftest import Database
from texts.catalog import t
from texts.fmt import fmt_date, pct

PERIOD = "post2025"
TODAY = date(2024, 12, 31)  # a fortnight into the campaign: the probationary heads become eligible next year
RULES = Rules(election_date=date(2024, 12, 15), congress_deadline=date(2025, 6, 30))


def dot(n: int) -> str:
    return f"{n:,}".replace(",", ".")


async def test_the_first_paragraph_is_the_sentence_in_todays_figures(db: Database) -> None:
    async with transaction(db.sessions) as s:
        await seed_demo(s, PERIOD)
        await seed_story(s, PERIOD, TODAY)
    async with db.sessions() as s:
        province = (await s.execute(select(Unit).where(Unit.period == PERIOD, Unit.level == "province"))).scalar_one()
        figures = await compute(s, province, RULES, TODAY)
        rows = [r async for r in export_rows(s, PERIOD, TODAY, deadline=RULES.congress_deadline)]
    in_office = [r for r in rows if r["status"] in ELECTED]
    party = Counter(r["head_party_status"] for r in in_office)
    buckets = Counter(r["status"] for r in in_office if r["head_party_status"] == "member")
    assert set(buckets) <= set(MEMBER_BUCKETS)
    assert sum(buckets[b] for b in MEMBER_BUCKETS) == party["member"]  # every full member in one bucket
    pending = [r for r in rows if r["status"] == "merger_pending"]
    no_recognition = sum(not r["recognition_decision"] for r in pending)
    eligible = Counter(date.fromisoformat(r["eligible_from"]) for r in rows if r["eligible_from"])
    dates = [t("digest.breakdown_next_year" if d.year > TODAY.year else "digest.breakdown_date", n=dot(n),
               date=fmt_date(d)) for d, n in sorted(eligible.items())]
    admission = sum(bool(r["admission_planned_date"]) for r in in_office if r["head_party_status"] == "non_member")
    elected = len(in_office)
    want = t("digest.breakdown", date="31/12/2024", unit=province.full_name, elected=dot(elected),
             villages=dot(len(rows)), pct=pct(elected, len(rows)), member=dot(party["member"]),
             merged=dot(buckets["merged"]), pending=dot(len(pending)),
             pending_detail=t("digest.breakdown_pending", no_recognition=dot(no_recognition),
                              no_approval=dot(len(pending) - no_recognition)),
             not_merged=dot(buckets["not_merged"]), planned=dot(buckets["congress_planned"]),
             overdue=dot(buckets["congress_overdue"]), waiting=dot(buckets["elected_member"]),
             probationary=dot(party["probationary"]),
             eligible=t("digest.breakdown_eligible", dates=", ".join(dates[:3] + ["…"] * (len(dates) > 3))),
             non_member=dot(party["non_member"]), admission=t("digest.breakdown_admission", n=dot(admission)))
    text = render_digest(figures)
    first = text.split("\n\n")[1]
    assert first == want
    # what the sentence must show, in the demo's figures
    assert len(rows) == 1452 and elected > 1000 and f"{dot(elected)}/1.452" in first
    assert buckets["merged"] and pending and no_recognition and len(pending) - no_recognition and admission
    assert "nhất thể hóa năm sau" in first
    assert not re.search(r"/[a-z]", first)  # no command in what is forwarded
    assert not text.startswith("BÁO CÁO GIAO BAN")
