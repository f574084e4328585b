"""Dates as Vietnamese users write them (day first)."""

from __future__ import annotations

from datetime import date


def fmt_date(d: date | str | None) -> str:
    if d is None:
        return ""
    if isinstance(d, str):
        d = date.fromisoformat(d)
    return d.strftime("%d/%m/%Y")


def iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def from_iso(s: str | None) -> date | None:
    return date.fromisoformat(s) if s else None
