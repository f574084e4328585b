"""The scheduler (DESIGN §2): a few cron jobs that derive what is due from the data and enqueue it,
and the outbox drain that delivers it. It remembers nothing: a job missed while the bot was down
runs once at start-up (``catch_up``), and the outbox keys make any rerun harmless.

Built by the composition root (``Scheduler(app)``, ``await start()``, ``await stop()``); every job
is a thin call to a domain function with ``now`` passed in.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Config, ReminderConfig, SchedulerConfig
from bot.delivery import DrainPolicy, DrainStats, RateLimiter, drain
from handlers.digest_send import DigestStats, enqueue_digests
from handlers.engine import expire_conversations
from handlers.reminder_text import renderer
from models.clock import utcnow
from models.db import SessionFactory, transaction
from models.reminder_sweep import SweepStats, sweep
from models.reminders import Rules

log = logging.getLogger("scheduler")
HELD_IN_QUIET_HOURS = ("reminder", "escalation", "digest", "digest_file")


def rules_from_config(cfg: ReminderConfig) -> Rules:
    return Rules(election_date=cfg.election_date, election_grace_days=cfg.election_grace_days,
                 plan_congress_after_days=cfg.plan_congress_after_days,
                 congress_soon_days=tuple(cfg.congress_soon_days),
                 congress_result_grace_days=cfg.congress_result_grace_days, probation_months=cfg.probation_months,
                 probation_notice_days=cfg.probation_notice_days, repeat_every_days=cfg.repeat_every_days,
                 escalate_after=cfg.escalate_after, quiet_start=cfg.quiet_start, quiet_end=cfg.quiet_end)


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

    def __init__(self, app: Any, clock: Callable[[], datetime] = utcnow) -> None:
        self.config: Config = app.config
        self.sessions: SessionFactory = app.sessions
        self.channels = app.channels  # read at each drain: channels may be added after construction
        self.clock = clock
        self.tz = self.config.tz
        self.rules = rules_from_config(self.config.reminders)
        cfg: SchedulerConfig = self.config.scheduler
        self.limiter = RateLimiter(cfg.rate_per_second, cfg.per_chat_seconds)
        self.files_dir = Path(cfg.files_dir)
        self._aps: AsyncIOScheduler | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- the jobs ------------------------------------------------------------------------------
    async def reminder_job(self, now: datetime | None = None) -> SweepStats:
        now = now or self.clock()
        async with transaction(self.sessions) as session:
            stats = await sweep(session, self.rules, period=self.config.bot.period, now=now, tz=self.tz,
                                render=renderer(now.astimezone(self.tz).date()))
        log.info("reminder sweep: %d due, %d reminders, %d escalations", stats.due, stats.reminders,
                 stats.escalations)
        return stats

    def daily_digest_due(self, day: date) -> bool:
        """Daily digests run during the campaign, and not on the day of the weekly digest."""
        cfg = self.config.scheduler
        if not cfg.campaign_daily_digest or (cfg.campaign_end is not None and day > cfg.campaign_end):
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
            stats = await enqueue_digests(session, rules=self.rules, period=self.config.bot.period, now=now,
                                          today=today, weekly=weekly, files_dir=self.files_dir, tz=self.tz)
        log.info("%s digest: %d enqueued, %d already sent", "weekly" if weekly else "daily", stats.enqueued,
                 stats.already)
        return stats

    def drain_policy(self, now: datetime) -> DrainPolicy:
        cfg = self.config.scheduler
        quiet = self.rules.is_quiet(now.astimezone(self.tz))
        return DrainPolicy(max_attempts=cfg.max_attempts, backoff_base=timedelta(seconds=cfg.backoff_seconds),
                           lease=timedelta(seconds=cfg.lease_seconds),
                           hold_kinds=HELD_IN_QUIET_HOURS if quiet else ())

    async def drain_job(self) -> DrainStats:
        return await drain(self.sessions, self.channels, self.limiter, self.drain_policy(self.clock()), self.clock)

    async def expiry_job(self, now: datetime | None = None) -> int:
        return await expire_conversations(self.sessions, now or self.clock())

    async def catch_up(self, now: datetime | None = None) -> None:
        """At start-up: run the sweep, and a digest whose time passed in the current period while the
        bot was down (the outbox keys make it harmless if it was in fact sent)."""
        now = now or self.clock()
        cfg = self.config.scheduler
        await self.reminder_job(now)
        weekly = previous_fire(cfg.digest_weekly_cron, now, self.tz, timedelta(days=7))
        if weekly is not None and weekly.isocalendar()[:2] == now.astimezone(self.tz).isocalendar()[:2]:
            await self.digest_job(True, now)
        daily = previous_fire(cfg.digest_daily_cron, now, self.tz, timedelta(days=1))
        if daily is not None and daily.date() == now.astimezone(self.tz).date():
            await self.digest_job(False, now)

    # --- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        cfg = self.config.scheduler
        aps = AsyncIOScheduler(timezone=self.tz, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": cfg.misfire_grace_seconds})

        def cron(expr: str) -> CronTrigger:
            return cron_trigger(expr, self.tz)

        aps.add_job(self.reminder_job, cron(cfg.reminder_cron), id="reminders")
        aps.add_job(self.digest_job, cron(cfg.digest_daily_cron), args=[False], id="digest_daily")
        aps.add_job(self.digest_job, cron(cfg.digest_weekly_cron), args=[True], id="digest_weekly")
        aps.add_job(self.expiry_job, cron(cfg.expiry_cron), id="expiry")
        aps.add_job(self.drain_job, IntervalTrigger(seconds=cfg.outbox_drain_seconds, timezone=self.tz), id="outbox")
        aps.start()
        self._aps = aps
        task = asyncio.create_task(self._catch_up_logged())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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


async def digest_command(config: Config, args: argparse.Namespace) -> int:
    """``python -m bot digest --unit CODE [--send]``: print the digest; with ``--send``, enqueue it for
    the unit's staff (the running bot, ``python -m bot run``, delivers it through its channels)."""
    from bot.commands import _database
    from handlers.digest_text import render_digest
    from models.digest import compute
    from models.units import get_unit

    now = utcnow()
    today = now.astimezone(config.tz).date()
    rules = rules_from_config(config.reminders)
    async with _database(config) as (_, sessions), transaction(sessions) as session:
        unit = await get_unit(session, config.bot.period, args.unit)
        if unit is None:
            print(f"no unit with code {args.unit} in period {config.bot.period}")
            return 1
        print(render_digest(await compute(session, unit, rules, today), with_changes=False))
        if not getattr(args, "send", False):
            return 0
        stats = await enqueue_digests(session, rules=rules, period=config.bot.period, now=now, today=today,
                                      weekly=False, files_dir=Path(config.scheduler.files_dir), tz=config.tz,
                                      unit_id=unit.id, period_key=f"manual-{now.strftime('%Y%m%dT%H%M%S')}")
    print(f"\nenqueued for {stats.enqueued} staff account(s) of {unit.code}; "
          "the running bot (python -m bot run) delivers them")
    return 0
