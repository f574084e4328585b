"""Responsiveness under a national export: other users' reply times (p50/p95) while a staff
member's ``/xuatfile`` and ``/tonghop`` run at nation scope (80,000 villages), against the same replies
when the bot is idle, measured in the same run; with the file built in the worker process (now), and
built on the event loop (as before, for comparison). Also the national XLSX's build time and the
worker's peak RSS. Target: p95 during ≤ 2× idle; XLSX ≤ 5 s; peak RSS ≤ 150 MB. And the same replies
during the scheduler's daily digest run for 235 readers (nation, provinces, communes).

    python -m bench responsive            (SQLite and PostgreSQL)
"""

from __future__ import annotations

import asyncio
import statistics
import time
from concurrent.futures import Executor
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from bench.bench_digest import RULES, build_nation
from bench.common import analyze, scratch
from bot.files import FileBuilder
from handlers.context import Settings
from handlers.engine import Engine
from handlers.messages import Incoming
from models.accounts.tables import ChannelAccount, Person
from models.db import SessionFactory, transaction
from models.units.tables import Unit
from reports.digest_send import enqueue_digests
from reports.files import BuildConfig

OTHERS = 4  # other users, each asking /trogiup in turn
GAP = 0.02  # seconds between their messages
IDLE_SAMPLES = 30
REPEAT = 3  # each command measured this many times
NOW = datetime(2025, 2, 1, 3, tzinfo=UTC)


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


class Clock:
    n = 0

    def message(self) -> str:
        self.n += 1
        return f"b{self.n}"


async def _other(engine: Engine, clock: Clock, i: int) -> float:
    t0 = time.perf_counter()
    replies = await engine.step_for_web(Incoming(channel="telegram", account_id=f"other-{i}", text="/trogiup",
                                           message_id=clock.message()))
    assert replies, "no reply"
    return time.perf_counter() - t0


async def _idle(engine: Engine, clock: Clock) -> list[float]:
    out = []
    for k in range(IDLE_SAMPLES):
        out.append(await _other(engine, clock, k % OTHERS))
        await asyncio.sleep(GAP)
    return out


async def _during(engine: Engine, clock: Clock, work: asyncio.Future[Any]) -> list[float]:
    out, k = [], 0
    while not work.done():
        out.append(await _other(engine, clock, k % OTHERS))
        k += 1
        await asyncio.sleep(GAP)
    return out


def _worker_hwm_mb(executor: Executor) -> float:
    """The worker processes' peak resident memory (VmHWM), in MB."""
    best = 0.0
    for pid in list(getattr(executor, "_processes", {}) or {}):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    best = max(best, int(line.split()[1]) / 1024)
        except OSError:
            pass
    return best


async def _staff(sessions: SessionFactory, nation: Unit) -> None:
    async with transaction(sessions) as s:
        assert nation.id is not None
        person = Person(full_name="Cán bộ Trung ương", role="admin", unit_id=nation.id, created_at=NOW)
        s.add(person)
        await s.flush()
        s.add(ChannelAccount(channel="telegram", external_id="staff", person_id=person.id, created_at=NOW))


async def _run(kind: str, sessions: SessionFactory, url: str, files: Path) -> list[tuple[str, ...]]:
    nation = await build_nation(sessions)
    await analyze(sessions)
    await _staff(sessions, nation)
    offload = Engine(sessions, Settings(campaign_election_date=RULES.election_date, reminder_rules=RULES,
                                        period="national"))
    inline = Engine(sessions, Settings(campaign_election_date=RULES.election_date, reminder_rules=RULES,
                                       period="national", offload_villages=10**9))
    builder = FileBuilder(sessions, BuildConfig(url, "national", RULES, str(files)), offload.settings.tz)
    clock = Clock()
    await _idle(offload, clock)  # warm up: accounts created, statements cached
    warm = await offload.step_for_web(Incoming(channel="telegram", account_id="staff", text="/tonghop",
                                         message_id=clock.message()))
    assert warm[0].text.startswith("Đang chuẩn bị"), warm[0].text
    await asyncio.gather(*await builder.run_once())  # the worker process started and warm
    rows = []
    for command in ("/xuatfile", "/tonghop"):
        for mode, engine in (("worker", offload), ("on the loop", inline)):
            idle, during, answers, builds = [], [], [], []
            for _ in range(REPEAT):  # alternately idle and busy, so that a noisy machine weighs on both
                idle += await _idle(engine, clock)
                t0 = time.perf_counter()
                handled: asyncio.Future[Any] = asyncio.ensure_future(engine.step_for_web(Incoming(
                    channel="telegram", account_id="staff", text=command, message_id=clock.message())))
                if mode == "worker":
                    replies = await handled
                    answers.append(time.perf_counter() - t0)
                    assert replies[0].text.startswith("Đang chuẩn bị"), replies[0].text
                    work: asyncio.Future[Any] = asyncio.ensure_future(asyncio.gather(*await builder.run_once()))
                else:
                    await asyncio.sleep(0)
                    work = handled
                during += await _during(engine, clock, work)
                builds.append(time.perf_counter() - t0)
                answers.append(builds[-1]) if mode != "worker" else None
            rows.append((kind, command, mode, f"{statistics.median(answers) * 1000:.0f}",
                         f"{statistics.median(builds):.2f}", *_figures(idle, during)))
    rows.append(await _digest_run(kind, sessions, nation, offload, builder, clock, files))
    hwm, charts = _worker_hwm_mb(builder.executor), _worker_hwm_mb(builder.charts)
    await builder.stop()
    rows.append((kind, "worker peak RSS", f"{hwm:.0f} MB", "", "", "", "", "", "", ""))
    rows.append((kind, "chart worker RSS", f"{charts:.0f} MB", "", "", "", "", "", "", ""))
    return rows


