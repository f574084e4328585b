"""Crontab expressions read as crontab reads them, for the scheduler that fires on them and for the pages
that say when something will go: one reading for both, so the note and the firing cannot disagree.

APScheduler 3 numbers the day of week from Monday (``day_of_week=0`` is Monday) and its
``CronTrigger.from_crontab`` passes the field through unchanged, so ``from_crontab("0 7 * * 1")`` fires on
Tuesdays. :func:`cron_trigger` turns the crontab field (0 or 7 = Sunday, 1 = Monday, names sun–sat,
ranges, lists, steps) into APScheduler's day names before building the trigger.
"""

from __future__ import annotations

from datetime import tzinfo

from apscheduler.triggers.cron import CronTrigger

DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")  # crontab's numbers: 0 and 7 are Sunday


def _day(item: str) -> int:
    return int(item) if item.isdigit() else DOW_NAMES.index(item.lower()[:3])


def day_of_week(field: str) -> str:
    """A crontab day-of-week field in APScheduler's day names (``"1-5"`` → ``"mon,tue,wed,thu,fri"``)."""
    if field in ("*", "?"):
        return "*"
    out: list[str] = []
    for part in field.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            days = list(range(7))
        elif "-" in base:
            a, b = base.split("-")
            days = list(range(_day(a), _day(b) + 1))
        else:
            days = [_day(base)]
        out += [DOW_NAMES[d] for d in days[:: int(step) if step else 1]]
    return ",".join(dict.fromkeys(out))


def cron_trigger(expr: str, tz: tzinfo) -> CronTrigger:
    """A standard five-field crontab expression (minute hour day month day-of-week), in ``tz``."""
    minute, hour, day, month, dow = expr.split()
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=day_of_week(dow), timezone=tz)

