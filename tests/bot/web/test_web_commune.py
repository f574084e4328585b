"""Views designed for communes, on the demo with its story: a commune's villages with their own columns,
the late villages grouped under their commune (named once) with the day count once."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import date

import pytest
from aiohttp.test_utils import TestClient

from bot import app as app_module
from models.db import make_engine, make_session_factory, transaction
from models.demo.story import seed_story
from tests.bot.web.conftest import Demo, login, make_config
from texts.catalog import t

TODAY = date(2025, 2, 20)


@pytest.fixture
async def client(aiohttp_client, demo: Demo) -> AsyncIterator[TestClient]:  # type: ignore[no-untyped-def]
    config = make_config(demo.path, 0)
    engine = make_engine(config.database.url)
    async with transaction(make_session_factory(engine)) as session:
        await seed_story(session, config.bot.period, TODAY)
    await engine.dispose()
    app = await app_module.build(config)
    try:
        yield await aiohttp_client(app.web_app)
    finally:
        await app_module.stop(app)


def commune_of(demo: Demo, username: str) -> str:
    line = next(line for line in demo.lines if line.strip().startswith(username + " "))
    name = re.search(r"(?:Xã|Phường|Thị trấn) [^(]+", line)
    assert name, line
    return name[0].strip()


def rows_of(html: str, table_class: str) -> list[str]:
    table = re.search(rf'<table class="grid {table_class}[^"]*">(.*?)</table>', html, re.S)
    assert table, f"no table.{table_class}"
    return re.findall(r"<tr[^>]*>(.*?)</tr>", table[1], re.S)


def header_labels(head: str) -> list[str]:
    """The words of each header cell (a sorting link's arrow left out)."""
    return [re.sub(r"<[^>]+>|[▲▼]", "", th).strip() for th in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]


async def test_a_commune_page_lists_its_villages_with_their_own_columns(client: TestClient, demo: Demo) -> None:
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
    html = await (await client.get("/")).text()
    head, *rows = rows_of(html, "villages")
    for key in ("web.late.village", "web.progress.status", "web.commune.election", "web.commune.party",
                "web.commune.secretary", "web.commune.late_by"):
        assert t(key) in header_labels(head)
    assert rows and all(re.search(r'class="status s-\w+"', r) for r in rows)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r, re.S) for r in rows]
    assert all(len(c) == 6 for c in cells)
    for c in cells:  # each village with its code, what staff commands name it by
        code = re.search(r'href="/v/([^"]+)"', c[0])
        assert code and f'<span class="code">{code[1]}</span>' in c[0]
    elected = [c for c in cells if c[2]]
    assert elected and all(re.match(r"\d\d/\d\d/\d{4}: \w", c[2]) for c in elected)
    merged = [c for c in cells if "s-merged" in c[1]]
    assert merged and all(c[4] == t("web.commune.secretary_is_head") for c in merged)
    assert commune_of(demo, "canbo1") not in "".join(rows)  # the page names the commune, not every row


async def test_late_villages_grouped_under_their_commune_with_the_days_once(client: TestClient, demo: Demo) -> None:
    assert await login(client, "admin", demo.passwords["admin"]) == 303
    html = await (await client.get("/late")).text()
    rows = rows_of(html, "late")[1:]
    groups = [re.search(r"<th colspan=\"4\">(.*?)</th>", r) for r in rows]
    names = [g[1] for g in groups if g]
    assert names and len(names) == len(set(names))  # each commune once
    villages = [r for r, g in zip(rows, groups, strict=True) if not g]
    assert villages and all('<span class="code">' in r for r in villages)
    assert villages and all("chậm" not in re.sub(r"<[^>]+>", "", r) for r in villages)  # the days only in their column
    assert t("web.late.commune") not in html


async def test_a_commune_late_list_has_no_commune_column(client: TestClient, demo: Demo) -> None:
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
    html = await (await client.get("/late")).text()
    rows = rows_of(html, "late")
    assert len(rows) > 1 and not any('class="group"' in r for r in rows)
    assert commune_of(demo, "canbo1") not in "".join(rows)


async def test_the_change_log_reads_in_words_and_only_what_changed(client: TestClient, demo: Demo) -> None:
    assert await login(client, "admin", demo.passwords["admin"]) == 303
    html = await (await client.get("/u/" + demo.units["canbo1"])).text()
    held = [code for code, status in re.findall(r'href="/v/([\w.]+)">.*?class="status s-(\w+)"', html, re.S)
            if status in ("merged", "not_merged")]
    assert held
    page = await (await client.get(f"/v/{held[0]}")).text()
    audit = "".join(rows_of(page, "audit")[1:])
    empty = t("web.village.empty")
    assert f"{empty} → {empty}" not in audit
    for action in ("election.create", "congress.create", "congress.update"):
        assert action not in audit
    assert t("web.audit.action.election.create") in audit and t("web.audit.action.congress.update") in audit
    assert t("web.field.held_date") in audit and "held_date" not in audit
    assert "zalo" not in audit and "telegram" not in audit


async def test_a_reason_in_the_heads_words_has_a_label(client: TestClient, demo: Demo) -> None:
    with sqlite3.connect(demo.path) as conn:
        code = conn.execute("SELECT u.code FROM congress_report c JOIN unit u ON u.id = c.village_id "
                            "WHERE c.not_merged_note IS NOT NULL ORDER BY u.code").fetchone()[0]
    assert await login(client, "admin", demo.passwords["admin"]) == 303
    resp = await client.get(f"/v/{code}")
    page = await resp.text()
    assert resp.status == 200 and t("web.audit.field.not_merged_note") in page
    assert t("congress.reason.other") in page and ">other<" not in page
