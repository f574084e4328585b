"""``/healthz``: the database and the scheduler's role in this worker."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient

from bot import app as app_module
from bot.config import load_config
from tests.conftest import Database


async def test_healthz_tells_the_scheduler_role(aiohttp_client, db: Database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = load_config(None, env={"DATABASE_URL": db.url, "WEB_SECRET_KEY": "k"})
    config.scheduler.files_dir = str(tmp_path / "outbox")
    app = await app_module.build(config)
    try:
        client: TestClient = await aiohttp_client(app.web_app)
        assert app.scheduler is not None
        before = await (await client.get("/healthz")).json()
        # SQLite is one process: the scheduler always runs; PostgreSQL: it runs once it holds the lease
        role = "single" if db.kind == "sqlite" else "standby"
        assert before == {"ok": True, "database": "ok", "scheduler": role, "role": role, "inbox_pending": 0,
                          "outbox_waiting": 0, "outbox_oldest_seconds": 0.0}
        await app.scheduler.start()
        after = await (await client.get("/healthz")).json()
        assert after["scheduler"] == ("single" if db.kind == "sqlite" else "leader")
    finally:
        await app_module.stop(app)
        if app.scheduler is not None:
            await app.scheduler.stop()
