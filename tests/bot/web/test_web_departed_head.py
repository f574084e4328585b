"""A head who left office is not named as the head on the commune's page: after ``/khuyet`` the village's
row says the post is vacant (no head, no head's party status), then names the interim head once one is
appointed (``/lamthoi``) — the rule ``/trangthai`` and the export follow (models/election/head.py)."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.app import App
from models.units.tables import Unit
from tests.bot.web.conftest import Demo, login
from tests.bot.web.test_web_commune import rows_of
from tests.bot.web.test_web_scope import _villages_of
from tests.handlers.chat import Chat, invite, make_engine
from texts.catalog import t


async def _row(client: TestClient, code: str) -> list[str]:
    """The cells of the village's row on the commune's page, tags left out."""
    html = await (await client.get("/")).text()
    row = next(r for r in rows_of(html, "villages")[1:] if f'href="/v/{code}"' in r)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


async def test_a_head_who_left_is_not_named_on_the_commune_page(client: TestClient, web_app: App,
                                                                demo: Demo) -> None:
    code = (await _villages_of(web_app, demo.units["canbo1"]))[0]
    async with web_app.sessions() as s:
        village = (await s.execute(select(Unit).where(Unit.code == code))).scalar_one()
        commune = (await s.execute(select(Unit).where(Unit.id == village.parent_id))).scalar_one()
    engine = make_engine(web_app.sessions)
    head, staff = Chat(engine, account="head"), Chat(engine, account="staff")
    await head.send(f"/start {await invite(web_app.sessions, village)}")
    await staff.send(f"/start {await invite(web_app.sessions, commune, 'staff')}")
    for answer in ("/baucu", "15/12/2024", "Nguyễn Văn An", "350 330 320 301"):
        await head.send(answer)
    for choice in ("member", "no", "skip", "send"):
        await head.send(choice=choice)
    assert "Đã lưu kết quả" in head.text
    assert await login(client, "canbo1", demo.passwords["canbo1"]) == 303
    cells = await _row(client, code)
    assert cells[2] == t("web.commune.elected_on", date="15/12/2024", head="Nguyễn Văn An")
    assert cells[3] == t("party.member")
    await staff.send(f"/khuyet {code} thoi viec 19/12/2024 chuyển công tác")
    assert t("vacancy.cmd.recorded", village=village.full_name, kind="thôi việc", date="19/12/2024",
             due="19/06/2025") == staff.text
    cells = await _row(client, code)
    assert cells[2] == t("web.commune.vacant", date="15/12/2024") and cells[3] == ""
    assert "Nguyễn Văn An" not in " ".join(cells)
    await staff.send(f"/lamthoi {code} 20/12/2024 Trần Văn Bình")
    cells = await _row(client, code)
    assert cells[2] == t("web.commune.interim", date="15/12/2024", name="Trần Văn Bình") and cells[3] == ""
    assert "Nguyễn Văn An" not in " ".join(cells)
    # the same rule in /trangthai: the interim head, not the head who left
    interim = Chat(engine, account="interim")
    await interim.send(f"/start {await invite(web_app.sessions, village)}")
    await interim.send("/trangthai")
    assert "Trần Văn Bình" in interim.text and "Nguyễn Văn An" not in interim.text
