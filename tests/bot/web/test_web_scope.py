"""Everything is scoped to the user's unit: pages, village pages, downloads, the admin page."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.app import App
from models.accounts.tables import Invite
from models.clock import utcnow
from models.delivery.tables import OutboxMessage
from models.election.reports import Actor, ElectionData, record_election
from models.progress.export import EXPORT_COLUMNS_NO_PHONES as EXPORT_COLUMNS
from models.units.tables import Unit
from tests.bot.web.conftest import Demo, csrf_of, login
from texts.catalog import t


async def _villages_of(app: App, commune_code: str) -> list[str]:
    async with app.sessions() as s:
        commune = (await s.execute(select(Unit).where(Unit.code == commune_code))).scalar_one()
        return list((await s.execute(select(Unit.code).where(Unit.parent_id == commune.id)
                                     .order_by(Unit.code))).scalars())


async def _report(app: App, village_code: str) -> None:
    async with app.sessions() as s, s.begin():
        village = (await s.execute(select(Unit).where(Unit.code == village_code))).scalar_one()
        data = ElectionData(date(2024, 12, 15), "Nguyễn Văn An", 320, 350, 400, "member")
        await record_election(s, village.id, data, Actor(None, "web"), utcnow(), date(2024, 12, 20))


async def test_a_clerk_sees_only_the_own_commune(client: TestClient, web_app: App, demo: Demo) -> None:
    mine, other = demo.units["canbo1"], demo.units["canbo2"]
    other_village = (await _villages_of(web_app, other))[0]
    my_village = (await _villages_of(web_app, mine))[0]
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
    assert (await client.get(f"/v/{my_village}")).status == 200
    assert (await client.get(f"/u/{mine}")).status == 200
    for path in (f"/v/{other_village}", f"/u/{other}", "/u/22", f"/export.csv?unit={other}",
                 f"/export.xlsx?unit={other}", f"/digest/chart.png?unit={other}", "/v/no-such-code"):
        resp = await client.get(path)
        assert resp.status == 404, path
        assert t("web.error.not_found") in await resp.text()
    assert (await client.get("/admin")).status == 403
    home = await client.get("/")
    page = await home.text()
    assert csrf_of(page)
    resp = await client.post("/admin/invite", data={"csrf": csrf_of(page), "unit": mine, "role": "staff"})
    assert resp.status == 403


async def test_the_village_page_shows_history_and_audit(client: TestClient, web_app: App, demo: Demo) -> None:
    village = (await _villages_of(web_app, demo.units["canbo1"]))[0]
    await _report(web_app, village)
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
    html = await (await client.get(f"/v/{village}")).text()
    assert t("status.elected_member") in html and "Nguyễn Văn An" in html
    assert t("web.village.kind_election") in html and t("web.audit.action.election.create") in html
    assert "15/12/2024" in html


async def test_csv_download_has_the_design_columns_and_only_rows_in_scope(client: TestClient, web_app: App,
                                                                          demo: Demo) -> None:
    mine = demo.units["canbo1"]
    villages = await _villages_of(web_app, mine)
    await _report(web_app, villages[0])
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
    resp = await client.get("/export.csv")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    records = [dict(zip(EXPORT_COLUMNS, r, strict=True)) for r in rows[1:]]
    assert [r["village_code"] for r in records] == villages
    assert {r["commune_code"] for r in records} == {mine}
    first = records[0]
    assert first["status"] == "elected_member" and first["election_date"] == "2024-12-15"
    assert (first["head_name"], first["head_party_status"]) == ("Nguyễn Văn An", "member")
    assert (first["votes_for"], first["valid_ballots"], first["roll"]) == ("320", "350", "400")
    assert first["district_code"] == "" and first["merged"] == ""
    assert all(r["status"] == "no_election" for r in records[1:])


async def test_xlsx_download_in_scope_and_admin_sees_everything(client: TestClient, web_app: App, demo: Demo) -> None:
    mine = demo.units["canbo1"]
    villages = await _villages_of(web_app, mine)
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
    resp = await client.get(f"/export.xlsx?unit={villages[0]}")  # a single village inside the scope
    assert resp.status == 200
    sheet = openpyxl.load_workbook(io.BytesIO(await resp.read())).active
    values = list(sheet.values)
    assert list(values[0]) == [t(f"export.{c}") for c in EXPORT_COLUMNS]
    assert len(values) == 2 and values[1][EXPORT_COLUMNS.index("village_code")] == villages[0]
    await client.post("/logout", data={"csrf": csrf_of(await (await client.get("/")).text())})
    assert await login(client, "admin", demo.passwords["admin"]) == 303
    rows = (await (await client.get("/export.csv")).read()).decode().splitlines()
    assert len(rows) == 1 + 150


async def test_admin_creates_invites_and_sees_the_outbox(client: TestClient, web_app: App, demo: Demo) -> None:
    village = (await _villages_of(web_app, demo.units["canbo2"]))[1]
    now = utcnow()
    async with web_app.sessions() as s, s.begin():
        from models.accounts.tables import ChannelAccount

        account = (await s.execute(select(ChannelAccount).where(
            ChannelAccount.external_id == demo.heads[0][0]))).scalar_one()
        for i, status in enumerate(("sent", "sent", "pending", "failed", "dead")):
            s.add(OutboxMessage(key=f"test:{i}", kind="reminder", account_id=account.id, text=f"nhắc {i}",
                                status=status, next_attempt_at=now, created_at=now))
    assert await login(client, "admin", demo.passwords["admin"]) == 303
    page = await (await client.get("/admin")).text()
    assert 'id="outbox-sent">2<' in page and 'id="outbox-waiting">1<' in page and 'id="outbox-failed">2<' in page
    assert "nhắc 4" in page
    resp = await client.post("/admin/invite", data={"csrf": csrf_of(page), "unit": village, "role": "village_head"})
    assert resp.status == 200
    async with web_app.sessions() as s:
        invite = (await s.execute(select(Invite))).scalar_one()
    assert invite.role == "village_head" and invite.code in await resp.text()
    resp = await client.post("/admin/invite", data={"csrf": csrf_of(page), "unit": village,
                                                    "role": "village_secretary"})  # the branch secretary's code
    assert resp.status == 200 and t("web.admin.role_village_secretary") in await resp.text()
    async with web_app.sessions() as s:
        roles = sorted(i.role for i in (await s.execute(select(Invite))).scalars())
    assert roles == ["village_head", "village_secretary"]
    resp = await client.post("/admin/invite", data={"csrf": csrf_of(page), "unit": village, "role": "staff"})
    assert resp.status == 400 and t("web.admin.staff_on_village") in await resp.text()
    resp = await client.post("/admin/invite", data={"csrf": csrf_of(page), "unit": "00000", "role": "staff"})
    assert resp.status == 404


async def test_the_late_list_is_the_own_commune_and_follows_the_reports(client: TestClient, web_app: App,
                                                                            demo: Demo) -> None:
    mine, other = demo.units["canbo1"], demo.units["canbo2"]
    villages = await _villages_of(web_app, mine)
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
    html = await (await client.get("/late")).text()  # the campaign's election day (2024) is long past
    assert all(f'href="/v/{v}"' in html for v in villages)
    assert f'href="/v/{other}.' not in html
    election_late = t("digest.late.election", since="", days=0).split("(")[0]
    plan_late = t("digest.late.plan_congress", since="", days=0).split("(")[0]
    assert election_late in html and plan_late not in html
    await _report(web_app, villages[0])  # elected, a full member: now the congress plan is late
    html = await (await client.get("/late")).text()
    row = html.split(f'href="/v/{villages[0]}"', 1)[1].split("</tr>", 1)[0]
    assert plan_late in row and election_late not in row
