"""The lists a clerk works with, over the demo ``make run`` makes (dated from today): every late village
reachable a page at a time, a search by village or head name without diacritics, sorting by a header;
the province's page finds a commune by name (no diacritics) or code, sorts its communes by every column
and shows a longer list a page at a time, its last line adding up the lines found; the demo lives in the
present (weeks late, not years) and has a giao ban round to look at."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import escape
from itertools import pairwise

import pytest
from aiohttp.test_utils import TestClient

from bot import app as app_module
from bot.web.dashboard import UNIT_SORTS
from bot.web.listing import PER_PAGE
from models.db import make_engine, make_session_factory, transaction
from models.units.tree import add_unit, get_unit
from tests.bot.web.conftest import Demo, login, make_config
from tests.bot.web.test_web_commune import rows_of
from tests.bot.web.test_web_status_counts import COUNTS, FIGURES, unit_lines
from texts.catalog import fold, t


@pytest.fixture
async def client(aiohttp_client, full_demo: Demo) -> AsyncIterator[TestClient]:  # type: ignore[no-untyped-def]
    app = await app_module.build(make_config(full_demo.path, 0))
    try:
        yield await aiohttp_client(app.web_app)
    finally:
        await app_module.stop(app)


def late_rows(html: str) -> list[list[str]]:
    """(village, head, what, days) of each village row of the late table (group rows left out)."""
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", r, re.S) for r in rows_of(html, "late")[1:]]
    return [[re.sub(r"<[^>]+>", "", c) for c in r] for r in rows if r]


async def test_every_late_village_is_reachable_page_by_page(client: TestClient, full_demo: Demo) -> None:
    assert await login(client, "admin", full_demo.passwords["admin"]) == 303
    first = await (await client.get("/late")).text()
    total = int(re.search(r"Trang 1/(\d+) · 1–\d+ trong (\d+)", first)[2])  # type: ignore[index]
    assert total > PER_PAGE  # the demo's province has more late villages than a page holds
    seen: list[list[str]] = []
    seen_html: list[str] = []
    per_page: list[list[int]] = []
    page, url = first, "/late"
    while True:
        seen += late_rows(page)
        per_page.append([int(r[3]) for r in late_rows(page)])
        seen_html.append("".join(rows_of(page, "late")))
        nxt = re.search(r'<a href="([^"]+)" rel="next"', page)
        if not nxt:
            break
        url = nxt[1].replace("&amp;", "&")
        page = await (await client.get(url)).text()
    codes = re.findall(r'href="/v/([\w.]+)"', "".join(seen_html))
    assert len(seen) == total and len(set(codes)) == total  # every late village once
    # oldest first across the pages (within a page they are grouped under their commune)
    assert all(min(a) >= max(b) for a, b in pairwise(per_page))
    assert 0 < max(per_page[0]) < 60  # the demo is dated from today: weeks late, not years


async def test_search_without_diacritics_and_sort_by_a_header(client: TestClient, full_demo: Demo) -> None:
    assert await login(client, "admin", full_demo.passwords["admin"]) == 303
    page = await (await client.get("/late", params={"sort": "days", "dir": "desc", "page": "4"})).text()
    head = next(r[1] for r in late_rows(page) if r[1])  # a head elected, congress late
    surname = fold(head.split()[0])  # e.g. "nguyen" for Nguyễn
    found = await (await client.get("/late", params={"q": surname})).text()
    rows = late_rows(found)
    assert rows and all(surname in fold(r[1]) or surname in fold(r[0]) for r in rows)
    assert f'value="{surname}"' in found  # the box keeps what was typed
    nothing = await (await client.get("/late", params={"q": "khongcothonnaonhuthe"})).text()
    assert escape(t("web.late.no_match", q="khongcothonnaonhuthe")) in nothing

    by_name = await (await client.get("/late", params={"sort": "village"})).text()
    assert 'aria-sort="ascending"' in by_name
    canbo1 = full_demo.passwords["canbo1"]
    await client.post("/logout", data={"csrf": re.search(r'name="csrf" value="([^"]+)"', by_name)[1]})  # type: ignore[index]
    assert await login(client, "canbo1", canbo1) == 303  # one commune: no groups, the order is the page's
    names = [r[0] for r in late_rows(await (await client.get("/late", params={"sort": "village"})).text())]
    assert len(names) > 1 and names == sorted(names, key=fold)
    down = [r[0] for r in late_rows(await (await client.get("/late", params={"sort": "village", "dir": "desc"}))
                                   .text())]
    assert down == sorted(names, key=fold, reverse=True)


async def test_the_commune_page_searches_and_sorts_its_villages(client: TestClient, full_demo: Demo) -> None:
    assert await login(client, "canbo1", full_demo.passwords["canbo1"]) == 303
    page = await (await client.get("/", params={"sort": "status"})).text()
    statuses = re.findall(r'class="status s-(\w+)"', "".join(rows_of(page, "villages")[1:]))
    from models.progress.status import STATUSES
    assert len(statuses) > 1 and statuses == sorted(statuses, key=STATUSES.index)
    name = re.search(r'<a href="/v/[^"]+">([^<]+)</a>', rows_of(page, "villages")[1])[1]  # type: ignore[index]
    found = await (await client.get("/", params={"q": fold(name)})).text()
    assert all(fold(name) in fold(re.sub(r"<[^>]+>", " ", r)) for r in rows_of(found, "villages")[1:])


async def test_the_demo_has_a_giao_ban_round_to_look_at(client: TestClient, full_demo: Demo) -> None:
    assert await login(client, "canbo1", full_demo.passwords["canbo1"]) == 303
    listing = await (await client.get("/giaoban")).text()
    meetings = re.findall(r'href="(/giaoban/m/\d+)"', listing)
    assert len(meetings) == 2 and t("gb.web.current_recurrence") in listing
    upcoming = await (await client.get(meetings[0])).text()
    assert "Sạt lở taluy" in upcoming and "cháy rừng" in upcoming  # reports, one sent as a single message
    past = await (await client.get(meetings[1])).text()
    assert 'id="conclusion-3"' in past and t("gb.web.task_due", due="").split("{")[0] in past


def shares(text: str) -> float:
    """``81,8%`` → 81.8."""
    return float(text.rstrip("%").replace(",", "."))


COLUMN_VALUE = {"unit": lambda line: fold(line["unit"].rsplit(" ", 1)[0]), "elected_pct": lambda line: shares(
    line["elected_pct"]), "merged_pct": lambda line: shares(line["merged_pct"])}


def column_value(line: dict[str, str], key: str) -> object:
    return COLUMN_VALUE[key](line) if key in COLUMN_VALUE else int(line[key])


async def test_the_province_page_finds_a_commune_by_name_without_diacritics_or_by_code(
        client: TestClient, full_demo: Demo) -> None:
    assert await login(client, "admin", full_demo.passwords["admin"]) == 303
    every, whole = unit_lines(await (await client.get("/")).text())
    assert len(every) > 50 and whole["unit"] == t("web.progress.total")  # the province's communes, one page
    found_page = await (await client.get("/", params={"q": "hai son"})).text()
    found, last = unit_lines(found_page)
    assert [line["unit"] for line in found] == ["Xã Hải Sơn 06724"]
    assert last["unit"] == t("web.progress.matching_total", n=1)  # the last line: the lines found, not the province
    assert all(last[k] == found[0][k] for k in FIGURES)
    assert escape(t("web.progress.by_status_of", unit="Tỉnh Quảng Ninh")) in found_page  # whose the counts are
    assert 'value="hai son"' in found_page
    by_code, _ = unit_lines(await (await client.get("/", params={"q": "06724"})).text())
    assert by_code == found
    several, last = unit_lines(await (await client.get("/", params={"q": "hai"})).text())
    assert len(several) > 2 and all("hai" in fold(line["unit"]) for line in several)
    assert [int(last[k]) for k in COUNTS] == [sum(int(line[k]) for line in several) for k in COUNTS]
    nothing = await (await client.get("/", params={"q": "khongcodonvinao"})).text()
    assert 'id="no-match"' in nothing and escape(t("web.progress.no_match", q="khongcodonvinao")) in nothing


@pytest.mark.parametrize("key", UNIT_SORTS)
async def test_the_province_page_sorts_its_communes_by_each_column(
        client: TestClient, full_demo: Demo, key: str) -> None:
    assert await login(client, "admin", full_demo.passwords["admin"]) == 303
    plain, whole = unit_lines(await (await client.get("/")).text())
    assert [line["unit"].rsplit(" ", 1)[1] for line in plain] == sorted(line["unit"].rsplit(" ", 1)[1]
                                                                          for line in plain)  # by code at first
    for direction in ("", "desc"):
        page = await (await client.get("/", params={"sort": key, "dir": direction})).text()
        lines, last = unit_lines(page)
        values = [column_value(line, key) for line in lines]
        assert values == sorted(values, reverse=direction == "desc"), (key, direction)  # type: ignore[type-var]
        assert sorted(map(str, lines)) == sorted(map(str, plain)) and last == whole  # the same lines, reordered
        assert f'aria-sort="{"descending" if direction else "ascending"}"' in page
    assert len({column_value(line, key) for line in plain}) > 3  # the column has values to order


async def test_a_province_with_more_communes_than_a_page_holds_is_shown_a_page_at_a_time(
        aiohttp_client, full_demo: Demo) -> None:  # type: ignore[no-untyped-def]
    """A province of 54 + 60 communes (as big as the largest after the merger): two pages, every commune
    once, the order kept across the pages, the last line the province's on each."""
    config = make_config(full_demo.path, 0)
    engine = make_engine(config.database.url)
    try:
        async with transaction(make_session_factory(engine)) as s:
            province = await get_unit(s, config.bot.period, "22")
            assert province is not None
            for i in range(60):
                commune = await add_unit(s, period=config.bot.period, code=f"99{i:03d}", level="commune",
                                         name=f"Thử {i}", parent=province, type="xã", full_name=f"Xã Thử {i}")
                for v in range(1 + i % 4):
                    await add_unit(s, period=config.bot.period, code=f"99{i:03d}.{v:02d}", level="village",
                                   name=str(v), parent=commune, type="thôn", full_name=f"Thôn {v}")
    finally:
        await engine.dispose()
    app = await app_module.build(config)
    try:
        client = await aiohttp_client(app.web_app)
        assert await login(client, "admin", full_demo.passwords["admin"]) == 303
        url, seen, pages = "/?sort=villages&dir=desc", [], 0
        while url:
            page = await (await client.get(url.replace("&amp;", "&"))).text()
            lines, last = unit_lines(page)
            assert last["unit"] == t("web.progress.total") and int(last["villages"]) == 1452 + sum(
                1 + i % 4 for i in range(60))
            seen += lines
            pages += 1
            nxt = re.search(r'<a href="([^"]+)" rel="next"', page)
            url = nxt[1] if nxt else ""
        assert pages == 2 and len(seen) == 114 == len({line["unit"] for line in seen})
        villages = [int(line["villages"]) for line in seen]
        assert villages == sorted(villages, reverse=True)  # the order runs on across the pages
        assert [int(last[k]) for k in COUNTS] == [sum(int(line[k]) for line in seen) for k in COUNTS]
        second = await (await client.get("/", params={"sort": "villages", "dir": "desc", "page": "2"})).text()
        assert t("web.list.page", page=2, pages=2, first=PER_PAGE + 1, last=114, total=114) in second
        found, _ = unit_lines(await (await client.get("/", params={"q": "xa thu 59"})).text())
        assert "Xã Thử 59 99059" in [line["unit"] for line in found]  # the last by code: page 2 unsearched
        assert all(all(w in fold(line["unit"]) for w in ("xa", "thu", "59")) for line in found)
    finally:
        await app_module.stop(app)


