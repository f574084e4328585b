"""The bot as a separate process for the crash tests: ``python -m bot run --config PATH``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OVERRIDES = ("DATABASE_URL", "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "ZALO_BOT_TOKEN", "ZALO_API_BASE_URL",
             "WEB_HOST", "WEB_PORT")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BotProcess:
    """``python -m bot run --config PATH``; its output goes to a log file."""

    def __init__(self, config: Path, database_url: str, log: Path) -> None:
        self.config, self.log = config, log
        self.env = {k: v for k, v in os.environ.items() if k not in OVERRIDES}
        self.env["DATABASE_URL"] = database_url
        self.env["PYTHONPATH"] = str(ROOT)
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        self.starts += 1
        mark = f"--- start {self.starts}\n"
        with self.log.open("a") as f:
            f.write(mark)
        out = self.log.open("a")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--config", str(self.config), cwd=ROOT, env=self.env,
            stdout=out, stderr=out)
        out.close()
        deadline = time.monotonic() + 120
        while True:  # up when it says what it serves
            text = self.log.read_text(errors="replace")
            if "serving channel:" in text[text.rindex(mark):]:
                return
            if self.proc.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the bot did not start:\n{text[-3000:]}")
            await asyncio.sleep(0.05)

    async def signal(self, sig: int) -> int:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(sig)
        return await self.proc.wait()

    async def close(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            await self.signal(signal.SIGKILL)
