"""Conversation steps per second through the Telegram channel (long polling against the stand-in
Bot API server), against a bare python-telegram-bot echo bot on the same server in the same run,
on SQLite and on PostgreSQL.

    python -m bench.bench_telegram        (or: python -m bench telegram)
    BENCH_TELEGRAM_HEADS=40 BENCH_TELEGRAM_RUNS=3 BENCH_TELEGRAM_DBS=sqlite,postgres

Each simulated village head binds with ``/start CODE``, reports an election (five typed answers,
two taps), and asks ``/trangthai``: 10 steps, each waited for before the next, all heads at once.
The echo bot answers the same updates with one message each. Telegram's pacing (30 msg/s, 1 msg/s
per chat) is switched off for this: it would cap both bots and measure nothing. Target: ≥ 0.8×.

Echo runs and project runs alternate (echo one update at a time, echo 32 at once, ours; again …),
so a noisy neighbour slows both; each project run is compared with the better echo run just
before it. Beside steps/s: CPU per step (this process: the bot and the stand-in server, which does
the same work for both bots) and, for ours, database round trips per step (statements, plus
COMMITs, plus on PostgreSQL the BEGINs and the pool's pre-ping per checkout) and transactions per step.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Update
from telegram.ext import Application, ContextTypes

from bench.common import postgres_url
from bench.durable_echo import durable_echo_bot, polling_app
from bot.app import build, start, stop
from bot.channels.telegram import TelegramChannel
from bot.config import Config
from bot.dbadmin import upgrade
from bot.pipeline.pipeline import Progress
from handlers.messages import Incoming
from models.accounts.people import create_invite
from models.clock import utcnow
from models.db import make_engine, transaction
from models.units.tree import add_unit
from tests.fakes.telegram_api import FakeTelegram

HEADS = int(os.environ.get("BENCH_TELEGRAM_HEADS", "40"))
RUNS = int(os.environ.get("BENCH_TELEGRAM_RUNS", "3"))
DBS = os.environ.get("BENCH_TELEGRAM_DBS", "sqlite,postgres").split(",")
TARGET = 0.8
TOKEN = "123456789:BENCH-token"
Step = tuple[str, str]  # ("say", text) | ("tap", value)


def script(code: str) -> list[Step]:
    return [("say", f"/start {code}"), ("say", "/baucu"), ("say", "15/12/2024"), ("say", "Nguyễn Văn An"),
            ("say", "250 240 200 180"), ("tap", "member"), ("tap", "no"), ("say", "Bỏ qua"), ("tap", "send"),
            ("say", "/trangthai")]


async def drive(fake: FakeTelegram, progress: Progress, user_id: int, steps: list[Step],
                latencies: dict[str, list[float]] | None = None) -> None:
    """One user: send a step, wait until the bot handled it, send the next (its latency noted by kind)."""
    for done, (kind, arg) in enumerate(steps, start=1):
        t0 = time.perf_counter()
        if kind == "say":
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
    p50_ms: dict[str, float] = field(default_factory=dict)  # median latency of a typed step, of a tap


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


async def measure(fake: FakeTelegram, progress: Progress, scripts: dict[int, list[Step]]) -> Figures:
    latencies: dict[str, list[float]] = {}
    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(drive(fake, progress, uid, steps, latencies) for uid, steps in scripts.items()))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    steps = sum(len(s) for s in scripts.values())
    return Figures(steps / wall, 1000 * cpu / steps, steps,
                   p50_ms={k: 1000 * statistics.median(v) for k, v in latencies.items()})


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


async def run_echo(concurrent: int, db_url: str | None = None) -> Figures:
    """The bare echo bot; with ``db_url``, the durable echo (:mod:`bench.durable_echo`) on that database."""
    async with FakeTelegram() as fake:
        engine = make_engine(db_url) if db_url else None
        if engine is None:
            app, progress = await echo_bot(fake, concurrent)
        else:
            app, progress = await durable_echo_bot(engine, TOKEN, fake.base_url, fake.base_file_url, concurrent)
        try:
            scripts = {1000 + i: script(f"CODE{i}") for i in range(HEADS)}
            figures = await measure(fake, progress, scripts)
        finally:
            assert app.updater is not None
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
            if engine is not None:
                await engine.dispose()
    return figures


def bot_config(db_url: str, fake: FakeTelegram) -> Config:
    return Config.model_validate({
        "database": {"url": db_url}, "scheduler": {"enabled": False}, "web": {"enabled": False},
        "telegram": {"token": TOKEN, "api_base_url": fake.base_url, "poll_timeout": 5, "menu_commands": False,
                     "rate_per_second": 1e6, "chat_per_second": 1e6, "chat_burst": 1000,
                     "concurrent_updates": int(os.environ.get("BENCH_TELEGRAM_CONCURRENT", "32"))},
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
            scripts = {1000 + i: script(code) for i, code in enumerate(codes)}
            figures = await measure(fake, channel.progress, scripts)
            figures.round_trips = counter.total / figures.steps
            figures.transactions = counter.commits / figures.steps
            figures.detail = counter.detail(figures.steps)
        finally:
            counter.close()
            await stop(app)
    return figures


async def run_engine_only(db_url: str) -> float:
    """The same steps straight into the dialog engine (no Telegram at all): the ceiling for any channel."""
    async with FakeTelegram() as fake:
        app = await build(bot_config(db_url, fake))
        await upgrade(app.engine)
        codes = await invites(app.sessions, HEADS)

        async def user(uid: int, steps: list[Step]) -> None:
            for n, (kind, arg) in enumerate(steps):
                await app.dialog.step_for_web(Incoming("telegram", str(uid), text=arg if kind == "say" else None,
                                                 choice=arg if kind == "tap" else None, message_id=f"{uid}-{n}"))

        t0 = time.perf_counter()
        await asyncio.gather(*(user(1000 + i, script(code)) for i, code in enumerate(codes)))
        rate = HEADS * len(script("X")) / (time.perf_counter() - t0)
        await stop(app)
    return rate


async def run_ours_on(kind: str) -> tuple[Figures, Figures] | None:
    """On fresh databases of ``kind``: the durable echo (32 at once, as ours), then one project run;
    None when PostgreSQL does not answer."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            durable = await run_echo(32, f"sqlite+aiosqlite:///{Path(tmp) / 'echo.sqlite3'}")
            return durable, await run_ours(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}")
    async with postgres_url() as echo_url, postgres_url() as url:
        if url is None or echo_url is None:
            return None
        return await run_echo(32, echo_url), await run_ours(url)


