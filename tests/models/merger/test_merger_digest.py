"""The article's figures (DESIGN §1): in May 2017, 1,402 villages (≈90%) had elected their head,
1,398 of them full party members (to be merged at the congress), the rest probationary or about to be
admitted (to be merged later). A generated province with those figures gives a digest whose
breakdown states exactly those numbers; a commune's digest fits one phone screen."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import insert

from models.db import transaction
from models.election.tables import ElectionReport
from models.progress.digest import compute
from models.reminders.rules import Rules
from models.typed_sql import table_of
from models.units.tables import Unit, UnitAncestor
from reports.digest_text import COMMUNE_LIMIT, render_digest
from tests.conftest import Database
from texts.catalog import t

TODAY = date(2017, 5, 31)
NOW = datetime(2017, 5, 31, 3, tzinfo=UTC)
COMMUNES, PER_COMMUNE = 12, 130  # 1,560 villages
RULES = Rules(election_date=date(2017, 4, 16), congress_deadline=date(2017, 9, 30))


async def _province(db: Database) -> None:
    """Province 1 → communes 2..13 → 1,560 villages; the first 1,402 elected: 1,398 full members,
    2 probationary (admitted 02/09/2016 and 15/10/2016), 2 not members (one with an admission planned)."""
    units = [{"id": 1, "period": "p", "code": "22", "level": "province", "name": "Quảng Ninh", "type": "",
              "full_name": "Tỉnh Quảng Ninh", "parent_id": None, "depth": 0}]
    closure = [{"ancestor_id": 1, "descendant_id": 1, "distance": 0}]
    village_ids = []
    for c in range(COMMUNES):
        cid = 2 + c
        units.append({"id": cid, "period": "p", "code": f"C{c:02d}", "level": "commune", "name": f"Xã {c}",
                      "type": "xã", "full_name": f"Xã {c}", "parent_id": 1, "depth": 1})
        closure += [{"ancestor_id": cid, "descendant_id": cid, "distance": 0},
                    {"ancestor_id": 1, "descendant_id": cid, "distance": 1}]
        for v in range(PER_COMMUNE):
            vid = 100 + c * PER_COMMUNE + v
            village_ids.append(vid)
            units.append({"id": vid, "period": "p", "code": f"V{vid}", "level": "village", "name": f"{v}",
                          "type": "thôn", "full_name": f"Thôn {v}", "parent_id": cid, "depth": 2})
            closure += [{"ancestor_id": vid, "descendant_id": vid, "distance": 0},
                        {"ancestor_id": cid, "descendant_id": vid, "distance": 1},
                        {"ancestor_id": 1, "descendant_id": vid, "distance": 2}]
    parties = (["member"] * 1398 + ["probationary", "probationary", "non_member", "non_member"])
    dates = {1398: date(2016, 9, 2), 1399: date(2016, 10, 15)}
    elections = [{"village_id": vid, "revision": 1, "election_date": date(2017, 4, 16), "head_name": "Nguyễn Văn An",
                  "votes_for": 300, "valid_ballots": 350, "roll": 400, "party_status": party,
                  "party_date": dates.get(i), "admission_planned_date": date(2017, 7, 1) if i == 1400 else None,
                  "updated_at": NOW}
                 for i, (vid, party) in enumerate(zip(village_ids, parties, strict=False))]
    async with transaction(db.sessions) as s:
        conn = await s.connection()
        await conn.execute(insert(table_of(Unit)), units)
        await conn.execute(insert(table_of(UnitAncestor)), closure)
        await conn.execute(insert(table_of(ElectionReport)), elections)


async def test_the_articles_figures(db: Database) -> None:
    await _province(db)
    async with db.sessions() as s:
        province = await s.get(Unit, 1)
        commune = await s.get(Unit, 2)
        assert province is not None and commune is not None
        f = await compute(s, province, RULES, TODAY)
        fc = await compute(s, commune, RULES, TODAY)
    assert (f.villages, f.elected, f.by_party["member"]) == (1560, 1402, 1398)
    text = render_digest(f)
    assert t("digest.breakdown", date="31/05/2017", unit="Tỉnh Quảng Ninh", elected="1.402", villages="1.560",
             pct="89,9%", member="1.398", merged=0, pending=0, pending_detail="", not_merged=0, planned=0, overdue=0,
             waiting="1.398", probationary=2,
             eligible=" (đủ điều kiện làm bí thư chi bộ: 1 từ 02/09/2017, 1 từ 15/10/2017)", non_member=2,
             admission=", trong đó 1 đã có kế hoạch kết nạp Đảng") in text.splitlines()
    assert "1.402/1.560 thôn, bản, khu phố (89,9%) đã bầu trưởng thôn; trong đó 1.398 trưởng thôn là đảng viên" in text
    # a commune: one phone screen, the full list by /chamtre
    commune_text = render_digest(fc)
    assert fc.villages == 130 and fc.late_total == 0
    assert len(commune_text) <= COMMUNE_LIMIT and "Thôn 1" not in commune_text


async def test_a_late_commune_digest_fits_one_phone_screen(db: Database) -> None:
    await _province(db)
    async with db.sessions() as s:
        commune = await s.get(Unit, 13)  # the last commune: 130 villages, none elected
        assert commune is not None
        f = await compute(s, commune, RULES, TODAY, late_limit=60)
    text = render_digest(f, {"elected": 3}, date(2017, 5, 30))
    assert f.late_total == 130 and len(text) <= COMMUNE_LIMIT
    assert t("digest.late_group.election") in text and "/chamtre" in text
    assert t("digest.more_late", n=f.late_total - text.count("\n– ")) in text
