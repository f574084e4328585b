"""The web chat channel through its JSON API, against the real app and the real dialog engine."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.app import App
from bot.web.chat import WebChatChannel
from handlers.messages import Attachment, Choice, Reply
from models.accounts.tables import ChannelAccount
from tests.bot.web.conftest import Demo
from texts.catalog import t


async def _csrf(client: TestClient) -> str:
    html = await (await client.get("/chat")).text()
    return html.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


async def test_a_demo_head_talks_to_the_engine(client: TestClient, demo: Demo) -> None:
    account = demo.heads[0][0]
    accounts = (await (await client.get("/chat/api/accounts")).json())["accounts"]
    assert account in [a["id"] for a in accounts]
    token = await _csrf(client)
    resp = await client.post("/chat/api/send", json={"account": account, "text": "/baucu", "message_id": "m1"},
                             headers={"X-CSRF-Token": token})
    assert resp.status == 200
    data = await resp.json()
    texts = [m["text"] for m in data["messages"]]
    assert texts[0] == "/baucu" and t("election.ask.election_date") in texts
    # the same message id again is handled once (the engine de-duplicates)
    again = await client.post("/chat/api/send", json={"account": account, "text": "/baucu", "message_id": "m1"},
                              headers={"X-CSRF-Token": token})
    assert [m["from"] for m in (await again.json())["messages"]][len(texts):] == ["user"]
    polled = await (await client.get(f"/chat/api/messages?account={account}&since=1")).json()
    assert polled["boot"] == data["boot"] and polled["messages"][0]["seq"] == 2


async def test_choices_and_attachments_reach_the_page(client: TestClient, web_app: App, demo: Demo) -> None:
    channel = web_app.channels["web"]
    assert isinstance(channel, WebChatChannel) and channel.name == "web"
    account = demo.heads[1][0]
    await channel.send(account, Reply("Chọn", choices=[Choice("a", "Một"), Choice("b", "Hai")]))
    await channel.send(account, Reply("Tệp", attachment=Attachment("tiến độ.csv", b"a,b\n", "text/csv")))
    data = await (await client.get(f"/chat/api/messages?account={account}")).json()
    first, second = data["messages"]
    assert first["choices"] == [{"value": "a", "label": "Một"}, {"value": "b", "label": "Hai"}]
    resp = await client.get(second["file"]["url"])
    assert resp.status == 200 and await resp.read() == b"a,b\n"
    assert "filename*=UTF-8''ti%E1%BA%BFn%20%C4%91%E1%BB%99.csv" in resp.headers["Content-Disposition"]
    assert (await client.get("/chat/files/nope/x.csv")).status == 404


async def test_a_new_account_binds_with_an_invite(client: TestClient, web_app: App, demo: Demo) -> None:
    token = await _csrf(client)
    created = await (await client.post("/chat/api/accounts", json={}, headers={"X-CSRF-Token": token})).json()
    async with web_app.sessions() as s:
        n = (await s.execute(select(func.count()).select_from(ChannelAccount)
                             .where(ChannelAccount.channel == "web"))).scalar_one()
    assert created["id"].startswith("web-") and len(created["accounts"]) == n
    resp = await client.post("/chat/api/send", json={"account": created["id"], "text": "/baucu"},
                             headers={"X-CSRF-Token": token})
    assert t("auth.unbound") in [m["text"] for m in (await resp.json())["messages"]]


async def test_unknown_accounts_and_bad_bodies_are_refused(client: TestClient) -> None:
    token = await _csrf(client)
    resp = await client.post("/chat/api/send", json={"account": "someone", "text": "hi"},
                             headers={"X-CSRF-Token": token})
    assert resp.status == 404
    resp = await client.post("/chat/api/send", json={"account": "someone"}, headers={"X-CSRF-Token": token})
    assert resp.status == 400
    for raw in (b"[" * 100_000 + b"]" * 100_000, b"[1]", b"\xff", b""):  # deep nesting: 400, not a 500
        resp = await client.post("/chat/api/send", data=raw, headers={"X-CSRF-Token": token,
                                                                      "Content-Type": "application/json"})
        assert resp.status == 400, raw[:10]
    assert (await client.get("/chat/api/messages?account=nobody")).status == 200
