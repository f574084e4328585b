"""Digest figures for the fixture province, checked against figures worked out by hand."""

from __future__ import annotations

from datetime import date

from models.db import transaction
from models.election.recognition import decide
from models.merger.records import approve_secretary
from models.progress.digest import DigestFigures, changes, compute, save_snapshot
from models.progress.tallies import UnitProgress
from models.reminders.rules import Due
from reports.digest_text import TELEGRAM_LIMIT, pct, render_digest
from tests.conftest import Database
from tests.scheduler.province import ACTOR, RULES, Province, at, build_province, elect, plan
from texts.catalog import t

D = date.fromisoformat


async def _story(db: Database) -> Province:
    """By 22 January: V11 elected (member) with a congress planned for the 20th (now overdue);
    V21 elected (member), no congress planned; V12 elected (probationary); V13, V22 nothing."""
    async with transaction(db.sessions) as s:
        p = await build_province(s)
        await elect(s, p, "V11", at(D("2025-01-05"), 10))
        await plan(s, p, "V11", at(D("2025-01-08"), 10), D("2025-01-20"))
        await elect(s, p, "V21", at(D("2025-01-06"), 10))
        await elect(s, p, "V12", at(D("2025-01-09"), 10), party="probationary", party_date=D("2024-02-01"))
    return p


async def test_province_figures_by_hand(db: Database) -> None:
    p = await _story(db)
    async with db.sessions() as s:
        f = await compute(s, p.units["P"], RULES, D("2025-01-22"))
    assert (f.villages, f.elected, f.planned, f.overdue, f.held, f.merged) == (5, 3, 0, 1, 0, 0)
    assert f.by_party == {"member": 2, "probationary": 1}
    assert f.late_total == 4
    assert [(x.village_code, x.rule, x.since) for x in f.late] == [
        ("V13", "election", D("2025-01-05")), ("V21", "plan_congress", D("2025-01-12")),
        ("V22", "election", D("2025-01-12")), ("V11", "congress_result", D("2025-01-20"))]
    assert f.late_parent[p.id("V13")] == "Xã C1"
    # worst first: C2 has 1 of 2 elected (50%), C1 2 of 3 (66.7%)
    assert [(c.code, c.villages, c.elected) for c in f.children] == [("C2", 2, 1), ("C1", 3, 2)]
    text = render_digest(f)
    for line in ("Đến ngày 22/01/2025, Tỉnh Thử có 3/5 thôn, bản, khu phố (60%) đã bầu trưởng thôn; trong đó 2 "
                 "trưởng thôn là đảng viên chính thức: 0 đã nhất thể hóa bí thư chi bộ kiêm trưởng thôn, 0 đã được "
                 "chọn làm bí thư chi bộ nhưng chưa đủ quyết định, 0 chi bộ đã chọn người khác làm bí thư, 0 đã có kế "
                 "hoạch đại hội chi bộ, 1 quá hạn đại hội chi bộ, 1 chưa có kế hoạch đại hội; 1 trưởng thôn là đảng "
                 "viên dự bị (đủ điều kiện làm bí thư chi bộ: 1 từ 01/02/2025); 0 trưởng thôn chưa là đảng viên.",
                 t("digest.late_group.election"),
                 "• Nhất thể hóa bí thư chi bộ kiêm trưởng thôn: 0/5 (0%)",
                 "1. Xã C2: bầu 1/2 (50%); nhất thể hóa 0 (0%)",
                 "2. Xã C1: bầu 2/3 (66,7%); nhất thể hóa 0 (0%); quá hạn ĐH 1",
                 "– Thôn V13 (Xã C1): chưa báo kết quả bầu trưởng thôn (ngày bầu 05/01/2025), chậm 17 ngày"):
        assert line in text.splitlines(), line


