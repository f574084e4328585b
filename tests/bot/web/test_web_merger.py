"""Commune staff record from the dashboard: a head's admission, the commune's congress deadline;
refusals say why and change nothing; another commune's village is not found."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from bot.app import App
from models.election.reports import get_election
from models.merger.records import get_plan, party_events
from tests.bot.web.conftest import Demo, csrf_of, login
from tests.bot.web.test_web_scope import _report, _villages_of
from texts.catalog import t


async def test_staff_record_admission_and_plan_from_the_dashboard(client: TestClient, web_app: App,
                                                                  demo: Demo) -> None:
    mine, other = demo.units["canbo1"], demo.units["canbo2"]
    village = (await _villages_of(web_app, mine))[0]
    await _report(web_app, village)  # a full-member head
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
    page = await (await client.get(f"/v/{village}")).text()
    assert 'id="staff-forms"' in page
    csrf = csrf_of(page)
    resp = await client.post(f"/v/{village}/party", data={"csrf": csrf, "kind": "admitted", "on": "2024-12-01"},
                             allow_redirects=False)
    assert resp.status == 400 and t("merger.party.refused.already_admitted") in await resp.text()
    resp = await client.post(f"/v/{village}/approve", data={"csrf": csrf, "number": "1-QĐ", "on": "2024-12-01"},
                             allow_redirects=False)
    assert resp.status == 400 and t("web.merger.refused.no_secretary") in await resp.text()
    other_village = (await _villages_of(web_app, other))[0]
    resp = await client.post(f"/v/{other_village}/party", data={"csrf": csrf, "kind": "admitted", "on": "2024-12-01"},
                             allow_redirects=False)
    assert resp.status == 404
    page = await (await client.get(f"/u/{mine}")).text()
    assert 'id="plan-form"' in page
    resp = await client.post(f"/u/{mine}/plan", data={"csrf": csrf_of(page), "deadline": "2025-03-31"},
                             allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == f"/u/{mine}"
    async with web_app.sessions() as s:
        election = await get_election(s, await _village_id(web_app, village))
        assert election is not None and election.party_status == "member"
        assert await party_events(s, await _village_id(web_app, village)) == []
        plan = await get_plan(s, await _unit_id(web_app, mine))
        assert plan is not None and plan.deadline.isoformat() == "2025-03-31"


async def _unit_id(app: App, code: str) -> int:
    from sqlalchemy import select

    from models.units.tables import Unit

    async with app.sessions() as s:
        return (await s.execute(select(Unit.id).where(Unit.code == code))).scalar_one()  # type: ignore[return-value]


async def _village_id(app: App, code: str) -> int:
    return await _unit_id(app, code)
