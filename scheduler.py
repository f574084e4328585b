"""The scheduler (DESIGN §2): a few cron jobs that derive what is due from the data and enqueue it,
and the outbox drain that delivers it. It remembers nothing: a job missed while the bot was down
runs once at start-up (``catch_up``), and the outbox keys make any rerun harmless.

Built by the composition root with what it uses — ``Scheduler(settings, sessions, deliver)`` —
then ``await start()`` / ``await stop()``; every job is a thin call to a domain function with
``now`` passed in. ``deliver(hold_kinds, clock)`` drains the outbox (the root binds it to the channels).
"""

from __future__ import annotations

import asyncio
import logging
import time as time_
from collections.abc import Awaitable, Callable, Collection, Coroutine
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from handlers.engine import expire_conversations
from models.clock import utcnow
from models.crontab import cron_trigger
from models.db import SessionFactory, transaction
from models.delivery.housekeeping import prune
from models.delivery.leases import hold, release
from models.delivery.pacing import prune_idle
from models.election.escalation import escalate_late_decisions
from models.giaoban.rules import GiaobanRules
from models.giaoban.sweep import GbStats
from models.giaoban.sweep import sweep as giaoban_sweep
from models.outage import Outage
from models.reminders.rules import Rules
from models.reminders.sweep import SweepStats, sweep
from reports.digest_send import Build, DigestStats, Draw, enqueue_digests
from reports.giaoban_text import pack_texter
from reports.giaoban_text import renderer as giaoban_renderer
from reports.reminder_text import renderer

log = logging.getLogger("scheduler")
HELD_IN_QUIET_HOURS = ("reminder", "escalation", "digest", "digest_file", "giaoban", "giaoban_staff")

