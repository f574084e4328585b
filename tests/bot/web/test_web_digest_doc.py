"""The digest page is a document over the demo make run makes: no command to send, the same digest as
an XLSX (every late village) and a printable page; the commune chart counts villages by status."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator

import openpyxl
import pytest
from aiohttp.test_utils import TestClient

from bot import app as app_module
from tests.bot.web.conftest import Demo, login, make_config
from texts.catalog import t


@pytest.fixture
async def client(aiohttp_client, full_demo: Demo) -> AsyncIterator[TestClient]:  # type: ignore[no-untyped-def]
    app = await app_module.build(make_config(full_demo.path, 0))
    try:
        yield await aiohttp_client(app.web_app)
    finally:
        await app_module.stop(app)


@pytest.mark.parametrize("user", ["admin", "canbo1"])
async def test_the_digest_is_a_document_with_its_xlsx_and_print_view(client: TestClient, full_demo: Demo,
                                                                     user: str) -> None:
    assert await login(client, user, full_demo.passwords[user]) == 303
    page = await (await client.get("/digest")).text()
    doc = re.search(r'<article class="doc digest-doc" id="digest-doc">(.*?)</article>', page, re.S)
    assert doc, "no digest document"
    assert not re.search(r"/(chamtre|xuatfile|tonghop)\b", doc[1])  # nothing to send: it is a page
    assert 'id="figures"' in doc[1] and 'id="late"' in doc[1] and 'href="/digest.xlsx"' in page
    printed = await (await client.get("/digest/print")).text()
    assert 'id="digest-doc"' in printed and 'href="/digest.xlsx"' not in printed
    resp = await client.get("/digest.xlsx")
    assert resp.status == 200 and "attachment" in resp.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(await resp.read()))
    summary, middle, late = book.worksheets
    assert summary["A1"].value.startswith("BÁO CÁO TỔNG HỢP") and summary["A1"].font.b
    assert summary["A2"].value.startswith("Số liệu đến ngày") and summary["A3"].font.b
    total_late = int(re.search(r"THÔN CHẬM TIẾN ĐỘ \((\d+)\)", doc[1])[1])  # type: ignore[index]
    assert late.max_row - 1 == total_late  # every late village, not the page's first ones
    assert middle.title == (t("digest.xlsx.sheet_status") if user == "canbo1" else t("digest.xlsx.sheet_units"))
    chart = await client.get("/digest/chart.png")
    assert chart.status == 200 and (await chart.read()).startswith(b"\x89PNG")
