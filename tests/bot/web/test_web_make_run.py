"""`make run` on an empty state: upgrade, demo data with printed demo accounts, then the server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.bot.web.conftest import free_port, parse_demo_lines

ROOT = Path(__file__).resolve().parents[3]


def _start(bot: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], list[str]]:
    """Start ``python -m bot run``; returns it once it says it serves the web (or has exited)."""
    proc = subprocess.Popen([*bot, "run"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    assert proc.stdout is not None
    out: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        out.append(line)
        if not line or line.startswith("serving web: "):
            break
    return proc, out


def _outbox_drained(base: str) -> tuple[int, float]:
    """Polls /healthz until the outbox is empty (or a minute has gone); returns the last figures."""
    deadline = time.monotonic() + 60
    while True:
        with urllib.request.urlopen(base + "/healthz", timeout=10) as resp:
            health = json.loads(resp.read())
        waiting = (health["outbox_waiting"], health["outbox_oldest_seconds"])
        if waiting[0] == 0 or time.monotonic() > deadline:
            return waiting
        time.sleep(0.5)


def test_make_run_serves_the_dashboard_and_the_chat(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
           "WEB_HOST": "127.0.0.1", "TELEGRAM_BOT_TOKEN": "", "ZALO_BOT_TOKEN": "", "PYTHONUNBUFFERED": "1"}
    bot = [sys.executable, "-m", "bot"]
    for args in (["db", "upgrade"], ["demo", "--if-empty"]):
        done = subprocess.run([*bot, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    passwords, _, heads = parse_demo_lines(done.stdout.splitlines())
    assert set(passwords) == {"admin", "canbo1", "canbo2"} and len(heads) == 3
    for _attempt in range(3):  # the free port may be taken by someone else in between: try another
        port = free_port()
        env["WEB_PORT"] = str(port)
        proc, out = _start(bot, env)
        if out[-1].startswith("serving web: "):
            break
        proc.wait(20)
    assert out[-1] == f"serving web: http://127.0.0.1:{port}/\n", "".join(out)
    try:
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(base + "/healthz", timeout=10) as resp:
            health = json.loads(resp.read())
            assert resp.status == 200
        assert isinstance(health.pop("outbox_waiting"), int) and isinstance(health.pop("outbox_oldest_seconds"), float)
        assert health == {"ok": True, "database": "ok", "scheduler": "single", "role": "single", "inbox_pending": 0}
        # the start-up sweep queues the demo's reminders and giao ban letters; the web channel delivers them
        waiting = _outbox_drained(base)
        assert waiting == (0, 0.0), waiting
        with urllib.request.urlopen(base + "/", timeout=10) as resp:  # → /login
            assert resp.status == 200 and resp.url.endswith("/login")
            assert "Đăng nhập" in resp.read().decode()
        with urllib.request.urlopen(base + "/chat", timeout=10) as resp:
            assert resp.status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0
