"""``python -m bot check`` against the stand-in Telegram and Zalo servers: one line per check, ``ok`` for a
token the platform accepts, ``FAIL`` (and exit 1) for one it refuses or a database it cannot reach."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo

ROOT = Path(__file__).resolve().parents[2]
TG_TOKEN, ZALO_TOKEN = "123456:check-token", "1459232241454:check-token"


async def check(tmp: Path, **env: str) -> tuple[int, list[str]]:
    full = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "check", cwd=tmp, env=full,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert not err.strip(), err.decode()
    return proc.returncode or 0, out.decode().strip().splitlines()


async def test_check_against_the_platforms(tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "db", "upgrade", cwd=tmp_path,
                                                env={**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": db})
    assert await proc.wait() == 0
    async with FakeTelegram(TG_TOKEN) as tg, FakeZalo(ZALO_TOKEN) as zalo:
        env = {"DATABASE_URL": db, "TELEGRAM_BOT_TOKEN": TG_TOKEN, "TELEGRAM_API_BASE_URL": tg.base_url,
               "ZALO_BOT_TOKEN": ZALO_TOKEN, "ZALO_API_BASE_URL": zalo.base_url}
        code, lines = await check(tmp_path, **env)
        assert code == 0, lines
        assert [ln.split(":")[0] for ln in lines] == ["config", "database", "telegram", "zalo"]
        assert lines[1].startswith("database: ok") and "up to date" in lines[1]
        assert lines[2] == "telegram: ok @test_bot (polling)" and lines[3] == "zalo: ok bot.TestBot (polling)"
        assert ("getMe", {}) in tg.calls

        code, lines = await check(tmp_path, **{**env, "TELEGRAM_BOT_TOKEN": "123456:wrong",
                                               "ZALO_BOT_TOKEN": "1459232241454:wrong",
                                               "DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/x"})
        assert code == 1 and len(lines) == 4
        assert lines[1].startswith("database: FAIL database unreachable")
        assert lines[2].startswith("telegram: FAIL") and lines[3].startswith("zalo: FAIL")
        assert "wrong" not in lines[2] + lines[3]  # a token is never printed
