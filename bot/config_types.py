"""The value types of the configuration that need more than pydantic's own checks: calendar dates,
clock times and crontab expressions, each read the way the bot uses it, refused with a clear message."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Annotated

from apscheduler.triggers.cron import CronTrigger
from pydantic import AfterValidator, BeforeValidator


def _iso_date(value: object) -> object:
    """A TOML date, or an ISO ``YYYY-MM-DD`` string; nothing else (no date-times, no week dates)."""
    if isinstance(value, datetime):
        raise ValueError("must be a date YYYY-MM-DD, not a date and time")
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(f"must be a date YYYY-MM-DD, e.g. 2024-12-15 (got {value!r})")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid date ({exc})") from None


def _hh_mm(value: object) -> object:
    """A TOML local time, or ``"HH:MM"`` (24-hour clock)."""
    if isinstance(value, time):
        return value
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"must be a time HH:MM (00:00-23:59), e.g. 21:00 (got {value!r})")
    return time(int(match[1]), int(match[2]))


_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DOW_ITEM = r"(?:[0-7]|sun|mon|tue|wed|thu|fri|sat)"
_DOW_PART = re.compile(rf"(?:\*|(?P<a>{_DOW_ITEM})-(?P<b>{_DOW_ITEM}))(?:/[1-9]\d*)?|{_DOW_ITEM}", re.IGNORECASE)


def _dow_number(item: str) -> int:
    return int(item) if item.isdigit() else _DOW_NAMES.index(item.lower())


def _crontab(value: str) -> str:
    """A standard five-field crontab expression, checked the way ``models.crontab.cron_trigger`` reads it:
    minute, hour, day and month by APScheduler's ``CronTrigger``; the day of week (0 or 7 = Sunday, names
    sun-sat) as ``*``, days, ranges, lists, and steps of ``*`` or of a range."""
    fields = value.split()
    if len(fields) != 5:
        raise ValueError(f"must be a crontab expression of five fields, minute hour day month day-of-week, "
                         f"e.g. '0 8 * * *' (got {value!r})")
    for name, field in zip(("minute", "hour", "day", "month"), fields, strict=False):
        try:
            CronTrigger(**{name: field}, timezone=UTC)
        except ValueError as exc:
            raise ValueError(f"{value!r}: {name} field {field!r}: {exc}") from None
    dow = fields[4]
    if dow not in ("*", "?"):
        for part in dow.split(","):
            match = _DOW_PART.fullmatch(part)
            if match is None:
                raise ValueError(f"{value!r}: day-of-week field {dow!r}: {part!r} is not a day 0-7 or sun-sat, "
                                 "a range, or a step of * or of a range")
            if match["a"] and _dow_number(match["a"]) > _dow_number(match["b"]):
                raise ValueError(f"{value!r}: day-of-week range {part!r} runs backwards (Sunday is 0 or 7)")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
ClockTime = Annotated[time, BeforeValidator(_hh_mm)]
Crontab = Annotated[str, AfterValidator(_crontab)]
