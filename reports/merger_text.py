"""The merger side of a digest: the article's breakdown in one paragraph, and the late villages
grouped by what they lack."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from models.progress.digest import DigestFigures
from models.reminders.rules import LATE_RULES, Due
from texts.catalog import t
from texts.fmt import fmt_date, pct

MAX_DATES = 3  # eligibility dates named in the paragraph; the rest are "…"


def breakdown(f: DigestFigures) -> str:
    """Elected X/Y (Z%); of them full members A — merged B, planned C, overdue D; probationary E, eligible
    by dates; non-members F, of whom G with admission planned."""
    party = {k: f.by_party.get(k, 0) for k in ("member", "probationary", "non_member")}
    dates = [t("digest.breakdown_date", n=n, date=fmt_date(d)) for d, n in f.eligible[:MAX_DATES]]
    if len(f.eligible) > MAX_DATES:
        dates.append("…")
    eligible = t("digest.breakdown_eligible", dates=", ".join(dates)) if dates else ""
    return t("digest.breakdown", elected=f.elected, villages=f.villages, pct=pct(f.elected, f.villages),
             merged=f.merged, planned=f.planned, overdue=f.overdue, eligible=eligible,
             admission=f.admission_planned, **party)


def late_grouped(late: Sequence[Due], total: int, budget: int, line: Callable[[Due], str]) -> list[str]:
    """The late villages under a sub-heading per thing they lack (in ``LATE_RULES`` order, oldest first
    within), as many as fit in ``budget`` characters, then "… and N more" for the rest of ``total``."""
    order = {r: i for i, r in enumerate(LATE_RULES)}
    rows = sorted(late, key=lambda d: (order.get(d.rule, len(order)), d.since, d.village_code))
    tail = len(t("digest.more_late", n=total)) + 1
    out: list[str] = []
    used = shown = 0
    rule = None
    for due in rows:
        block = ([t(f"digest.late_group.{due.rule}")] if due.rule != rule else []) + [line(due)]
        size = sum(len(x) + 1 for x in block)
        if used + size + tail > budget:
            break
        out += block
        used, shown, rule = used + size, shown + 1, due.rule
    if total > shown:
        out.append(t("digest.more_late", n=total - shown))
    return out


def eligible_dates(days: Sequence[tuple[date, int]]) -> str:
    return ", ".join(t("digest.breakdown_date", n=n, date=fmt_date(d)) for d, n in days)
