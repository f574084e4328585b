"""The late villages grouped by commune (each commune named once), each with its code (what a staff
command names it by), what is late and the number of days once — for ``/chamtre`` and the web page of
late villages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from models.reminders.rules import Due
from reports.digest_text import TELEGRAM_LIMIT
from texts.catalog import has, t
from texts.fmt import fmt_date


def late_what(due: Due) -> str:
    """What is late, without the day count (shown beside it)."""
    key = f"late.what.{due.rule}"
    return t(key, since=fmt_date(due_date(due))) if has(key) else due.rule


def due_date(due: Due) -> date:
    """The date a late village missed, as a clerk names it: the deadline itself (a deadline of 30/06 is
    "hạn 30/06"; the village is late from 01/07, ``Due.since``), the planned date, the election day."""
    return due.on or due.since


def days_late(due: Due, today: date) -> int:
    return max((today - due.since).days, 0)


def by_commune(late: Sequence[Due], parents: dict[int, str]) -> list[tuple[str, list[Due]]]:
    """``late`` (oldest first) grouped by commune, the communes in the order of their oldest village."""
    groups: dict[str, list[Due]] = {}
    for due in late:
        groups.setdefault(parents.get(due.village_id, ""), []).append(due)
    return list(groups.items())


def render_late_grouped(unit_name: str, late: Sequence[Due], total: int, today: date, parents: dict[int, str],
                        limit: int = TELEGRAM_LIMIT) -> str:
    """The reply to ``/chamtre``: the late villages, oldest first, under their commune's name (given once;
    not at all when they are all in one commune); cut with "… and N more" to fit one message."""
    if not total:
        return t("staffcmd.late_none", unit=unit_name)
    groups = by_commune(late, parents)
    items: list[tuple[str, bool]] = []  # (line, is a village)
    for commune, dues in groups:
        if len(groups) > 1 and commune:
            items.append((t("late.group", commune=commune), False))
        items += [(t("late.line", village=d.village_name, code=d.village_code, what=late_what(d),
                     days=days_late(d, today)), True) for d in dues]
    lines, shown = [t("staffcmd.late_head", unit=unit_name, n=total)], 0
    size = len(lines[0])
    reserve = len(t("staffcmd.late_more", n=total)) + 1
    for text, village in items:
        if size + 1 + len(text) + reserve > limit:
            break
        lines.append(text)
        size += 1 + len(text)
        shown += village
    if len(lines) > 1 and not lines[-1].startswith("–") and shown < total:
        lines.pop()  # a commune's name with none of its villages under it
    if total > shown:
        lines.append(t("staffcmd.late_more", n=total - shown))
    return "\n".join(lines)
