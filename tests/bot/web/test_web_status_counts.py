"""On every unit page, on both databases, "Số thôn theo trạng thái" agrees with the rows above it: on a
commune page, each status's count is the number of village rows showing that status (both from one
query); above a commune, the counts add up to the lines of the units under it. The demo data and the
province's default congress deadline are the real ones (a deadline that makes some villages overdue)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlmodel import col

from bot import app as app_module
from bot.config import load_config
from models.clock import local_date, utcnow
from models.demo.story import seed_story
from models.demo.units import seed_demo
from models.demo.web import seed_web_demo
from models.progress.status import STATUSES, village_status
from models.units.tables import Unit
from tests.bot.web.conftest import DEMO_VILLAGES, login, parse_demo_lines
from tests.conftest import Database
from texts.fmt import pct

COUNT_RE = re.compile(r'class="status s-(\w+)">[^<]*</span></td><td[^>]*>(\d+)</td>')
ROW_STATUS_RE = re.compile(r'class="status s-(\w+)"')
CELL_RE = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
ROW_RE = re.compile(r"<tr>(.*?)</tr>", re.S)
# the columns after the name
FIGURES = ("villages", "elected", "elected_pct", "held", "merged", "merged_pct", "overdue")
COUNTS = ("villages", "elected", "held", "merged", "overdue")


def _table(html: str, class_: str) -> str:
    start = html.index(f'<table class="grid {class_}')  # (a list may carry more classes)
    return html[start:html.index("</table>", start)]


def _cells(row: str) -> list[str]:
    return [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in CELL_RE.findall(row)]


def unit_lines(html: str) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The table of the units under a unit: its lines (name, code and figures as shown; a village directly
    under the unit, which shows a status instead, left out) and its last line, the sum."""
    table = _table(html, "progress")
    body, foot = table[table.index("<tbody>"):table.index("</tbody>")], table[table.index("<tfoot>"):]
    lines = [dict(zip(("unit", *FIGURES), cells, strict=False)) for r in ROW_RE.findall(body)
             if (cells := _cells(r)) and cells[1]]
    return lines, dict(zip(("unit", *FIGURES), _cells(ROW_RE.findall(foot)[0]), strict=False))


@pytest.fixture
async def app(db: Database, tmp_path: Path) -> AsyncIterator[tuple[app_module.App, str]]:
    """The app on ``db`` with the demo data, and the administrator's password."""
    config = load_config(None, env={"DATABASE_URL": db.url, "WEB_SECRET_KEY": "k"})
    config.scheduler.enabled = False
    config.scheduler.files_dir = str(tmp_path / "outbox")
    config.reminders.congress_deadline = date(2025, 6, 30)  # passed: full-member heads without a plan are overdue
    async with db.sessions() as s, s.begin():
        await seed_demo(s, config.bot.period, total_villages=DEMO_VILLAGES)
        lines = await seed_web_demo(s, config.bot.period, config.web.base_url)
        await seed_story(s, config.bot.period, local_date(utcnow(), config.tz))
    built = await app_module.build(config)
    try:
        yield built, parse_demo_lines(lines)[0]["admin"]
    finally:
        await app_module.stop(built)


async def test_every_unit_pages_counts_match_its_rows(aiohttp_client, app) -> None:  # type: ignore[no-untyped-def]
    app, password = app
    client: TestClient = await aiohttp_client(app.web_app)
    assert await login(client, "admin", password) == 303
    today = local_date(utcnow(), app.config.tz)
    async with app.sessions() as s:
        units = list((await s.execute(select(Unit).where(col(Unit.period) == app.config.bot.period,
                                                         col(Unit.level).in_(["province", "district", "commune"]))
                                      .order_by(col(Unit.code)))).scalars())
        villages = list((await s.execute(select(Unit).where(col(Unit.period) == app.config.bot.period,
                                                            col(Unit.level) == "village"))).scalars())
        truth = {v.parent_id: Counter[str]() for v in villages}
        for v in villages:
            assert v.id is not None
            truth[v.parent_id][await village_status(s, v.id, today, app.config.reminders.congress_deadline)] += 1
    seen: Counter[str] = Counter()
    communes = 0
    for unit in units:
        html = await (await client.get(f"/u/{unit.code}")).text()
        if unit.id not in truth and unit.level == "commune":
            continue  # a commune without villages: nothing to count
        counts = {s: int(n) for s, n in COUNT_RE.findall(_table(html, "counts"))}
        assert set(counts) == set(STATUSES), unit.code
        if unit.level == "commune":
            communes += 1
            rows = Counter(ROW_STATUS_RE.findall(_table(html, "villages")))
            for status in STATUSES:  # every status, zero included
                assert counts[status] == rows.get(status, 0), (unit.code, status, counts, rows)
                assert counts[status] == truth[unit.id].get(status, 0), (unit.code, status)
            seen.update(rows)
        else:
            shown, last = unit_lines(html)
            lines = [tuple(int(line[k]) for k in COUNTS) for line in shown]
            whole = tuple(int(last[k]) for k in COUNTS)
            assert lines and whole == tuple(map(sum, zip(*lines, strict=True))), unit.code
            for line in [*shown, last]:  # the shares are of the figures beside them
                assert line["elected_pct"] == pct(int(line["elected"]), int(line["villages"])), (unit.code, line)
                assert line["merged_pct"] == pct(int(line["merged"]), int(line["villages"])), (unit.code, line)
            villages_n, _elected, held, merged, overdue = whole
            assert sum(counts.values()) == villages_n
            assert (counts["merged"], counts["congress_overdue"]) == (merged, overdue), unit.code
            assert counts["merger_pending"] + counts["merged"] + counts["not_merged"] == held, unit.code
    assert communes > 10
    # the demo has every kind of village the counts could disagree on
    assert {"congress_overdue", "merged", "merger_pending", "not_merged", "no_election"} <= set(seen)
