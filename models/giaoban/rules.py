"""The giao ban settings and the calendar arithmetic of schedules (pure functions, no database)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class GiaobanRules:
    """When the loop's messages are due (``[giaoban]`` of config.toml)."""

    invite_days_before: int = 7  # invitations go out this many days before the meeting (or at once)
    report_window_days: int = 3  # /giaoban opens this many days before the meeting, closes at its start
    pack_time: time = time(18, 0)  # the pack goes to commune staff at this hour the day before
    ack_remind_days: int = 1  # a directive not acknowledged after this many days is reminded...
    repeat_every_days: int = 2  # ...again every this many days...
    escalate_after_days: int = 3  # ...and escalated to commune staff after this many (also overdue tasks)

    def window_opens(self, starts_at: datetime) -> datetime:
        return starts_at - timedelta(days=self.report_window_days)

    def invite_from(self, starts_at: datetime) -> datetime:
        return starts_at - timedelta(days=self.invite_days_before)

    def pack_at(self, starts_at: datetime, tz: ZoneInfo) -> datetime:
        day_before = starts_at.astimezone(tz).date() - timedelta(days=1)
        return datetime.combine(day_before, self.pack_time, tz)


def parse_hhmm(text: str) -> time | None:
    """``08:00``, ``8h30``, ``14.00`` → a time; None when it is not one."""
    cleaned = text.strip().lower().replace("h", ":").replace(".", ":")
    hour, _, minute = cleaned.partition(":")
    if not (hour.isascii() and hour.isdigit()) or (minute and not (minute.isascii() and minute.isdigit())):
        return None
    h, m = int(hour), int(minute or 0)
    return time(h, m) if 0 <= h < 24 and 0 <= m < 60 else None


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> date | None:
    """The ``nth`` (1–4; 5 = the last) ``weekday`` (0 = Monday) of a month."""
    days = [d for d in range(1, calendar.monthrange(year, month)[1] + 1)
            if date(year, month, d).weekday() == weekday]
    if nth >= 5:
        return date(year, month, days[-1])
    return date(year, month, days[nth - 1]) if 1 <= nth <= len(days) else None


def occurrences(kind: str, start: date, end: date, *, weekday: int | None = None, day: int | None = None,
                nth: int | None = None) -> list[date]:
    """The dates from ``start`` to ``end`` (inclusive) on which a recurrence falls."""
    out: list[date] = []
    if kind == "weekly" and weekday is not None:
        d = start + timedelta(days=(weekday - start.weekday()) % 7)
        while d <= end:
            out.append(d)
            d += timedelta(days=7)
        return out
    y, m = start.year, start.month
    while date(y, m, 1) <= end:
        found: date | None = None
        if kind == "monthly_day" and day is not None:
            found = date(y, m, min(day, calendar.monthrange(y, m)[1]))
        elif kind == "monthly_nth" and weekday is not None and nth is not None:
            found = nth_weekday(y, m, weekday, nth)
        if found is not None and start <= found <= end:
            out.append(found)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out
