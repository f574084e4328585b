"""``/metrics`` parsed with prometheus_client's own parser: steps and their latency, inbox lag, outbox
depth and oldest age, sends by result (ok, 429, forbidden, failed), scheduler jobs, the leader role;
``/healthz`` with the role, the database and the queues. On both databases."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from bot import app as app_module
from bot.config import load_config
from bot.delivery import RateLimiter, drain_once
from bot.pipeline.errors import SendBlocked, SendRejected, SendRetryLater
from handlers.messages import Incoming
from models.accounts.tables import ChannelAccount
from models.db import transaction
from models.delivery.inbox import record
from models.delivery.outbox import enqueue
from tests.conftest import Database
from tests.scheduler.fake_channel import FakeChannel


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(sample name, its labels sorted) → value, for every sample of the page."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_and_healthz(aiohttp_client, db: Database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = load_config(None, env={"DATABASE_URL": db.url, "WEB_SECRET_KEY": "k"})
    config.scheduler.files_dir = str(tmp_path / "outbox")
    app = await app_module.build(config)
    try:
        client: TestClient = await aiohttp_client(app.web_app)
        before = samples(await (await client.get("/metrics")).text())
        now = datetime.now(UTC)
        await app.dialog.step_for_web(Incoming(channel="web", account_id="metrics-1", text="/trogiup", message_id="m1"))
        async with transaction(db.sessions) as s:
            for n, who in enumerate(("ok", "slow", "gone", "bad")):
                account = ChannelAccount(channel="telegram", external_id=who, created_at=now)
                s.add(account)
                await s.flush()
                assert account.id is not None
                await enqueue(s, key=f"metrics:{n}", kind="reminder", account_id=account.id, text=who,
                              now=now - timedelta(minutes=5))
            await record(s, "telegram", "u-1", "55", {"update_id": 1}, now - timedelta(seconds=90))
        channel = FakeChannel("telegram")
        channel.always = {"slow": SendRetryLater(30.0, "429 Too Many Requests"), "gone": SendBlocked("blocked"),
                          "bad": SendRejected("400 chat not found")}
        await drain_once(db.sessions, {"telegram": channel}, RateLimiter(1000.0, 0.0))
        assert app.scheduler is not None
        assert await app.scheduler.lead_once()  # PostgreSQL: this worker takes the lease
        await app.scheduler.run_timed("expiry", app.scheduler.expiry_job)

        page = await client.get("/metrics")
        assert page.status == 200 and page.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        after = samples(await page.text())
        grew = {(name, *labels.values()): value(after, name, **labels) - value(before, name, **labels)
                for name, labels in (
            ("bot_steps_total", {"channel": "web", "outcome": "ok"}),
            ("bot_step_seconds_count", {"channel": "web"}),
            ("bot_sends_total", {"channel": "telegram", "result": "ok"}),
            ("bot_sends_total", {"channel": "telegram", "result": "429"}),
            ("bot_sends_total", {"channel": "telegram", "result": "forbidden"}),
            ("bot_sends_total", {"channel": "telegram", "result": "failed"}),
            ("bot_scheduler_job_runs_total", {"job": "expiry", "result": "ok"}))}
        assert all(v == 1 for v in grew.values()), grew
        assert value(after, "bot_step_seconds_sum", channel="web") > value(before, "bot_step_seconds_sum",
                                                                           channel="web")
        assert value(after, "bot_inbox_pending", channel="telegram") == 1
        assert 89 <= value(after, "bot_inbox_lag_seconds", channel="telegram") < 3600
        assert value(after, "bot_outbox_depth") == 1  # the 429 waits for its retry
        assert value(after, "bot_outbox_messages", status="sent") >= 1
        assert 299 <= value(after, "bot_outbox_oldest_age_seconds") < 3600
        assert value(after, "bot_scheduler_job_last_success_timestamp_seconds", job="expiry") > 0
        role = "single" if db.kind == "sqlite" else "leader"
        assert value(after, "bot_scheduler_role", role=role) == 1 and value(after, "bot_database_up") == 1
        assert value(after, "bot_scheduler_leader") == 1 and value(after, "bot_scheduler_role", role="standby") == 0

        health = await (await client.get("/healthz")).json()
        assert health == {"ok": True, "database": "ok", "scheduler": role, "role": role, "inbox_pending": 1,
                          "outbox_waiting": 1, "outbox_oldest_seconds": health["outbox_oldest_seconds"]}
        assert health["outbox_oldest_seconds"] >= 299
    finally:
        await app_module.stop(app)
        if app.scheduler is not None:
            await app.scheduler.stop()  # gives the lease back


async def test_the_database_down(aiohttp_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = load_config(None, env={"DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/x",
                                    "WEB_SECRET_KEY": "k"})
    config.scheduler.files_dir = str(tmp_path / "outbox")
    app = await app_module.build(config)
    try:
        client: TestClient = await aiohttp_client(app.web_app)
        health = await client.get("/healthz")
        assert health.status == 503 and (await health.json())["database"] == "unreachable"
        found = samples(await (await client.get("/metrics")).text())
        assert value(found, "bot_database_up") == 0
    finally:
        await app_module.stop(app)


async def test_the_newest_backup_on_disk(aiohttp_client, sqlite_db: Database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """With scheduled backups, /metrics says when the newest one in [backup] dir was written and its size,
    read from the disk at each scrape (0 before the first); without them, nothing about backups."""
    folder = tmp_path / "bk"
    env = {"DATABASE_URL": sqlite_db.url, "WEB_SECRET_KEY": "k", "BACKUP_CRON": "30 2 * * *", "BACKUP_DIR": str(folder)}
    config = load_config(None, env=env)
    config.scheduler.files_dir = str(tmp_path / "outbox")
    app = await app_module.build(config)
    try:
        client: TestClient = await aiohttp_client(app.web_app)
        none_yet = samples(await (await client.get("/metrics")).text())
        assert none_yet[("bot_backup_newest_timestamp_seconds", ())] == 0
        folder.mkdir()
        for name, size, when in (("bot-20261206-023000.tar.gz", 10, 1_796_000_000),
                                 ("bot-20261207-023000.tar.gz", 1234, 1_796_090_000),
                                 ("notes.txt", 5, 1_796_099_999)):
            (folder / name).write_bytes(b"x" * size)
            os.utime(folder / name, (when, when))
        found = samples(await (await client.get("/metrics")).text())
        assert found[("bot_backup_newest_timestamp_seconds", ())] == 1_796_090_000
        assert found[("bot_backup_newest_bytes", ())] == 1234
    finally:
        await app_module.stop(app)
    config = load_config(None, env={"DATABASE_URL": sqlite_db.url, "WEB_SECRET_KEY": "k"})
    config.scheduler.files_dir = str(tmp_path / "outbox")
    app = await app_module.build(config)
    try:
        client = await aiohttp_client(app.web_app)
        page = await (await client.get("/metrics")).text()
        assert "bot_database_up" in page and "bot_backup" not in page
    finally:
        await app_module.stop(app)
