"""The text of reminders (to village heads) and escalations (to commune staff), from the catalog."""

from __future__ import annotations

from datetime import date

from models.reminders.sweep import Notice, Render
from texts.catalog import t
from texts.fmt import fmt_date as vn_date


def render_notice(notice: Notice, today: date) -> str:
    """One reminder or escalation message."""
    due = notice.due
    days = (due.on - today).days if due.on else 0
    late_days = max((today - due.since).days, 0)
    fill = {"village": due.village_name, "code": due.village_code, "since": vn_date(due.since),
            "on": vn_date(due.on), "days": days if due.rule == "congress_soon" else late_days}
    if notice.kind == "reminder":
        text = t(f"remind.{due.rule}", **fill)
        if notice.count > 1:
            text += " " + t("remind.repeat", count=notice.count)
        return text
    lines = [t("escalate.title", **fill), t(f"escalate.{due.rule}", **fill)]
    if notice.count:
        lines.append(t("escalate.reminded", count=notice.count, first=vn_date(notice.first)))
    else:
        lines.append(t("escalate.unreachable"))
    lines.append(t("escalate.ask"))
    return "\n".join(lines)


def renderer(today: date) -> Render:
    """A ``Render`` callback for :func:`models.reminders.sweep.sweep`."""
    return lambda notice: render_notice(notice, today)
