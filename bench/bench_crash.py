"""Crash benchmark: the real ``python -m bot run`` process killed with SIGKILL at random points of a
scripted load (village heads reporting an election), over Telegram and Zalo, polling and webhook;
then stopped with SIGTERM; then cut off from PostgreSQL for 20 s through a TCP proxy. Prints, per run:
tries (updates sent), kills, lost, doubled (and the copies of a message whose send a SIGKILL cut from
its mark: at-least-once delivery can do no better), stuck heads, missing receipts. Then two webhook
workers on one database (a SQLite file, PostgreSQL; Telegram, and Zalo on PostgreSQL), the first
killed right after acknowledging ``BENCH_CRASH_WORKERS`` (default 1,000) updates: how many the second
answered, and when (:mod:`bench.crash_workers`). Last, a backlog of ``BENCH_CRASH_BACKLOG`` (default
1,500) acknowledged updates left by a crash, recovered by a restart: the time from the restart to the
last answer (:mod:`bench.crash_backlog`). Closes with one table of every case run
(:mod:`bench.crash_table`): its events, replies received of those expected, lost, and the time from
the kill (stop, restart, the database's return) to the last answer it held up, beside what pacing and
leases alone take.

Zalo polling is run twice, without then with its poll journal (each update written to a local file in
the step that parsed getUpdates' answer), against a stand-in that consumes an update as it answers
getUpdates, as Zalo does: "lost in Zalo's getUpdates gap" counts the updates Zalo handed to a process
killed before it wrote them down, and "answer to inbox row" the time from the stand-in's answer to
the inbox row — the window without the journal.

Sizes: ``BENCH_CRASH_USERS`` (default 8), ``BENCH_CRASH_KILLS`` (default 6), ``BENCH_CRASH_OUTAGE``
(seconds, default 20); ``BENCH_CRASH_ONLY=SIGKILL`` runs the runs whose label contains it
(``workers``, ``backlog``: those cases). Needs PostgreSQL (``BENCH_POSTGRES_DSN``).
"""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bench.common import scratch, url_of
from bench.crash_backlog import backlog
from bench.crash_table import Row, table
from bench.crash_workers import worker_killed
from tests.crash.harness import Plan, Result, run
from tests.crash.proxy import Proxy, outage

USERS = int(os.environ.get("BENCH_CRASH_USERS", "8"))
KILLS = int(os.environ.get("BENCH_CRASH_KILLS", "6"))
OUTAGE = float(os.environ.get("BENCH_CRASH_OUTAGE", "20"))
BACKLOG = int(os.environ.get("BENCH_CRASH_BACKLOG", "1500"))
WORKERS = int(os.environ.get("BENCH_CRASH_WORKERS", "1000"))  # updates worker A acknowledges before its kill
ONLY = os.environ.get("BENCH_CRASH_ONLY", "")  # run only the runs whose label contains this


async def one(plan: Plan, with_proxy: bool = False) -> Result | None:
    async with scratch("postgres") as sessions:
        if sessions is None:
            print("  PostgreSQL does not answer: skipped")
            return None
        engine = sessions.kw["bind"]
        assert isinstance(engine, AsyncEngine)
        url = engine.url.render_as_string(hide_password=False)
        with tempfile.TemporaryDirectory() as tmp:
            if not with_proxy:
                return await run(plan, url, sessions, Path(tmp))
            proxy = Proxy(engine.url.host or "127.0.0.1", engine.url.port or 5432)
            await proxy.start()
            try:
                bot_url = engine.url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
                return await run(plan, url, sessions, Path(tmp), disturb=outage(proxy, plan.outage),
                                 bot_database_url=bot_url)
            finally:
                await proxy.close()


def harness_row(label: str, result: Result) -> Row:
    return Row(label, "PostgreSQL", result.tries, result.received, result.expected, result.lost, result.recovery(),
               lost_note=f"(+{result.gap} in Zalo's getUpdates gap, resent)" if result.gap else "",
               twice=result.doubled + result.in_doubt, in_doubt=result.in_doubt)


async def main() -> None:
    print(f"{USERS} heads per channel x 9 steps per run; Telegram and Zalo served by one process, the bot "
          f"restarted at once after each kill")
    a = [("telegram", "polling"), ("zalo", "webhook")]
    b = [("telegram", "webhook"), ("zalo", "polling")]
    kill: list[int] = [signal.SIGKILL] * KILLS
    term: list[int] = [signal.SIGTERM] * KILLS
    runs = [("SIGKILL tg polling + zalo webhook", Plan(a, USERS, kill, seed=1), False),
            # the baseline of the next run: Zalo polling without its journal (what a kill in the window loses)
            ("SIGKILL tg webhook + zalo polling, no poll journal", Plan(b, USERS, kill, seed=2, journal=False), False),
            ("SIGKILL tg webhook + zalo polling", Plan(b, USERS, kill, seed=2), False),
            ("SIGTERM tg polling + zalo webhook", Plan(a, USERS, term, seed=3), False),
            ("SIGTERM tg webhook + zalo polling", Plan(b, USERS, term, seed=4), False),
            (f"DB down {OUTAGE:.0f} s, tg polling + zalo webhook",
             Plan(a, USERS, [], outage=OUTAGE, seed=5, reply_wait=OUTAGE + 90), True),
            (f"DB down {OUTAGE:.0f} s, tg webhook + zalo polling",
             Plan(b, USERS, [], outage=OUTAGE, seed=6, reply_wait=OUTAGE + 90), True)]
    rows: list[Row] = []
    for label, plan, proxied in runs:
        if ONLY not in label:
            continue
        result = await one(plan, proxied)
        if result is None:
            return
        print(f"  {label}: {result.line()}", flush=True)
        for problem in result.problems[:5]:
            print(f"      {problem[:300]}")
        rows.append(harness_row(label, result))
    for kind, channel in (("sqlite", "telegram"), ("postgres", "telegram"), ("postgres", "zalo")):
        if ONLY in f"two webhook workers {channel} {kind}":
            row = await worker_killed(kind, channel, WORKERS)
            if row is not None:
                rows.append(row)
    if ONLY in "backlog":
        async with scratch("postgres") as sessions:
            if sessions is not None:
                rows.append(await backlog(sessions, url_of(sessions), BACKLOG, "PostgreSQL"))
    print()
    print(table(rows))
    print("events: updates the platform delivered (and the bot acknowledged); replies: the answers the outbox "
          "rows say were sent, each received once (two workers, backlog: heads answered); last receipt: from the "
          "kill, stop or restart (the database's return) to the last answer to an update it held up, the "
          "longest; (≥ …): what pacing and A's worker lease alone take", flush=True)
