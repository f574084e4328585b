"""The merger side of a digest: the article's breakdown in one paragraph, and the late villages
grouped by what they lack."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from models.progress.digest import MEMBER_BUCKETS, DigestFigures
from models.reminders.rules import LATE_RULES, Due
from texts.catalog import t
from texts.fmt import fmt_date, num, pct

MAX_DATES = 3  # eligibility dates named in the paragraph; the rest are "…"


def breakdown(f: DigestFigures) -> str:
    """The article's sentence in today's figures, to forward upward as it is: elected X/Y; of them the
    full members — merged, chosen but waiting for a decision, another secretary, congress planned,
    overdue, not yet planned (each full-member head in exactly one); the probationary heads with the
    dates they become eligible ("merge next year" where that date is in the next year); the non-members
    with an admission planned. Numbers with the thousands dot; no commands."""
    m = {k: f.members.get(k, 0) for k in MEMBER_BUCKETS}
    party = {k: f.by_party.get(k, 0) for k in ("member", "probationary", "non_member")}
    dates = [t("digest.breakdown_next_year" if d.year > f.today.year else "digest.breakdown_date",
               n=num(n), date=fmt_date(d)) for d, n in f.eligible[:MAX_DATES]]
    if len(f.eligible) > MAX_DATES:
        dates.append("…")
    pending = m["merger_pending"]
    detail = t("digest.breakdown_pending", no_recognition=num(f.merger_no_recognition),
               no_approval=num(pending - f.merger_no_recognition)) if pending else ""
    return t("digest.breakdown", date=fmt_date(f.today), unit=f.unit_name, elected=num(f.elected),
             villages=num(f.villages), pct=pct(f.elected, f.villages), member=num(party["member"]),
             merged=num(m["merged"]), pending=num(pending), pending_detail=detail, not_merged=num(m["not_merged"]),
             planned=num(m["congress_planned"]), overdue=num(m["congress_overdue"]),
             waiting=num(m["elected_member"]), probationary=num(party["probationary"]),
             eligible=t("digest.breakdown_eligible", dates=", ".join(dates)) if dates else "",
             non_member=num(party["non_member"]),
             admission=t("digest.breakdown_admission", n=num(f.admission_planned)) if f.admission_planned else "")


def missing_text(missing: Sequence[str]) -> str:
    """The decisions a ``merger_pending`` village waits for, in words, joined with "và"."""
    return " và ".join(t(f"merger.missing.{m}") for m in missing)


def missing_short(missing: Sequence[str]) -> str:
    """The same in two words, for a list: "chờ công nhận, chuẩn y"."""
    return t("merger.missing.short", missing=", ".join(t(f"merger.missing_short.{m}") for m in missing))


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
