"""Scale-out on PostgreSQL: N real ``python -m bot run`` workers in webhook mode behind a round-robin
dispatcher, the stand-in Telegram enforcing 30 msg/s overall and 1 msg/s per chat (429 beyond),
village heads reporting while the scheduled reminders and digests go out, the leader killed half-way.

    python -m bench workers        (BENCH_WORKERS=3 BENCH_WORKER_HEADS=40 BENCH_WORKER_IDLE=30)

Prints steps/s, 429s, lost and doubled messages, leader changes, and the peak send rates. The same
scenario, small, is ``tests/deploy/test_workers.py``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bench.common import scratch
from tests.deploy.workers import scenario

WORKERS = int(os.environ.get("BENCH_WORKERS", "3"))
HEADS = int(os.environ.get("BENCH_WORKER_HEADS", "40"))
IDLE = int(os.environ.get("BENCH_WORKER_IDLE", "30"))
COMMUNES = int(os.environ.get("BENCH_WORKER_COMMUNES", "4"))


async def main() -> None:
    print(f"{WORKERS} workers, {HEADS} heads x 10 steps, {IDLE} idle heads (reminders), {COMMUNES} communes "
          f"(digests); stand-in Telegram at 30 msg/s overall, 1 msg/s per chat; leader killed half-way")
    async with scratch("postgres") as sessions:
        if sessions is None:
            print("  PostgreSQL does not answer: skipped")
            return
        bind = sessions.kw["bind"]
        url = bind.url.render_as_string(hide_password=False)
        with tempfile.TemporaryDirectory() as tmp:
            r = await scenario(sessions, url, Path(tmp), workers=WORKERS, heads=HEADS, idle=IDLE,
                               communes=COMMUNES, lease_seconds=6, wait=60.0)
    print(f"  {r.line()}")
    print(f"  leaders in order: {' -> '.join(r.leaders)}")
    if r.lost or r.unsent:
        print(f"  lost: {r.lost[:10]}  unsent: {r.unsent[:10]}")


if __name__ == "__main__":
    import asyncio

    asyncio.run(main())