# (kinds held back now, the clock) → drain statistics
Deliver = Callable[[Collection[str], Callable[[], datetime]], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class SchedulerSettings:
    """What the jobs need to know (built from ``[scheduler]`` and ``[reminders]`` by the root)."""

    tz: ZoneInfo
    period: str
    rules: Rules
    files_dir: Path
    reminder_cron: str = "0 8,15 * * *"
    digest_daily_cron: str = "30 7 * * *"
    digest_weekly_cron: str = "0 7 * * 1"
    expiry_cron: str = "*/30 * * * *"
    outbox_drain_seconds: float = 5.0
    campaign_daily_digest: bool = True
    campaign_end: date | None = None
    misfire_grace_seconds: int = 3600
    keep_processed: timedelta = timedelta(days=7)  # ids of handled messages (redelivery dedupe)
    keep_outbox_failed: timedelta = timedelta(days=30)  # outbox rows that ended dead or skipped
    giaoban: GiaobanRules = field(default_factory=GiaobanRules)
    giaoban_cron: str = "*/15 * * * *"
    public_url: str | None = None  # links in the giao ban pack
    offload_villages: int | None = 3000  # a weekly XLSX this large is built by the file builder (bot/files.py)
    backup_cron: str | None = None  # the scheduled backup; None: none


@dataclass(frozen=True, slots=True)
class Leadership:
    """Several workers on one database: only the holder of the ``scheduler`` lease runs the jobs.

    The leader renews the lease every ``ttl / 3``; when it dies, a standby takes the lease once it has
    expired, so within ``ttl + ttl / 3`` — or, in the app (``workers``), as soon as the dead leader's
    worker lease has run out. Without it (SQLite, one process) the scheduler always runs.
    """

    holder: str  # this worker, e.g. host:pid
    ttl: timedelta = timedelta(seconds=45)
    name: str = "scheduler"
    # the holder is a worker with its own lease (bot.pipeline.worker): when that runs out (a killed
    # worker, about ten seconds), a standby takes over at once, not after ``ttl``; the standbys look
    # every ``standby_every``
    workers: bool = False
    standby_every: timedelta = timedelta(seconds=3)

    @property
    def every(self) -> timedelta:
        """How often the lease is renewed or asked for."""
        return min(self.ttl / 3, self.standby_every) if self.workers else self.ttl / 3


def previous_fire(cron: str, now: datetime, tz: Any, lookback: timedelta) -> datetime | None:
    """The last time ``cron`` fired at or before ``now`` (within ``lookback``), or None."""
    trigger = cron_trigger(cron, tz)
    last, t = None, trigger.get_next_fire_time(None, (now - lookback).astimezone(tz))
    while t is not None and t <= now:
        last, t = t, trigger.get_next_fire_time(t, t + timedelta(seconds=1))
    return last


class Scheduler:
    """The jobs of one bot process. ``clock`` is injectable for tests."""

    def __init__(self, settings: SchedulerSettings, sessions: SessionFactory, deliver: Deliver,
                 clock: Callable[[], datetime] = utcnow, leadership: Leadership | None = None,
                 build: Build | None = None, draw: Draw | None = None,
                 backup: Callable[[datetime], Awaitable[Any]] | None = None) -> None:
        self.settings = settings
        self.backup = backup  # the scheduled backup (settings.backup_cron), bound to the config by the root
        # (job id, ran without error, seconds) after each run of a periodic job: the metrics' hook
        self.on_job: Callable[[str, bool, float], None] | None = None
        self.build = build  # the file builder's: a large digest's figures and chart made in its worker process
        self.draw = draw  # ... and the other digests' charts
        self.leadership = leadership
        self._lease_until: datetime | None = None  # while this worker holds the lease (leadership only)
        self._lease_outage = Outage(log, "scheduler lease")  # one line while the database is away, not one a try
        self.sessions = sessions
        self.deliver = deliver
        self.clock = clock
        self.tz = settings.tz
        self.rules = settings.rules
        self._aps: AsyncIOScheduler | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- the jobs ------------------------------------------------------------------------------
    async def reminder_job(self, now: datetime | None = None) -> SweepStats:
        now = now or self.clock()
        async with transaction(self.sessions) as session:
            stats = await sweep(session, self.rules, period=self.settings.period, now=now, tz=self.tz,
                                render=renderer(now.astimezone(self.tz).date()))
            if not stats.quiet:
                stats.escalations += await escalate_late_decisions(session, now, self.tz)
        log.info("reminder sweep: %d due, %d reminders, %d escalations", stats.due, stats.reminders,
                 stats.escalations)
        return stats

    def daily_digest_due(self, day: date) -> bool:
        """Daily digests run during the campaign, and not on the day of the weekly digest."""
        cfg = self.settings
        if not cfg.campaign_daily_digest or (cfg.campaign_end and day > cfg.campaign_end):
            return False
        start = datetime.combine(day, time(0), self.tz)
        weekly = cron_trigger(cfg.digest_weekly_cron, self.tz).get_next_fire_time(None, start)
        return weekly is None or weekly.date() != day

    async def digest_job(self, weekly: bool, now: datetime | None = None) -> DigestStats:
        now = now or self.clock()
        today = now.astimezone(self.tz).date()
        if not weekly and not self.daily_digest_due(today):
            return DigestStats()
        stats = await enqueue_digests(self.sessions, rules=self.rules, period=self.settings.period, now=now,
                                      today=today, weekly=weekly, files_dir=self.settings.files_dir, tz=self.tz,
                                      offload_villages=self.settings.offload_villages, build=self.build,
                                      draw=self.draw)
        log.info("%s digest: %d enqueued, %d already sent", "weekly" if weekly else "daily", stats.enqueued,
                 stats.already)
        return stats

    async def giaoban_job(self, now: datetime | None = None) -> GbStats:
        """The giao ban loop: meetings from schedules, invitations, reminders, the pack, directives."""
        now = now or self.clock()
        cfg = self.settings
        today = now.astimezone(self.tz).date()
        async with transaction(self.sessions) as session:
            stats = await giaoban_sweep(session, cfg.giaoban, now=now, tz=self.tz, render=giaoban_renderer(self.tz),
                                        pack_text=pack_texter(self.rules, self.tz, today, cfg.public_url),
                                        quiet=self.rules.is_quiet(now.astimezone(self.tz)))
        log.info("giao ban sweep: %d meetings, %d enqueued", stats.meetings, len(stats.keys))
        return stats

    def held_kinds(self, now: datetime) -> Collection[str]:
        """What waits for the morning: nothing unprompted is sent in quiet hours but replies."""
        return HELD_IN_QUIET_HOURS if self.rules.is_quiet(now.astimezone(self.tz)) else ()

    async def drain_job(self) -> Any:
        return await self.deliver(self.held_kinds(self.clock()), self.clock)

    async def expiry_job(self, now: datetime | None = None) -> int:
        """Stale conversations expire; handled-message ids and failed outbox rows past their age go."""
        now = now or self.clock()
        expired = await expire_conversations(self.sessions, now)
        async with transaction(self.sessions) as session:
            pruned = await prune(session, now, self.settings.keep_processed, self.settings.keep_outbox_failed)
            await prune_idle(session, now.timestamp())  # the shared pace's idle chats (PostgreSQL)
        if pruned.processed or pruned.outbox:
            log.info("housekeeping: %d handled-message ids and %d failed outbox rows pruned", pruned.processed,
                     pruned.outbox)
        return expired

    # --- leadership ----------------------------------------------------------------------------
    @property
    def leading(self) -> bool:
        """Whether this worker runs the jobs now."""
        if self.leadership is None:
            return True
        return self._lease_until is not None and self.clock() < self._lease_until

    def status(self) -> str:
        """For ``/healthz``: ``leader``, ``standby``, or ``single`` (no leadership: always runs)."""
        if self.leadership is None:
            return "single"
        return "leader" if self.leading else "standby"

    async def lead_once(self) -> bool:
        """Take or renew the lease; on becoming leader, catch up on what was missed. True if leading."""
        lease = self.leadership
        if lease is None:
            return True
        was = self.leading
        now = self.clock()
        try:
            async with transaction(self.sessions) as session:
                held = await hold(session, lease.name, lease.holder, now, lease.ttl,
                                  holders_are_workers=lease.workers)
        except Exception as exc:  # the database is away: keep what we hold until it runs out, then stand by
            self._lease_outage.failed(exc)
            return self.leading
        self._lease_outage.ok()
        self._lease_until = now + lease.ttl if held else None
        if held and not was:
            log.info("scheduler: %s leads", lease.holder)
            self._spawn(self._catch_up_logged())
        elif was and not held:
            log.warning("scheduler: %s lost the lease; standing by", lease.holder)
        return held

    async def catch_up(self, now: datetime | None = None) -> None:
        """At start-up: run the sweep, and a digest whose time passed in the current period while the
        bot was down (the outbox keys make it harmless if it was in fact sent)."""
        now = now or self.clock()
        cfg = self.settings
        await self.reminder_job(now)
        await self.giaoban_job(now)
        weekly = previous_fire(cfg.digest_weekly_cron, now, self.tz, timedelta(days=7))
        if weekly is not None and weekly.isocalendar()[:2] == now.astimezone(self.tz).isocalendar()[:2]:
            await self.digest_job(True, now)
        daily = previous_fire(cfg.digest_daily_cron, now, self.tz, timedelta(days=1))
        if daily is not None and daily.date() == now.astimezone(self.tz).date():
            await self.digest_job(False, now)

    # --- lifecycle -----------------------------------------------------------------------------
    def jobs(self) -> dict[str, tuple[Callable[..., Awaitable[Any]], Any, list[Any]]]:
        """Every periodic job: id → (function, trigger, arguments)."""
        cfg = self.settings

        def cron(expr: str) -> CronTrigger:
            return cron_trigger(expr, self.tz)

        return {
            "reminders": (self.reminder_job, cron(cfg.reminder_cron), []),
            "digest_daily": (self.digest_job, cron(cfg.digest_daily_cron), [False]),
            "digest_weekly": (self.digest_job, cron(cfg.digest_weekly_cron), [True]),
            "expiry": (self.expiry_job, cron(cfg.expiry_cron), []),
            "giaoban": (self.giaoban_job, cron(cfg.giaoban_cron), []),
            "outbox": (self.drain_job, IntervalTrigger(seconds=cfg.outbox_drain_seconds, timezone=self.tz), []),
            **({"backup": (self.backup_job, cron(cfg.backup_cron), [])} if cfg.backup_cron and self.backup else {}),
        }

    async def backup_job(self, now: datetime | None = None) -> Any:
        """The scheduled backup (one worker: the leader); the root's function keeps the newest ones."""
        assert self.backup is not None
        return await self.backup(now or self.clock())

    async def start(self) -> None:
        aps = AsyncIOScheduler(timezone=self.tz, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": self.settings.misfire_grace_seconds})
        for job_id, (func, trigger, args) in self.jobs().items():
            aps.add_job(self.run_timed, trigger, args=[job_id, func, *args], id=job_id)
        if self.leadership is not None:
            renew = IntervalTrigger(seconds=self.leadership.every.total_seconds(), timezone=self.tz)
            aps.add_job(self.lead_once, renew, id="leader")
        aps.start()
        self._aps = aps
        if self.leadership is None:
            self._spawn(self._catch_up_logged())
        else:
            await self.lead_once()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def next_runs(self) -> dict[str, datetime | None]:
        """When each job runs next (empty when not started)."""
        if self._aps is None:
            return {}
        return {job.id: job.next_run_time for job in self._aps.get_jobs()}

    async def run_job(self, func: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """Run a job as a task that ``stop`` can see: APScheduler's shutdown does not wait for
        coroutine jobs, and a drain left running would outlive the engine it writes through."""
        if not self.leading:
            return None  # another worker leads
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            return await func(*args)
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def run_timed(self, job_id: str, func: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """:meth:`run_job`, its outcome and time handed to ``on_job`` (not for a standby's skipped runs)."""
        if self.on_job is None or not self.leading:
            return await self.run_job(func, *args)
        started, ok = time_.perf_counter(), False
        try:
            result = await self.run_job(func, *args)
            ok = True
            return result
        finally:
            self.on_job(job_id, ok, time_.perf_counter() - started)

    async def _catch_up_logged(self) -> None:
        try:
            await self.catch_up()
        except Exception:
            log.exception("start-up catch-up failed")

    async def stop(self) -> None:
        """No new runs; the running jobs (start-up catch-up, a drain in progress) are cancelled and
        awaited, so nothing of the scheduler's still uses the database when this returns."""
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.leadership is not None and self._lease_until is not None:
            self._lease_until = None
            try:  # hand over at once rather than when the lease runs out
                async with transaction(self.sessions) as session:
                    await release(session, self.leadership.name, self.leadership.holder)
            except Exception:
                log.exception("scheduler lease: could not release it; it runs out by itself")
