"""The digest chart shows every unit: one bar each, the tail grouped (and counted) past the limit."""

from __future__ import annotations

from datetime import date

from models.db import transaction
from models.demo.units import seed_demo
from models.progress.digest import worst_first
from models.progress.tallies import UnitProgress, progress_by_child
from models.units.tree import get_unit
from reports.chart import chart_bars, progress_chart
from tests.conftest import Database
from texts.catalog import t


async def test_every_commune_of_the_province_is_in_the_chart_data(db: Database) -> None:
    async with transaction(db.sessions) as session:
        await seed_demo(session, "post2025", total_villages=120)
        province = await get_unit(session, "post2025", "22")
        assert province is not None and province.id is not None
        lines = worst_first(await progress_by_child(session, province.id, date(2025, 1, 10)))
    names = {p.name for p in lines}
    assert len(names) == 54  # Quảng Ninh's communes and wards after 2025
    bars = chart_bars(lines)
    assert len(bars) == 54 and {b.label.rsplit(" (", 1)[0] for b in bars} == names
    assert sum(b.villages for b in bars) == 120
    assert progress_chart("Tỉnh Quảng Ninh", lines).startswith(b"\x89PNG")


def test_past_the_limit_the_tail_is_one_bar_that_says_how_many() -> None:
    lines = [UnitProgress(unit_id=i, name=f"Xã {i}", villages=10, by_status={"merged": i % 3, "no_election": 2})
             for i in range(1, 31)]
    bars = chart_bars(lines, max_bars=10)
    assert len(bars) == 10 and [b.label for b in bars[:9]] == [f"Xã {i} (10)" for i in range(1, 10)]
    tail = bars[-1]
    assert tail.units == 21 and tail.villages == 210
    assert tail.label == t("digest.chart.others", count=21, villages=210)
    assert tail.merged == sum(p.merged for p in lines[9:]) and sum(b.villages for b in bars) == 300
