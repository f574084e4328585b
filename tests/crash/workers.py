"""Two real webhook workers (``python -m bot run``) on one database, for the crash tests and the crash
benchmark: the platform's stand-in delivers to the first (A), which acknowledges; A is then killed
(SIGKILL) and the second (B) must answer what A acknowledged. Used by ``tests/crash/test_takeover.py``
(three updates of one head) and ``bench/crash_workers.py`` (many heads, both channels, both databases).
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from types import TracebackType

from tests.crash.harness import Plan, Platform, write_config
from tests.crash.process import BotProcess, free_port
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo


def worker_config(tmp: Path, name: str, channel: str, fake: FakeTelegram | FakeZalo,
                  leader_lease: float | None = None) -> tuple[Path, int]:
    """A worker's config serving ``channel`` by webhook from the stand-in ``fake``, and its web port.
    ``leader_lease``: the scheduler's leader lease (PostgreSQL), when not the default."""
    port = free_port()
    path = tmp / f"{name}.toml"
    write_config(path, Plan(links=[(channel, "webhook")], lease=60.0), {channel: fake.base_url}, port, tmp)
    if leader_lease is not None:
        path.write_text(path.read_text().replace("[scheduler]", f"[scheduler]\nleader_lease_seconds = {leader_lease}",
                                                 1))
    return path, port


class TwoWorkers:
    """``async with TwoWorkers(url, tmp, channel, fake) as w``: A then B started on the database at
    ``url``; ``w.platform`` delivers to A (retried until it answers 200, as the platform does);
    :meth:`kill_a` kills A and notes when. On leaving, A is killed if alive and B stopped."""

    def __init__(self, database_url: str, tmp: Path, channel: str, fake: FakeTelegram | FakeZalo, *,
                 leader_lease: float | None = None, reply_wait: float = 60.0) -> None:
        config_a, port_a = worker_config(tmp, "a", channel, fake, leader_lease)
        config_b, _port_b = worker_config(tmp, "b", channel, fake, leader_lease)
        self.a = BotProcess(config_a, database_url, tmp / "a.log")
        self.b = BotProcess(config_b, database_url, tmp / "b.log")
        self.platform = Platform(Plan(links=[(channel, "webhook")], reply_wait=reply_wait), channel, "webhook", fake,
                                 port_a)
        self.killed: float | None = None  # time.monotonic() of A's SIGKILL

    async def __aenter__(self) -> TwoWorkers:
        try:
            await self.a.start()
            await self.b.start()
        except BaseException:
            await self.close()
            raise
        return self

    async def kill_a(self) -> float:
        await self.a.signal(signal.SIGKILL)
        self.killed = time.monotonic()
        return self.killed

    def b_took_over(self) -> bool:
        """B's log says it processed updates of a worker that died."""
        return "of a worker that died are processed here" in self.b.log.read_text(errors="replace")

    async def close(self) -> None:
        await self.a.close()
        if self.b.proc is not None and self.b.proc.returncode is None:
            await self.b.signal(signal.SIGTERM)
        await self.b.close()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()
