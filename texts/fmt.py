"""How numbers, dates and times are shown to Vietnamese readers — one place for the whole bot.

Dates day first (``15/12/2024``), times in the province's local time (Asia/Ho_Chi_Minh unless the
caller passes another zone), percentages with a decimal comma (``83,3%``), thousands with a dot
(``1.452``).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = ZoneInfo("UTC")


def num(n: int) -> str:
    """``1.452``: a whole number with the Vietnamese thousands separator (a dot)."""
    return f"{n:,}".replace(",", ".")


def pct(part: int, whole: int) -> str:
    """``83,3%`` (one decimal, Vietnamese decimal comma, ``,0`` dropped); ``0%`` of nothing."""
    value = 100.0 * part / whole if whole else 0.0
    text = f"{value:.1f}".replace(".", ",").removesuffix(",0")
    return f"{text}%"


def fmt_date(d: date | str | None) -> str:
    """``15/12/2024``; an ISO string is read first; empty for None (a string that is not a date is
    returned as it is, so a stored free text is never lost on display)."""
    if d is None or d == "":
        return ""
    if isinstance(d, str):
        text = d
        try:
            d = date.fromisoformat(text)
        except ValueError:
            return text
    return d.strftime("%d/%m/%Y")


def local(value: datetime, tz: ZoneInfo = LOCAL_TZ) -> datetime:
    """An aware datetime in ``tz``; a naive one is UTC (SQLite hands datetimes back naive)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(tz)


def fmt_datetime(value: datetime | None, tz: ZoneInfo = LOCAL_TZ) -> str:
    """``15/12/2024 14:05`` in local time; empty for None."""
    return local(value, tz).strftime("%d/%m/%Y %H:%M") if value is not None else ""


def fmt_time_date(value: datetime | None, tz: ZoneInfo = LOCAL_TZ) -> str:
    """``14:05 15/12/2024`` in local time (receipts: the time first); empty for None."""
    return local(value, tz).strftime("%H:%M %d/%m/%Y") if value is not None else ""


def iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def from_iso(s: str | None) -> date | None:
    return date.fromisoformat(s) if s else None


def fmt_values(values: dict[str, object]) -> dict[str, object]:
    """``values`` with every date shown day first (for a catalog text's placeholders)."""
    return {k: fmt_date(v) if isinstance(v, date) else v for k, v in values.items()}


def planned_examples(today: date) -> dict[str, str]:
    """Examples for a question about a planned date, always ahead of ``today``: the 15th two months
    later as ``day`` (``15/02/2025``) and ``short`` (``15/2``), its ``month`` and ``year``."""
    year, month = divmod(today.year * 12 + today.month + 1, 12)  # two months ahead (months counted from 0)
    ahead = date(year, month + 1, 15)
    return {"day": fmt_date(ahead), "short": f"{ahead.day}/{ahead.month}", "month": str(ahead.month),
            "year": str(ahead.year)}