async def main() -> None:
    steps = HEADS * len(script("X"))
    print(f"{HEADS} Telegram users x {len(script('X'))} steps = {steps} updates per run, long polling, "
          f"stand-in Bot API on loopback, rate limits off; {RUNS} runs per database, echo and ours alternated")
    for kind in DBS:
        ratios: list[float] = []
        cpu_ratios: list[float] = []
        durable_ratios: list[float] = []
        for run in range(1, RUNS + 1):
            echo_seq = await run_echo(1)
            echo_conc = await run_echo(32)
            pair = await run_ours_on(kind)
            if pair is None:
                print(f"  {kind}: PostgreSQL does not answer: skipped")
                break
            durable, ours = pair
            best = max(echo_seq, echo_conc, key=lambda f: f.rate)
            ratios.append(ours.rate / best.rate)
            cpu_ratios.append(ours.cpu_ms / best.cpu_ms)
            durable_ratios.append(ours.rate / durable.rate)
            print(f"  {kind} run {run}: echo {echo_seq.rate:6.1f} steps/s ({echo_seq.cpu_ms:.2f} ms CPU/step) one at a "
                  f"time, {echo_conc.rate:6.1f} ({echo_conc.cpu_ms:.2f} ms) 32 at once | ours {ours.rate:6.1f} steps/s "
                  f"({ours.cpu_ms:.2f} ms CPU/step, {ours.round_trips:.1f} round trips/step, "
                  f"{ours.transactions:.2f} transactions/step) | ratio {ratios[-1]:.2f}x, CPU {cpu_ratios[-1]:.2f}x\n"
                  f"      round trips per step: {ours.detail}; p50 latency ours typed "
                  f"{ours.p50_ms.get('say', 0):.0f} ms, tap {ours.p50_ms.get('tap', 0):.0f} ms (best echo: "
                  f"{best.p50_ms.get('say', 0):.0f}, {best.p50_ms.get('tap', 0):.0f} ms)\n"
                  f"      durable echo (the guarantees' writes, no dialog) {durable.rate:6.1f} steps/s "
                  f"({durable.cpu_ms:.2f} ms CPU/step) = {durable.rate / best.rate:.2f}x the bare echo; "
                  f"ours / durable echo {durable_ratios[-1]:.2f}x, CPU {ours.cpu_ms / durable.cpu_ms:.2f}x")
        if ratios:
            worst = min(ratios)
            print(f"  {kind}: steps/s ours / best echo: {', '.join(f'{r:.2f}x' for r in ratios)} "
                  f"(median {statistics.median(ratios):.2f}x, target >= {TARGET:.2f}x: "
                  f"{'OK' if worst >= TARGET else 'BELOW TARGET'}); CPU per step ours / echo: "
                  f"{', '.join(f'{r:.2f}x' for r in cpu_ratios)} (target <= 1.30x: "
                  f"{'OK' if max(cpu_ratios) <= 1.3 else 'ABOVE TARGET'}); steps/s ours / durable echo: "
                  f"{', '.join(f'{r:.2f}x' for r in durable_ratios)}", flush=True)
    if "sqlite" in DBS and os.environ.get("BENCH_TELEGRAM_ENGINE", "1") == "1":
        with tempfile.TemporaryDirectory() as tmp:
            engine_only = await run_engine_only(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}")
        print(f"  (dialog engine alone, SQLite, no Telegram: {engine_only:.1f} steps/s: the ceiling for any channel)")


if __name__ == "__main__":
    asyncio.run(main())
