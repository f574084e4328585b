"""The giao ban pages through the real app: scope (another commune's meeting is "not found", and its
form refuses), bad input changes nothing, no conclusion before the meeting has begun, a recurrence is
saved, the XLSX has one row per village."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import openpyxl
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update

from bot.app import App
from models.giaoban.tables import GiaobanConclusion, GiaobanMeeting, GiaobanSchedule
from tests.bot.web.conftest import Demo, csrf_of, login
from texts.catalog import t


async def _count(app: App, table: type) -> int:
    async with app.sessions() as s:
        return (await s.execute(select(func.count()).select_from(table))).scalar_one()


async def _begin(app: App) -> None:
    """The meeting has begun (an hour ago)."""
    async with app.sessions() as s, s.begin():
        await s.execute(update(GiaobanMeeting).values(starts_at=datetime.now(UTC) - timedelta(hours=1)))


async def test_scope_bad_input_recurrence_and_xlsx(client: TestClient, web_app: App, demo: Demo) -> None:
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
    page = await (await client.get("/giaoban")).text()
    assert t("gb.web.none") in page
    csrf = csrf_of(page)
    day = (datetime.now(web_app.config.tz) + timedelta(days=2)).date().isoformat()
    form = {"csrf": csrf, "commune": demo.units["canbo1"], "date": day, "time": "8h", "place": "Nhà văn hóa"}
    resp = await client.post("/giaoban/schedule", data=form, allow_redirects=False)
    assert resp.status == 303
    meeting_url = resp.headers["Location"]
    for bad in ({"date": "mai"}, {"time": "25:00"}, {"commune": demo.units["canbo2"]}, {"date": "2001-01-01"}):
        assert (await client.post("/giaoban/schedule", data={**form, **bad}, allow_redirects=False)).status == 400
    assert await _count(web_app, GiaobanMeeting) == 1
    ok = await client.post("/giaoban/recurrence", data={**form, "kind": "monthly_nth", "weekday": "0", "nth": "1"})
    assert ok.status == 200 and 'id="recurrence-saved"' in await ok.text()
    assert "Hằng tháng, vào thứ … của tuần thứ …: Hai, 1 — 08:00, Nhà văn hóa" in await ok.text()
    assert (await client.post("/giaoban/recurrence", data={**form, "kind": "yearly"})).status == 400
    assert await _count(web_app, GiaobanSchedule) == 1

    xlsx = await client.get(meeting_url + "/pack.xlsx")
    rows = list(openpyxl.load_workbook(io.BytesIO(await xlsx.read())).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0][:3] == (t("gb.pack.col_village"), t("gb.pack.col_reported"), t("gb.pack.col_attending"))
    assert len(rows) > 2 and all(r[1] == t("gb.pack.no") for r in rows[1:])
    early = await client.post(meeting_url + "/conclusion", data={"csrf": csrf, "text": "Làm đường liên thôn"})
    assert early.status == 400 and t("gb.refused.not_started") in await early.text()  # before the meeting
    assert 'id="conclusion-form"' not in await (await client.get(meeting_url)).text()
    await _begin(web_app)
    assert 'id="conclusion-form"' in await (await client.get(meeting_url)).text()
    short = await client.post(meeting_url + "/conclusion", data={"csrf": csrf, "text": "ok"})
    assert short.status == 400 and t("gb.refused.conclusion_empty") in await short.text()
    past = await client.post(meeting_url + "/conclusion", data={"csrf": csrf, "text": "Làm đường", "due": "2001-01-01"})
    assert past.status == 400
    assert await _count(web_app, GiaobanConclusion) == 0

    await client.post("/logout", data={"csrf": csrf})
    assert await login(client, "canbo2", demo.passwords["canbo2"]) == 303
    other = await client.get(meeting_url)
    assert other.status == 404
    csrf2 = csrf_of(await (await client.get("/giaoban")).text())
    sneaky = await client.post(meeting_url + "/conclusion", data={"csrf": csrf2, "text": "Việc của xã khác"})
    assert sneaky.status == 404 and (await client.get(meeting_url + "/pack.xlsx")).status == 404
    assert await _count(web_app, GiaobanConclusion) == 0
