"""The text of a briefing digest and of the late-village list, from the catalog.

The whole digest fits one Telegram message (4,096 characters): the summary always, then as many
unit lines (worst first) and late villages (oldest first) as fit, with "… and N more".
Zalo splits the text at 2,000 characters itself, on line boundaries.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from models.progress.digest import TRACKED, DigestFigures
from models.progress.tallies import UnitProgress
from models.reminders.rules import Due
from reports.merger_text import breakdown, late_grouped
from texts.catalog import t
from texts.fmt import fmt_date as vn_date
from texts.fmt import num, pct

TELEGRAM_LIMIT = 4096
COMMUNE_LIMIT = 1200  # a commune's digest: one phone screen (the full list: /chamtre or the file)
LATE_SHARE = 0.4  # of the room left after the summary, at most this much for late villages


def late_reason(due: Due, today: date) -> str:
    return t(f"digest.late.{due.rule}", since=vn_date(due.on or due.since), days=max((today - due.since).days, 0))


def late_line(due: Due, today: date, parent: str | None) -> str:
    return t("digest.late_line", village=due.village_name, parent=f" ({parent})" if parent else "",
             reason=late_reason(due, today))


def _fit(lines: Iterable[str], budget: int, more_key: str, total: int) -> list[str]:
    """As many of ``lines`` as fit in ``budget`` characters, then "… and N more" when some of the
    ``total`` are not shown. ``lines`` is read only as far as it fits (the rest is never built)."""
    out: list[str] = []
    used = 0
    tail = len(t(more_key, n=total)) + 1  # room kept for "… and N more" (N ≤ total)
    for line in lines:
        if used + len(line) + 1 + tail > budget:
            break
        out.append(line)
        used += len(line) + 1
    if total > len(out):
        out.append(t(more_key, n=total - len(out)))
    return out


def _child_line(i: int, p: UnitProgress) -> str:
    elected, merged, overdue = p.elected, p.merged, p.overdue
    line = t("digest.child_line", i=i, name=p.name or p.code, elected=elected, villages=p.villages,
             elected_pct=pct(elected, p.villages), merged=merged, merged_pct=pct(merged, p.villages))
    return line + t("digest.child_overdue", n=overdue) if overdue else line


def change_lines(changes: dict[str, int] | None, previous: date | None) -> list[str]:
    """What changed since the previous digest, in words (the digest's message and its page)."""
    if changes is None or previous is None:
        return [t("digest.changes_first")]
    if not changes:
        return [t("digest.changes_none", date=vn_date(previous))]
    parts = [f"{d:+d} {t(f'digest.change.{k}')}" for k in TRACKED if (d := changes.get(k))]
    return [t("digest.changes_head", date=vn_date(previous)), "  " + "; ".join(parts)]


def render_digest(f: DigestFigures, changes: dict[str, int] | None = None, previous: date | None = None,
                  week: str | None = None, limit: int = TELEGRAM_LIMIT, with_changes: bool = True) -> str:
    """The digest for one reader; ``changes``/``previous`` from their previous snapshot."""
    title = t("digest.title_weekly", week=week, unit=f.unit_name) if week else t("digest.title", unit=f.unit_name)
    if not f.villages:
        return "\n".join([title, t("digest.as_of", date=vn_date(f.today)), "",
                          t("digest.no_villages", unit=f.unit_name)])
    compact = f.level == "commune"
    limit = min(limit, COMMUNE_LIMIT) if compact else limit
    # the first paragraph is the sentence to forward upward as it is (it says the date itself)
    head = [title, "", breakdown(f), "",
            t("digest.merged", n=num(f.merged), total=num(f.villages), pct=pct(f.merged, f.villages)),
            t("digest.late_count", n=num(f.late_total))]
    if f.revote or f.pending_recognition or f.terms_ending:
        head.append(t("digest.record", revote=f.revote, pending=f.pending_recognition, ending=f.terms_ending))
    if with_changes:
        head += ["", *change_lines(changes, previous)]
    text = "\n".join(head)
    room = limit - len(text) - 4
    late: list[str] = []
    if f.late:
        budget = int(room * LATE_SHARE) if len(f.children) > 1 and not compact else room
        late_head = t("digest.late_head", n=f.late_total)
        late = [late_head, *late_grouped(f.late, f.late_total, budget - len(late_head) - 3, lambda d: late_line(
                    d, f.today, None if compact else f.late_parent.get(d.village_id)))]
        room -= sum(len(x) + 1 for x in late) + 1
    units: list[str] = []
    if len(f.children) > 1 and not compact:
        rows = (_child_line(i, p) for i, p in enumerate(f.children, start=1))
        units = [t("digest.children_head"), *_fit(rows, room - len(t("digest.children_head")) - 1,
                                                  "digest.more_units", len(f.children))]
    for block in (units, late):
        if block:
            text += "\n\n" + "\n".join(block)
    return text[:limit]