async def test_commune_scope_and_changes(db: Database) -> None:
    p = await _story(db)
    async with transaction(db.sessions) as s:
        f1 = await compute(s, p.units["C1"], RULES, D("2025-01-22"))
        assert (f1.villages, f1.elected, f1.overdue, f1.late_total) == (3, 2, 1, 2)
        assert [c.code for c in f1.children] == ["V13", "V11", "V12"]  # villages are the lines of a commune
        snap = await save_snapshot(s, f1, p.accounts["staff_C1"], "2025-01-22", at(D("2025-01-22"), 7))
        from tests.scheduler.province import hold

        await hold(s, p, "V11", at(D("2025-01-24"), 10), D("2025-01-24"))
        # merged once the commune recognised the election and the Party committee approved the secretary
        await decide(s, p.id("V11"), new_vote=False, decision="3/QĐ-UBND", on=D("2025-01-09"), actor=ACTOR,
                     now=at(D("2025-01-24"), 11), today=D("2025-01-24"))
        await approve_secretary(s, p.id("V11"), "9-QĐ/ĐU", D("2025-01-24"), ACTOR, at(D("2025-01-24"), 11),
                                D("2025-01-24"))
        await plan(s, p, "V12", at(D("2025-01-24"), 10), D("2025-02-05"))
    async with db.sessions() as s:
        f2 = await compute(s, p.units["C1"], RULES, D("2025-01-25"))
    assert changes(f2, snap) == {"planned": 1, "held": 1, "merged": 1, "overdue": -1, "late": -1}
    assert changes(f2, None) is None
    text = render_digest(f2, changes(f2, snap), D("2025-01-22"))
    assert "Thay đổi so với báo cáo trước (22/01/2025):" in text
    assert ("+1 có kế hoạch đại hội; +1 đã đại hội chi bộ; +1 nhất thể hóa; -1 quá hạn đại hội; "
            "-1 thôn chậm tiến độ") in text


def test_percentages() -> None:
    assert (pct(2, 3), pct(1, 2), pct(0, 0), pct(1451, 1452)) == ("66,7%", "50%", "0%", "99,9%")


def test_long_digest_fits_one_telegram_message() -> None:
    children = []
    for i in range(180):
        p = UnitProgress(unit_id=i, code=f"{i:05d}", name=f"Phường Hồng Hải Mở Rộng Số {i}", villages=40,
                         by_status={"no_election": 10, "merged": 20, "congress_overdue": 10})
        children.append(p)
    late = [Due("election", i, f"{i:05d}.01", f"Thôn Khe Tiền Nà Làng {i}", D("2025-01-05")) for i in range(15)]
    f = DigestFigures(unit_id=1, unit_code="22", unit_name="Tỉnh Quảng Ninh", today=D("2025-02-01"), villages=7200,
                      elected=5400, by_party={"member": 5000}, late_total=1800, late=late,
                      late_parent={i: "Xã Đồng Văn" for i in range(15)}, children=children)
    text = render_digest(f, {"elected": 12}, D("2025-01-31"))
    assert len(text) <= TELEGRAM_LIMIT
    assert "… và" in text and "đơn vị khác" in text and "thôn khác" in text
    assert text.count("Thôn Khe Tiền") >= 5


def test_unit_lines_shown_and_counted() -> None:
    """The unit lines are built only as far as they fit: those shown are the first ones in order, with
    their figures, and "… and N more" counts exactly the others; with room for all, all are shown."""
    children = [UnitProgress(unit_id=i, code=f"{i:05d}", name=f"Phường Hồng Hải Mở Rộng Số {i}", villages=40,
                             by_status={"no_election": 20 - odd, "merged": 20, "congress_overdue": odd})
                for i, odd in ((i, 10 * (i % 2)) for i in range(60))]
    f = DigestFigures(unit_id=1, unit_code="22", unit_name="Tỉnh Quảng Ninh", today=D("2025-02-01"), villages=2400,
                      elected=1800, children=children)
    text = render_digest(f)
    shown = [line for line in text.splitlines() if line.split(". ", 1)[0].isdigit()]
    assert 5 < len(shown) < 60
    for i, line in enumerate(shown):
        assert line.startswith(f"{i + 1}. Phường Hồng Hải Mở Rộng Số {i}: ")
        assert f"bầu {20 + 10 * (i % 2)}/40" in line and ("quá hạn ĐH 10" in line) == bool(i % 2)
    assert t("digest.more_units", n=60 - len(shown)) in text
    whole = render_digest(f, limit=100_000)
    assert sum(line.split(". ", 1)[0].isdigit() for line in whole.splitlines()) == 60
    assert "đơn vị khác" not in whole