async def test_a_village_directly_under_the_province_is_a_line_with_its_status_found_and_sorted(
        aiohttp_client, full_demo: Demo) -> None:  # type: ignore[no-untyped-def]
    """The tree has variable depth: a village may hang under a unit that also has communes. Its line
    shows its status instead of figures; it is found, sorted with the others and counted in the last line."""
    config = make_config(full_demo.path, 0)
    engine = make_engine(config.database.url)
    try:
        async with transaction(make_session_factory(engine)) as s:
            province = await get_unit(s, config.bot.period, "22")
            await add_unit(s, period=config.bot.period, code="22.01", level="village", name="Đảo Trần",
                           parent=province, type="thôn", full_name="Thôn Đảo Trần")
    finally:
        await engine.dispose()
    app = await app_module.build(config)
    try:
        client = await aiohttp_client(app.web_app)
        assert await login(client, "admin", full_demo.passwords["admin"]) == 303
        page = await (await client.get("/", params={"q": "dao tran"})).text()
        assert re.search(r'href="/v/22\.01">Thôn Đảo Trần</a>.*?class="status s-no_election"', page, re.S)
        _, last = unit_lines(page)
        assert last["villages"] == "1" and last["unit"] == t("web.progress.matching_total", n=1)
        for key in UNIT_SORTS:
            for direction in ("", "desc"):
                sorted_page = await (await client.get("/", params={"sort": key, "dir": direction})).text()
                assert 'href="/v/22.01"' in sorted_page, key
        lines, whole = unit_lines(await (await client.get("/")).text())
        assert int(whole["villages"]) == sum(int(line["villages"]) for line in lines) + 1  # the village's own
    finally:
        await app_module.stop(app)
