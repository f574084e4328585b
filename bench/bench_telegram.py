"""Conversation steps per second through the Telegram channel (long polling against the stand-in
Bot API server), against the floor of a durable step in this stack (:mod:`bench.durable_echo`:
python-telegram-bot's echo bot writing the dedupe row, the state and the outbox row in one
transaction through the raw driver, then the sent mark), on SQLite and on PostgreSQL.

    python -m bench.bench_telegram        (or: python -m bench telegram)
    BENCH_TELEGRAM_HEADS=24 BENCH_TELEGRAM_RUNS=3 BENCH_TELEGRAM_DBS=sqlite,postgres

Each simulated village head binds with ``/start CODE``, reports an election, asks ``/trangthai`` and
``/trogiup``, opens ``/daihoi`` and cancels it: 13 steps, each waited for before the next, all heads
at once (closed loop). Telegram's pacing (30 msg/s, 1 msg/s per chat) is off: it would cap both bots
and measure nothing. Targets: the median of the runs' ours ÷ floor ≥ 0.8× in steps/s and ≤ 1.3× in
CPU per step (this process's CPU: the bot and the stand-in server, which does the same work for both).

Per run and database: the floor (one update at a time and 32 at once, its better figure), ours, the
floor again; ours is compared with the better floor of the two. Runs alternate the databases, so a
noisy neighbour slows both. Beside steps/s: CPU per step, latency p50/p95 by step kind (a command, a
typed answer, a tap), resident memory before and after ours, and database round trips per step for
ours (statements, COMMITs, on PostgreSQL the BEGINs and the pool's pre-ping per checkout). The bare
echo (no database) is printed for scale.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Update
from telegram.ext import Application, ContextTypes

from bench.common import postgres_url
from bench.durable_echo import durable_echo_bot, open_store, polling_app
from bot.app import build, start, stop
from bot.channels.telegram import TelegramChannel
from bot.config import Config
from bot.dbadmin import upgrade
from bot.pipeline.pipeline import Progress
from handlers.messages import Incoming
from models.accounts.people import create_invite
from models.clock import utcnow
from models.db import transaction
from models.driver import watching
from models.election.tables import ElectionReport
from models.units.tree import add_unit
from tests.fakes.telegram_api import FakeTelegram

HEADS = int(os.environ.get("BENCH_TELEGRAM_HEADS", "24"))
RUNS = int(os.environ.get("BENCH_TELEGRAM_RUNS", "3"))
DBS = os.environ.get("BENCH_TELEGRAM_DBS", "sqlite,postgres").split(",")
TARGET, CPU_TARGET = 0.8, 1.3
TOKEN = "123456789:BENCH-token"
KINDS = ("command", "answer", "tap")
Step = tuple[str, str, str]  # (kind, "say" | "tap", text or button value)


def script(code: str) -> list[Step]:
    """A head binds, reports an election, asks for his status and for help, opens the congress report
    and cancels it: 13 steps of the three kinds (a command, a typed answer, a tap)."""
    return [("command", "say", f"/start {code}"), ("command", "say", "/baucu"), ("answer", "say", "15/12/2024"),
            ("answer", "say", "Nguyễn Văn An"), ("answer", "say", "250 240 200 180"), ("tap", "tap", "member"),
            ("tap", "tap", "no"), ("answer", "say", "Bỏ qua"), ("tap", "tap", "send"), ("command", "say", "/trangthai"),
            ("command", "say", "/trogiup"), ("command", "say", "/daihoi"), ("command", "say", "/huy")]


async def drive(fake: FakeTelegram, progress: Progress, user_id: int, steps: list[Step],
                latencies: dict[str, list[float]] | None = None) -> None:
    """One user: send a step, wait until the bot handled it, send the next (its latency noted by kind)."""
    for done, (kind, how, arg) in enumerate(steps, start=1):
        t0 = time.perf_counter()
        if how == "say":
            fake.user_message(user_id, arg)
        else:
            question = next((m for m in reversed(fake.sent) if m["chat"]["id"] == user_id and arg in {
                b.get("callback_data") for row in m.get("reply_markup", {}).get("inline_keyboard", [])
                for b in row}), None)
            fake.callback(user_id, arg, question["message_id"] if question else 1)
        await progress.wait(done, str(user_id))
        if latencies is not None:
            latencies.setdefault(kind, []).append(time.perf_counter() - t0)


@dataclass
class Figures:
    rate: float  # steps per second
    cpu_ms: float  # this process's CPU time per step
    steps: int
    round_trips: float = 0.0  # database round trips per step
    transactions: float = 0.0  # COMMITs per step
    detail: str = ""  # the round trips by kind
    p50_ms: dict[str, float] = field(default_factory=dict)  # median latency by step kind
    p95_ms: dict[str, float] = field(default_factory=dict)  # 95th percentile by step kind
    rss_idle_mb: float = 0.0  # this process's resident memory before the run (the bot started), after it
    rss_after_mb: float = 0.0

    def latency(self) -> str:
        return ", ".join(f"{k} {self.p50_ms.get(k, 0):.0f}/{self.p95_ms.get(k, 0):.0f}" for k in KINDS)


class RoundTrips:
    """Database round trips of an engine, counted from SQLAlchemy's events: each statement, each
    COMMIT / ROLLBACK, and on PostgreSQL each BEGIN and each pool checkout (the pre-ping's SELECT 1).
    On SQLite the BEGIN travels with the first statement (models/sqlite_driver.py): not counted."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.sync = engine.sync_engine
        self.pg = engine.dialect.name == "postgresql"
        self.statements = self.commits = self.rollbacks = self.begins = self.checkouts = 0
        self.hooks: list[tuple[Any, str, Any]] = [
            (self.sync, "before_cursor_execute", self._statement), (self.sync, "commit", self._commit),
            (self.sync, "rollback", self._rollback), (self.sync, "begin", self._begin),
            (self.sync.pool, "checkout", self._checkout)]
        for target, name, fn in self.hooks:
            event.listen(target, name, fn)
        self.driver = watching(self._statement)  # the statements run through the driver (models.driver)
        self.driver.__enter__()

    def _statement(self, *_: Any) -> None:
        self.statements += 1

    def _commit(self, *_: Any) -> None:
        self.commits += 1

    def _rollback(self, *_: Any) -> None:
        self.rollbacks += 1

    def _begin(self, *_: Any) -> None:
        self.begins += 1

    def _checkout(self, *_: Any) -> None:
        self.checkouts += 1

    @property
    def total(self) -> int:
        extra = self.begins + (self.checkouts if self.sync.pool._pre_ping else 0) if self.pg else 0
        return self.statements + self.commits + self.rollbacks + extra

    def detail(self, steps: int) -> str:
        parts = [("statements", self.statements), ("COMMIT", self.commits), ("ROLLBACK", self.rollbacks)]
        if self.pg:
            parts += [("BEGIN", self.begins), ("pre-ping", self.checkouts if self.sync.pool._pre_ping else 0)]
        return " + ".join(f"{n / steps:.2f} {name}" for name, n in parts)

    def close(self) -> None:
        for target, name, fn in self.hooks:
            event.remove(target, name, fn)
        self.driver.__exit__(None, None, None)


async def measure(fake: FakeTelegram, progress: Progress, scripts: dict[int, list[Step]]) -> Figures:
    latencies: dict[str, list[float]] = {}
    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(drive(fake, progress, uid, steps, latencies) for uid, steps in scripts.items()))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    steps = sum(len(s) for s in scripts.values())
    return Figures(steps / wall, 1000 * cpu / steps, steps,
                   p50_ms={k: 1000 * statistics.median(v) for k, v in latencies.items()},
                   p95_ms={k: 1000 * statistics.quantiles(v, n=20)[-1] for k, v in latencies.items()})


