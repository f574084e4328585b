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
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from handlers.engine import expire_conversations
from models.clock import utcnow
from models.db import SessionFactory, transaction
from models.recognition import escalate_recognitions
from models.reminder_sweep import SweepStats, sweep
from models.reminders import Rules
from models.vacancy import escalate_by_elections
from reports.digest_send import DigestStats, enqueue_digests
from reports.reminder_text import renderer

log = logging.getLogger("scheduler")
HELD_IN_QUIET_HOURS = ("reminder", "escalation", "digest", "digest_file")

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


DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _dow(field: str) -> str:
    """A standard crontab day-of-week field (0 or 7 = Sunday) in APScheduler's names: APScheduler 3
    numbers Monday 0, so ``from_crontab("0 7 * * 1")`` would fire on Tuesdays."""
    if field in ("*", "?"):
        return "*"
    out: list[str] = []
    for part in field.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            days = list(range(7))
        elif "-" in base:
            a, b = base.split("-")
            days = list(range(int(a) if a.isdigit() else DOW_NAMES.index(a.lower()[:3]),
                              (int(b) if b.isdigit() else DOW_NAMES.index(b.lower()[:3])) + 1))
        else:
            days = [int(base) if base.isdigit() else DOW_NAMES.index(base.lower()[:3])]
        out += [DOW_NAMES[d] for d in days[:: int(step) if step else 1]]
    return ",".join(dict.fromkeys(out))


def cron_trigger(expr: str, tz: Any) -> CronTrigger:
    """A standard five-field crontab expression, in ``tz``."""
    minute, hour, day, month, dow = expr.split()
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=_dow(dow), timezone=tz)


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
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
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
                stats.escalations += await escalate_recognitions(session, now, self.tz)
                stats.escalations += await escalate_by_elections(session, now, self.tz)
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
        async with transaction(self.sessions) as session:
            stats = await enqueue_digests(session, rules=self.rules, period=self.settings.period, now=now,
                                          today=today, weekly=weekly, files_dir=self.settings.files_dir, tz=self.tz)
        log.info("%s digest: %d enqueued, %d already sent", "weekly" if weekly else "daily", stats.enqueued,
                 stats.already)
        return stats

    def held_kinds(self, now: datetime) -> Collection[str]:
        """What waits for the morning: nothing unprompted is sent in quiet hours but replies."""
        return HELD_IN_QUIET_HOURS if self.rules.is_quiet(now.astimezone(self.tz)) else ()

    async def drain_job(self) -> Any:
        return await self.deliver(self.held_kinds(self.clock()), self.clock)

    async def expiry_job(self, now: datetime | None = None) -> int:
        return await expire_conversations(self.sessions, now or self.clock())

    async def catch_up(self, now: datetime | None = None) -> None:
        """At start-up: run the sweep, and a digest whose time passed in the current period while the
        bot was down (the outbox keys make it harmless if it was in fact sent)."""
        now = now or self.clock()
        cfg = self.settings
        await self.reminder_job(now)
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
            "outbox": (self.drain_job, IntervalTrigger(seconds=cfg.outbox_drain_seconds, timezone=self.tz), []),
        }

    async def start(self) -> None:
        aps = AsyncIOScheduler(timezone=self.tz, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": self.settings.misfire_grace_seconds})
        for job_id, (func, trigger, args) in self.jobs().items():
            aps.add_job(func, trigger, args=args, id=job_id)
        aps.start()
        self._aps = aps
        task = asyncio.create_task(self._catch_up_logged())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def next_runs(self) -> dict[str, datetime | None]:
        """When each job runs next (empty when not started)."""
        if self._aps is None:
            return {}
        return {job.id: job.next_run_time for job in self._aps.get_jobs()}

    async def _catch_up_logged(self) -> None:
        try:
            await self.catch_up()
        except Exception:
            log.exception("start-up catch-up failed")

    async def stop(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
