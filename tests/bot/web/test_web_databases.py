"""The dashboard's queries on both databases: SQLite and the real PostgreSQL (the ``db`` fixture)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot import app as app_module
from bot.config import load_config
from models.accounts.tables import ChannelAccount
from models.clock import utcnow
from models.delivery.tables import OutboxMessage
from models.demo.units import seed_demo
from models.demo.web import seed_web_demo
from tests.bot.web.conftest import DEMO_VILLAGES, csrf_of, login, parse_demo_lines
from tests.conftest import Database


@pytest.fixture
async def both(db: Database, tmp_path: Path) -> AsyncIterator[tuple[app_module.App, dict[str, str], dict[str, str]]]:
    config = load_config(None, env={"DATABASE_URL": db.url, "WEB_SECRET_KEY": "k"})
    config.scheduler.enabled = False
    config.scheduler.files_dir = str(tmp_path / "outbox")  # built downloads, not in the work tree
    async with db.sessions() as s, s.begin():
        await seed_demo(s, config.bot.period, total_villages=DEMO_VILLAGES)
        passwords, units, _ = parse_demo_lines(await seed_web_demo(s, config.bot.period, config.web.base_url))
        account = (await s.execute(select(ChannelAccount).where(ChannelAccount.channel == "web"))).scalars().first()
        assert account is not None
        for i, status in enumerate(("sent", "pending", "dead")):
            s.add(OutboxMessage(key=f"k{i}", kind="digest", account_id=account.id, text="x", status=status,
                                next_attempt_at=utcnow(), created_at=utcnow()))
    app = await app_module.build(config)
    try:
        yield app, passwords, units
    finally:
        await app_module.stop(app)


async def test_every_page_on_both_databases(aiohttp_client, both) -> None:  # type: ignore[no-untyped-def]
    app, passwords, units = both
    client: TestClient = await aiohttp_client(app.web_app)
    assert await login(client, "admin", "wrong") == 401
    assert await login(client, "admin", passwords["admin"]) == 303
    for path in ("/", f"/u/{units['canbo1']}", "/late", "/digest", "/downloads", "/admin", "/export.csv",
                 "/export.xlsx", f"/v/{units['canbo1']}.01"):
        assert (await client.get(path)).status == 200, path
    admin = await (await client.get("/admin")).text()
    assert 'id="outbox-sent">1<' in admin and 'id="outbox-waiting">1<' in admin and 'id="outbox-failed">1<' in admin
    resp = await client.post("/admin/invite", data={"csrf": csrf_of(admin), "unit": units["canbo2"], "role": "staff"})
    assert resp.status == 200 and 'id="invite-created"' in await resp.text()
    rows = (await (await client.get(f"/export.csv?unit={units['canbo2']}")).read()).decode().splitlines()
    assert len(rows) > 2 and all(f",{units['canbo2']}," in r for r in rows[1:])