def rss_mb() -> float:
    """This process's resident memory now (Linux), MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def echo_bot(fake: FakeTelegram, concurrent: int) -> tuple[Application[Any, Any, Any, Any, Any, Any],
                                                                 Progress]:
    """The baseline: python-telegram-bot as its docs show it, echoing every message and tap."""
    progress = Progress()

    async def echo(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.effective_user is not None
        try:
            if update.callback_query is not None:
                await update.callback_query.answer()
            if update.message:
                text = update.message.text
            else:  # the CallbackQueryHandler's update
                assert update.callback_query is not None
                text = update.callback_query.data or ""
            await update.effective_chat.send_message(text or "?")
        finally:
            progress.done(str(update.effective_user.id))

    return await polling_app(TOKEN, fake.base_url, fake.base_file_url, concurrent, echo), progress


async def run_echo(concurrent: int) -> Figures:
    """The bare echo bot: no database at all (for scale: what the floor's writes cost)."""
    async with FakeTelegram() as fake:
        app, progress = await echo_bot(fake, concurrent)
        try:
            return await measure(fake, progress, {1000 + i: script(f"CODE{i}") for i in range(HEADS)})
        finally:
            await close_app(app)


async def run_floor(concurrent: int, db_url: str) -> Figures:
    """The floor (:mod:`bench.durable_echo`) on ``db_url``, ``concurrent`` updates handled at once."""
    store = await open_store(db_url)
    try:
        async with FakeTelegram() as fake:
            app, progress = await durable_echo_bot(store, TOKEN, fake.base_url, fake.base_file_url, concurrent)
            try:
                return await measure(fake, progress, {1000 + i: script(f"CODE{i}") for i in range(HEADS)})
            finally:
                await close_app(app)
    finally:
        await store.close(drop=True)


async def close_app(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    assert app.updater is not None
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


def bot_config(db_url: str, fake: FakeTelegram) -> Config:
    return Config.model_validate({
        "database": {"url": db_url}, "scheduler": {"enabled": False}, "web": {"enabled": False},
        "telegram": {"token": TOKEN, "api_base_url": fake.base_url, "poll_timeout": 5, "menu_commands": False,
                     "rate_per_second": 1e6, "chat_per_second": 1e6, "chat_burst": 1000},
    })


async def invites(build_sessions: Any, n: int) -> list[str]:
    now = utcnow()
    async with transaction(build_sessions) as s:
        province = await add_unit(s, period="post2025", code="22", level="province", name="Quảng Ninh", parent=None)
        commune = await add_unit(s, period="post2025", code="C1", level="commune", name="Hà Tu", parent=province)
        villages = [await add_unit(s, period="post2025", code=f"V{i}", level="village", name=f"Thôn {i}",
                                   parent=commune, type="thôn") for i in range(n)]
        return [(await create_invite(s, v, "village_head", now - timedelta(minutes=1))).code
                for v in villages]


async def run_ours(db_url: str) -> Figures:
    async with FakeTelegram() as fake:
        app = await build(bot_config(db_url, fake))
        await upgrade(app.engine)
        codes = await invites(app.sessions, HEADS)
        channel = app.channels["telegram"]
        assert isinstance(channel, TelegramChannel)
        await start(app)
        counter = RoundTrips(app.engine)
        try:
            idle = rss_mb()
            scripts = {1000 + i: script(code) for i, code in enumerate(codes)}
            figures = await measure(fake, channel.progress, scripts)
            figures.rss_idle_mb, figures.rss_after_mb = idle, rss_mb()
            figures.round_trips = counter.total / figures.steps
            figures.transactions = counter.commits / figures.steps
            figures.detail = counter.detail(figures.steps)
        finally:
            counter.close()
            await stop(app)
        saved = await reports_saved(app.sessions)
        if saved != HEADS:  # the script no longer does what it says: the figures would measure errors
            raise SystemExit(f"the script saved {saved} election reports, not {HEADS}: fix bench_telegram.script")
        await app.engine.dispose()
    return figures


async def reports_saved(sessions: Any) -> int:
    async with sessions() as session:
        return int((await session.execute(select(func.count()).select_from(ElectionReport))).scalar_one())


async def run_engine_only(db_url: str) -> float:
    """The same steps straight into the dialog engine (no Telegram at all): the ceiling for any channel."""
    async with FakeTelegram() as fake:
        app = await build(bot_config(db_url, fake))
        await upgrade(app.engine)
        codes = await invites(app.sessions, HEADS)

        async def user(uid: int, steps: list[Step]) -> None:
            for n, (_kind, how, arg) in enumerate(steps):
                await app.dialog.step_for_web(Incoming("telegram", str(uid), text=arg if how == "say" else None,
                                                       choice=arg if how == "tap" else None,
                                                       message_id=f"{uid}-{n}"))

        t0 = time.perf_counter()
        await asyncio.gather(*(user(1000 + i, script(code)) for i, code in enumerate(codes)))
        rate = HEADS * len(script("X")) / (time.perf_counter() - t0)
        await stop(app)
    return rate


@asynccontextmanager
async def fresh_url(kind: str) -> AsyncIterator[str | None]:
    """An empty database of ``kind`` (a SQLite file, a scratch PostgreSQL database), removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
    else:
        async with postgres_url() as url:
            yield url


async def floor_on(kind: str) -> Figures | None:
    """The better of the floor handling one update at a time and 32 at once, each on a fresh database."""
    runs = []
    for concurrent in (1, 32):
        async with fresh_url(kind) as url:
            if url is None:
                return None
            runs.append(await run_floor(concurrent, url))
    return max(runs, key=lambda f: f.rate)


@dataclass
class Run:
    floor: Figures  # the better floor of the runs just before and just after ours
    ours: Figures
    bare: Figures

    @property
    def ratio(self) -> float:
        return self.ours.rate / self.floor.rate

    @property
    def cpu_ratio(self) -> float:
        return self.ours.cpu_ms / self.floor.cpu_ms


async def one_run(kind: str) -> Run | None:
    before = await floor_on(kind)
    async with fresh_url(kind) as url:
        if before is None or url is None:
            return None
        ours = await run_ours(url)
    after = await floor_on(kind)
    assert after is not None
    bare = max([await run_echo(1), await run_echo(32)], key=lambda f: f.rate)
    return Run(max(before, after, key=lambda f: f.rate), ours, bare)


async def main() -> None:
    steps = HEADS * len(script("X"))
    print(f"{HEADS} Telegram users x {len(script('X'))} steps = {steps} updates per run, long polling, "
          f"stand-in Bot API on loopback, rate limits off, closed loop; {RUNS} runs per database, the databases "
          f"alternated; the floor (bench/durable_echo.py: raw driver) run before and after ours, its better figure "
          f"kept; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    results: dict[str, list[Run]] = {kind: [] for kind in DBS}
    for run in range(1, RUNS + 1):
        for kind in DBS:
            if run > 1 and not results[kind]:
                continue  # PostgreSQL did not answer
            r = await one_run(kind)
            if r is None:
                print(f"  {kind}: PostgreSQL does not answer: skipped", flush=True)
                continue
            results[kind].append(r)
            f, o = r.floor, r.ours
            print(f"  {kind} run {run}: floor {f.rate:6.1f} steps/s ({f.cpu_ms:.2f} ms CPU/step) = "
                  f"{f.rate / r.bare.rate:.2f}x the bare echo ({r.bare.rate:.1f}) | ours {o.rate:6.1f} steps/s "
                  f"({o.cpu_ms:.2f} ms CPU/step, {o.round_trips:.1f} round trips/step, {o.transactions:.2f} "
                  f"transactions/step) | ours / floor {r.ratio:.2f}x, CPU {r.cpu_ratio:.2f}x\n"
                  f"      round trips per step: {o.detail}\n"
                  f"      latency p50/p95 ms by kind: ours {o.latency()}; floor {f.latency()}\n"
                  f"      RSS {o.rss_idle_mb:.0f} MB idle (bot started), {o.rss_after_mb:.0f} MB after the run",
                  flush=True)
    for kind, runs in results.items():
        if not runs:
            continue
        ratios, cpu = [r.ratio for r in runs], [r.cpu_ratio for r in runs]
        rate_ok, cpu_ok = statistics.median(ratios) >= TARGET, statistics.median(cpu) <= CPU_TARGET
        print(f"  {kind}: ours / floor steps/s {', '.join(f'{x:.2f}x' for x in ratios)} (median "
              f"{statistics.median(ratios):.2f}x, target >= {TARGET:.2f}x: {'OK' if rate_ok else 'BELOW TARGET'}); "
              f"CPU per step ours / floor {', '.join(f'{x:.2f}x' for x in cpu)} (median {statistics.median(cpu):.2f}x, "
              f"target <= {CPU_TARGET:.2f}x: {'OK' if cpu_ok else 'ABOVE TARGET'})", flush=True)
    if "sqlite" in DBS and os.environ.get("BENCH_TELEGRAM_ENGINE", "0") == "1":
        with tempfile.TemporaryDirectory() as tmp:
            engine_only = await run_engine_only(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}")
        print(f"  (dialog engine alone, SQLite, no Telegram: {engine_only:.1f} steps/s: the ceiling for any channel)")
    print(f"  load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    asyncio.run(main())
