"""The commune's decision on the village page: recognised with a number and date, a new vote ordered,
a bad or out-of-scope form refused (nothing changes)."""

from __future__ import annotations

from datetime import date

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.app import App
from models.clock import utcnow
from models.db import transaction
from models.election.reports import get_election
from models.photos.image import reencode
from models.photos.store import save_photo
from models.units.changes import merge_villages
from models.units.tables import Unit
from tests import images
from tests.bot.web.conftest import Demo, csrf_of, login
from tests.bot.web.test_web_scope import _report, _villages_of
from texts.catalog import t


async def _election(app: App, code: str):  # type: ignore[no-untyped-def]
    async with app.sessions() as s:
        village = (await s.execute(select(Unit).where(Unit.code == code))).scalar_one()
        return await get_election(s, village.id)  # type: ignore[arg-type]


async def test_recognise_and_order_a_new_vote_on_the_village_page(client: TestClient, web_app: App,
                                                                  demo: Demo) -> None:
    one, two = (await _villages_of(web_app, demo.units["canbo1"]))[:2]
    other = (await _villages_of(web_app, demo.units["canbo2"]))[0]
    for code in (one, two, other):
        await _report(web_app, code)
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
    page = await (await client.get(f"/v/{one}")).text()
    assert t("web.decision.recognise") in page and t("statuscmd.record.pending", deadline="27/12/2024") in page
    token = csrf_of(page)
    bad = await client.post(f"/v/{one}/decision", data={"csrf": token, "action": "recognise", "decision": "12/QĐ"})
    assert bad.status == 400 and t("web.decision.incomplete") in await bad.text()
    assert (await _election(web_app, one)).recognition is None
    foreign = await client.post(f"/v/{other}/decision", data={"csrf": token, "action": "new_vote"})
    assert foreign.status == 404 and (await _election(web_app, other)).recognition is None
    ok = await client.post(f"/v/{one}/decision", data={"csrf": token, "action": "recognise",
                                                       "decision": "12/QĐ-UBND", "date": "2024-12-20"})
    assert ok.status == 200 and 'class="ok" id="decision-result"' in await ok.text()
    r = await _election(web_app, one)
    assert (r.recognition, r.recognition_decision, str(r.recognition_date)) == ("recognised", "12/QĐ-UBND",
                                                                               "2024-12-20")
    page = await (await client.get(f"/v/{one}")).text()
    assert t("web.decision.recognise") not in page and "12/QĐ-UBND" in page
    await client.post(f"/v/{two}/decision", data={"csrf": token, "action": "new_vote"})
    assert t("status.revote_needed") in await (await client.get(f"/v/{two}")).text()


async def test_a_merged_village_page_shows_the_old_villages_history(client: TestClient, web_app: App,
                                                                    demo: Demo) -> None:
    one, two = (await _villages_of(web_app, demo.units["canbo1"]))[:2]
    await _report(web_app, one)
    async with transaction(web_app.sessions) as s:
        await merge_villages(s, "post2025", [one, two], "MERGED1", "Hợp Nhất", date(2025, 1, 5), utcnow())
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
    page = await (await client.get("/v/MERGED1")).text()
    assert 'id="predecessors"' in page and one in page and two in page
    # the old village's revision and audit
    assert t("web.audit.action.election.create") in page and "Nguyễn Văn An" in page
    assert (await client.get(f"/v/{one}")).status == 404  # retired: reached through its successor


async def test_photos_are_listed_and_downloadable_in_scope_only(client: TestClient, web_app: App,
                                                              demo: Demo) -> None:
    one = (await _villages_of(web_app, demo.units["canbo1"]))[0]
    other = (await _villages_of(web_app, demo.units["canbo2"]))[0]
    jpeg = reencode(images.jpeg(120, 90))
    ids = {}
    async with transaction(web_app.sessions) as s:
        for code in (one, other):
            village = (await s.execute(select(Unit).where(Unit.code == code))).scalar_one()
            ids[code] = (await save_photo(s, village.id, "election", jpeg, None, "zalo", utcnow())).id  # type: ignore[arg-type]
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
    page = await (await client.get(f"/v/{one}")).text()
    assert 'id="photos"' in page and f"/photo/{ids[one]}" in page and f"/photo/{ids[other]}" not in page
    resp = await client.get(f"/photo/{ids[one]}")
    assert resp.status == 200 and resp.content_type == "image/jpeg" and await resp.read() == jpeg.content
    assert f"bien-ban-bau-cu-{one}-" in resp.headers["Content-Disposition"]
    assert (await client.get(f"/photo/{ids[other]}")).status == 404  # another commune's photo
    assert (await client.get("/photo/nope")).status == 404
    assert (await client.get(f"/photo/{max(ids.values()) + 1}")).status == 404
