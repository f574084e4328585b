"""The lists a clerk works with, over the demo ``make run`` makes (dated from today): every late village
reachable a page at a time, a search by village or head name without diacritics, sorting by a header;
the demo lives in the present (weeks late, not years) and has a giao ban round to look at."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import escape
from itertools import pairwise

import pytest
from aiohttp.test_utils import TestClient

from bot import app as app_module
from bot.web.listing import PER_PAGE
from tests.bot.web.conftest import Demo, login, make_config
from tests.bot.web.test_web_commune import rows_of
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
    name = re.sub(r"<[^>]+>", "", re.findall(r"<td[^>]*>(.*?)</td>", rows_of(page, "villages")[1])[0])
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
