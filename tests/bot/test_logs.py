"""Log lines: ISO times with the offset, text or JSON, an access line per request (never a token in
it); the loud start-up warnings for demonstration settings on a reachable server; the scheduled backup
keeps the newest ones."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
import tarfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.backup import prune_backups, scheduled_backup
from bot.config import load_config
from bot.dbadmin import upgrade
from bot.logs import AccessLogger, JsonFormatter, TextFormatter, startup_warnings
from models.db import make_engine

ROOT = Path(__file__).resolve().parents[2]
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d"


def record(message: str = "hello", **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("bot", logging.INFO, __file__, 1, message, (), None)
    rec.__dict__.update(extra)
    return rec


def test_text_and_json_lines() -> None:
    assert re.fullmatch(ISO + r" INFO bot: hello", TextFormatter().format(record()))
    line = json.loads(JsonFormatter().format(record(status=200, path="/x")))
    assert re.fullmatch(ISO, line["time"]) and line["message"] == "hello" and line["status"] == 200
    hanoi = ZoneInfo("Asia/Ho_Chi_Minh")  # the bot's time zone, whatever the machine's
    at_midnight_utc = record()
    at_midnight_utc.created = datetime(2026, 12, 8, 0, 0, tzinfo=UTC).timestamp()
    assert TextFormatter(hanoi).format(at_midnight_utc).startswith("2026-12-08T07:00:00.000+07:00 INFO")
    assert json.loads(JsonFormatter(hanoi).format(at_midnight_utc))["time"] == "2026-12-08T07:00:00.000+07:00"


async def test_access_log_names_the_request_not_the_token(aiohttp_client, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/healthz", ok)
    app.router.add_get("/hook/bot{token}/x", ok)
    server = TestServer(app)  # the runner's settings as bot/app.py gives them
    await server.start_server(access_log_class=AccessLogger, access_log=logging.getLogger("bot.access"))
    client: TestClient = await aiohttp_client(server)
    with caplog.at_level(logging.INFO, logger="bot.access"):
        await client.get("/healthz?secret=1")
        await client.get("/hook/bot123:SECRET/x")
        await client.close()  # the server has finished (and logged) both requests
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.access"]
    assert re.fullmatch(r"GET /healthz 200 \d+\.\dms 127\.0\.0\.1", lines[0]), lines
    assert "SECRET" not in " ".join(lines) and "secret=1" not in lines[0]
    assert caplog.records[0].status == 200  # type: ignore[attr-defined]  # the JSON line's fields


def test_startup_warnings() -> None:
    local = load_config(None, env={})
    assert startup_warnings(local) == []  # make run on a laptop: nothing to warn about
    public = load_config(None, env={"WEB_PUBLIC_URL": "https://bot.example.vn"})
    found = startup_warnings(public)
    assert len(found) == 2 and "WEB_SECRET_KEY" in found[0] and "chat_enabled" in found[1]
    safe = load_config(None, env={"WEB_PUBLIC_URL": "https://bot.example.vn", "WEB_SECRET_KEY": "x" * 40})
    safe.web.chat_enabled = False
    assert startup_warnings(safe) == []
    assert len(startup_warnings(load_config(None, env={"WEB_HOST": "0.0.0.0"}))) == 2


def test_run_says_it_loudly_in_json(tmp_path: Path) -> None:
    """``run --log-format json`` with a demo setting on a public URL: JSON lines, the warning among them
    (the run stops at once: its port is taken)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'b.sqlite3'}",
               "WEB_PUBLIC_URL": "https://bot.example.vn", "WEB_PORT": str(taken.getsockname()[1])}
        env["TZ"] = "UTC"  # the machine's zone is not the bot's
        env.pop("TELEGRAM_BOT_TOKEN", None)
        env.pop("ZALO_BOT_TOKEN", None)
        proc = subprocess.run([sys.executable, "-m", "bot", "run", "--log-format", "json"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    lines = [json.loads(ln) for ln in proc.stderr.splitlines() if ln.startswith("{")]
    warnings = [ln["message"] for ln in lines if ln["level"] == "WARNING"]
    assert any("WEB_SECRET_KEY" in w for w in warnings) and any("demo chat" in w for w in warnings), proc.stderr
    assert all(re.fullmatch(ISO, ln["time"]) and ln["time"].endswith("+07:00") for ln in lines)  # bot.timezone


async def test_scheduled_backups_keep_the_newest(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    await upgrade(engine)
    await engine.dispose()
    config = load_config(None, env={"DATABASE_URL": f"sqlite+aiosqlite:///{db}", "BACKUP_DIR": str(tmp_path / "bk")})
    config.backup.keep = 2
    config.scheduler.files_dir = str(tmp_path / "outbox")
    made = [await scheduled_backup(config, datetime(2026, 12, day, 19, 30, tzinfo=UTC)) for day in (1, 2, 3)]
    assert [p.name for p in made] == ["bot-20261202-023000.tar.gz", "bot-20261203-023000.tar.gz",
                                      "bot-20261204-023000.tar.gz"]  # named in local time (UTC+7)
    assert sorted(p.name for p in (tmp_path / "bk").iterdir()) == [made[1].name, made[2].name]
    with tarfile.open(made[2]) as tar:
        assert tar.getnames()[0] == "manifest.json"
    assert prune_backups(tmp_path / "bk", 1) == [made[1]]
