"""``kill -9`` of the real bot leaves no process behind: the file builder's worker (``spawn``) and
multiprocessing's ``resource_tracker`` end shortly after it (``bot.worker_process``)."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime
from pathlib import Path

from models.accounts.people import create_invite
from models.db import transaction
from models.units.tree import add_unit
from tests.conftest import Database
from tests.crash.process import BotProcess, free_port
from tests.fakes.zalo_api import FakeZalo

TOKEN = "1459232241454:orphan-zalo-token"
STAFF = "z-staff-1"


def children(pid: int) -> dict[int, str]:
    """The live (not zombie) children of ``pid``, with their command lines."""
    found: dict[int, str] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        state, ppid = text[text.rindex(")") + 2:].split()[:2]
        if int(ppid) == pid and state != "Z":
            found[int(stat.parent.name)] = cmdline
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"


async def staff_code(db: Database) -> str:
    async with transaction(db.sessions) as s:
        p = await add_unit(s, period="post2025", code="22", level="province", name="Quảng Ninh", parent=None,
                           full_name="Tỉnh Quảng Ninh")
        c = await add_unit(s, period="post2025", code="C1", level="commune", name="Hà Tu", parent=p,
                           type="phường", full_name="Phường Hà Tu")
        for i in range(1, 4):
            await add_unit(s, period="post2025", code=f"V{i}", level="village", name=str(i), parent=c, type="thôn",
                           full_name=f"Thôn {i}")
        return (await create_invite(s, c, "staff", datetime.now(UTC))).code


async def test_kill_9_leaves_no_worker_process_behind(pg: Database, tmp_path: Path) -> None:
    code = await staff_code(pg)
    async with FakeZalo(token=TOKEN) as fake:
        config = tmp_path / "bot.toml"
        config.write_text("\n".join([
            "[bot]", "offload_villages = 0",  # every export built in the worker process
            "[scheduler]", 'reminder_cron = "0 3 1 1 *"', 'digest_daily_cron = "0 3 1 1 *"',
            'digest_weekly_cron = "0 3 1 1 *"', "campaign_daily_digest = false", f'files_dir = "{tmp_path / "out"}"',
            "[web]", 'host = "127.0.0.1"', f"port = {free_port()}",
            "[zalo]", f'token = "{TOKEN}"', f'api_base_url = "{fake.base_url}"', 'mode = "polling"',
            "poll_timeout = 1", f'files_dir = "{tmp_path / "files"}"', ""]))
        bot = BotProcess(config, pg.url, tmp_path / "bot.log")
        try:
            await bot.start()
            assert bot.proc is not None
            pid = bot.proc.pid
            fake.push_text(STAFF, code)
            fake.push_text(STAFF, "/xuatfile")
            for _ in range(1200):  # until the export was built in the worker (a safety net of two minutes)
                if any("/files/" in text for text in fake.sent_to(STAFF)):
                    break
                await asyncio.sleep(0.1)
            workers = children(pid)
            assert any("multiprocessing" in cmd and "spawn_main" in cmd for cmd in workers.values()), workers
            assert any("resource_tracker" in cmd for cmd in workers.values()), workers
            await bot.signal(signal.SIGKILL)
            for _ in range(600):  # a generous wait loop: they end within a second or two
                if not any(alive(child) for child in workers):
                    break
                await asyncio.sleep(0.1)
            assert [child for child in workers if alive(child)] == [], (workers, (tmp_path / "bot.log").read_text())
        finally:
            await bot.close()
