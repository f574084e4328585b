"""The file builder: the exports and digests of large scopes, built in a worker process.

It polls the outbox for file requests (``models.delivery.files``), claims them with a lease, and builds each
in the process pool — a request for a file that is already being built waits for that build instead
of starting another (one build per unit, kind and day in flight, whichever worker builds it: the
request is not claimed while another holds a lease on the same file, and that build hands it over
too) — then hands the result to the outbox in one transaction; the outbox drain sends it. The event
loop only waits: the database reads, the rows turned into cells, the zip, the chart all happen in the
worker.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.worker_process import init_worker
from models.clock import utcnow
from models.db import SessionFactory, transaction
from models.delivery.files import (
    MAX_BUILDS,
    Claimed,
    FileRequest,
    any_waiting,
    claim_requests,
    claim_siblings,
)
from models.outage import Outage
from models.progress.tallies import UnitProgress
from reports.chart import progress_chart
from reports.files import BuildConfig, Built, build, give_up, hand_over

log = logging.getLogger(__name__)


def process_pool(workers: int = 1, nice: int = 10) -> ProcessPoolExecutor:
    """Worker processes started fresh (``spawn``: nothing of this process's loop or connections), at a
    lower CPU priority (``nice``): on a busy machine the replies to users go first, the file a little later.
    They end with this process, even after ``kill -9`` (:mod:`bot.worker_process`)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=init_worker, initargs=(os.getpid(), nice))


def draw_chart(unit_name: str, lines: list[UnitProgress]) -> bytes:
    """A chart in the chart worker, its figure's reference cycles collected at once: left to the cyclic
    collector, they took the worker from 106 MB to 142 MB within 50 charts (to 106 MB with this)."""
    png = progress_chart(unit_name, lines)
    gc.collect()
    return png


KEEP_BUILT = timedelta(days=3)  # a built file stays this long (the outbox retries for less: MAX_BACKOFF × attempts)


def prune_built(files_dir: Path, now: datetime, keep: timedelta = KEEP_BUILT) -> int:
    """Remove the folders of files built more than ``keep`` ago (``<date>-<token>/``, :mod:`reports.files`);
    returns how many."""
    cutoff = (now - keep).date()
    removed = 0
    for folder in files_dir.glob("????-??-??-*") if files_dir.is_dir() else ():
        try:
            built_on = date.fromisoformat(folder.name[:10])
        except ValueError:
            continue
        if folder.is_dir() and built_on < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


class FileBuilder:
    def __init__(self, sessions: SessionFactory, cfg: BuildConfig, tz: ZoneInfo, executor: Executor | None = None,
                 poll_seconds: float = 1.0, clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions, self.cfg, self.tz, self.clock = sessions, cfg, tz, clock
        self._executor = executor  # the process pool is started on the first build: an idle bot has none
        # the digests' charts: a process of their own, started on the first chart (matplotlib and its
        # caches, some 140 MB after a few dozen charts, stay out of the process that writes the big files);
        # an injected executor (tests) does both
        self._charts: Executor | None = executor
        self.poll_seconds = poll_seconds
        self.builds = 0  # builds started (two requests for one file in flight: one build)
        self._inflight: dict[tuple[object, ...], asyncio.Future[Built]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None

    @property
    def executor(self) -> Executor:
        if self._executor is None:
            self._executor = process_pool()
        return self._executor

    def file(self, request: FileRequest) -> asyncio.Future[Built]:
        """The build of ``request``'s file: the one in flight, or a new one in the pool."""
        key = request.same_file
        found = self._inflight.get(key)
        if found is not None:
            return found
        future = asyncio.ensure_future(self._build(request))
        self.builds += 1
        self._inflight[key] = future
        future.add_done_callback(lambda _: self._inflight.pop(key, None))
        return future

    async def _build(self, request: FileRequest) -> Built:
        built = await asyncio.wrap_future(self.executor.submit(build, self.cfg, request))
        figures = built.figures
        if figures is not None and built.path is not None:  # a digest's chart, drawn by the chart worker
            png = await self.chart(figures.unit_name, figures.children)
            await asyncio.to_thread(Path(built.path).write_bytes, png)
        return built

    @property
    def charts(self) -> Executor:
        if self._charts is None:
            self._charts = process_pool()
        return self._charts

    async def chart(self, unit_name: str, lines: list[UnitProgress]) -> bytes:
        """A digest's chart, drawn in a worker process (0.2 s of CPU that would slow the loop's replies)."""
        return await asyncio.wrap_future(self.charts.submit(draw_chart, unit_name, lines))

    async def run_once(self) -> list[asyncio.Task[None]]:
        """Claim the waiting requests and start serving each; returns the tasks (tests wait for them)."""
        async with self.sessions() as s:
            if not await any_waiting(s, self.clock()):
                return []
        async with transaction(self.sessions) as s:
            claimed = await claim_requests(s, self.clock())
        started = []
        for job in claimed:
            task = asyncio.create_task(self._serve(job, self.file(job.request)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started.append(task)
        return started

    async def _serve(self, job: Claimed, building: asyncio.Future[Built]) -> None:
        try:
            built = await asyncio.shield(building)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("building %s failed (try %d)", job.key, job.attempts)
            if job.attempts >= MAX_BUILDS:
                async with transaction(self.sessions) as s:
                    await give_up(s, job, self.clock())
            return  # otherwise tried again once the lease expires
        async with transaction(self.sessions) as s:
            now = self.clock()
            await hand_over(s, job, built, self.tz, now)
            for sibling in await claim_siblings(s, job, now):  # asked for while it was being built
                await hand_over(s, sibling, built, self.tz, now)

    async def _poll(self) -> None:
        pruned = 0.0
        outage = Outage(log, "file builder: polling")
        while True:
            try:
                await self.run_once()
                outage.ok()
            except Exception as exc:  # the database away: try again at the next poll
                outage.failed(exc)
            if time.monotonic() - pruned > 3600:
                pruned = time.monotonic()
                await asyncio.to_thread(prune_built, Path(self.cfg.files_dir), self.clock())
            await asyncio.sleep(self.poll_seconds)

    async def start(self) -> None:
        self._loop = asyncio.create_task(self._poll(), name="file-builder")

    async def stop(self) -> None:
        """Stop polling; builds in hand are abandoned (their leases expire, a later start builds them)."""
        tasks = [t for t in (self._loop, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        for pool in (self._executor, self._charts):
            if pool is not None:  # (the same one twice when injected: a second shutdown does nothing)
                pool.shutdown(wait=False, cancel_futures=True)
