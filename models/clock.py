"""Time, injected: every domain function takes ``now`` (an aware UTC datetime) and ``today``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """The current time, aware, in UTC (how datetimes are stored)."""
    return datetime.now(UTC)


def local_date(now: datetime, tz: ZoneInfo) -> date:
    """The calendar date in ``tz`` at the instant ``now``."""
    return now.astimezone(tz).date()


def to_local(now: datetime, tz: ZoneInfo) -> datetime:
    return now.astimezone(tz)