async def _readers(sessions: SessionFactory, nation: Unit, communes: int) -> int:
    """Staff who read the digests: one per province and one for each of the first ``communes`` communes
    (the national admin is there already); returns how many readers in all."""
    async with transaction(sessions) as s:
        units = list((await s.execute(select(Unit).where(col(Unit.period) == nation.period,
                                                         col(Unit.level).in_(["province", "commune"]))
                                      .order_by(col(Unit.level).desc(), col(Unit.id)))).scalars())
        chosen = [u for u in units if u.level == "province"] + [u for u in units if u.level == "commune"][:communes]
        for i, unit in enumerate(chosen):
            assert unit.id is not None
            person = Person(full_name=f"Cán bộ {i}", role="staff", unit_id=unit.id, created_at=NOW)
            s.add(person)
            await s.flush()
            s.add(ChannelAccount(channel="telegram", external_id=f"reader-{i}", person_id=person.id, created_at=NOW))
        return len(chosen) + 1


async def _digest_run(kind: str, sessions: SessionFactory, nation: Unit, engine: Engine, builder: FileBuilder,
                      clock: Clock, files: Path) -> tuple[str, ...]:
    """The scheduler's daily digest run for every reader (the nation's, 34 provinces', 200 communes'):
    other users' replies while it runs (each unit's figures and chart first, then its rows in a short
    transaction; the nation and the provinces computed by the worker process)."""
    readers = await _readers(sessions, nation, 200)
    idle, during, runs = [], [], []
    for n in range(REPEAT):
        idle += await _idle(engine, clock)
        t0 = time.perf_counter()
        work = asyncio.ensure_future(enqueue_digests(
            sessions, rules=RULES, period=nation.period, now=NOW, today=NOW.date(), weekly=False,
            files_dir=files / "digests", tz=engine.settings.tz, period_key=f"bench-{n}", offload_villages=3000,
            build=builder.file, draw=builder.chart))
        during += await _during(engine, clock, work)
        stats = work.result()
        runs.append(time.perf_counter() - t0)
        assert stats.enqueued == readers, (stats.enqueued, readers)
    return (kind, f"digest run ({readers} readers)", "worker", "", f"{statistics.median(runs):.2f}",
            *_figures(idle, during))


def _figures(idle: list[float], during: list[float]) -> tuple[str, ...]:
    i50, i95 = statistics.median(idle), pct(idle, 0.95)
    d50, d95 = (statistics.median(during), pct(during, 0.95)) if during else (float("nan"), float("nan"))
    return (f"{i50 * 1000:.1f}", f"{i95 * 1000:.1f}", f"{d50 * 1000:.1f}", f"{d95 * 1000:.1f}",
            f"{d95 / i95:.2f}×", str(len(during)))


async def main() -> None:
    rows: list[tuple[str, ...]] = []
    for kind in ("sqlite", "postgres"):
        with TemporaryDirectory() as tmp:
            async with scratch(kind) as sessions:
                if sessions is None:
                    print(f"{kind}: PostgreSQL does not answer, skipped")
                    continue
                engine = sessions.kw["bind"]
                url = engine.url.render_as_string(hide_password=False)
                rows += await _run(kind, sessions, url, Path(tmp))
    head = ("database", "command", "built", "answer ms", "file s", "idle p50", "idle p95", "during p50",
            "during p95", "p95 ratio", "samples")
    print("  ".join(f"{h:>11}" for h in head))
    for row in rows:
        print("  ".join(f"{c:>11}" for c in row))
    print("target: p95 during ≤ 2× idle (worker rows); national XLSX ≤ 5 s; worker peak RSS ≤ 150 MB (each worker)")
