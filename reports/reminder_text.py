"""The text of reminders (to village heads) and escalations (to commune staff), from the catalog."""

from __future__ import annotations

from datetime import date

from models.reminders.rules import Due
from models.reminders.sweep import Notice, Render
from texts.catalog import t
from texts.fmt import fmt_date as vn_date


def _fill(due: Due, today: date) -> dict[str, object]:
    days = (due.on - today).days if due.on else 0
    late_days = max((today - due.since).days, 0)
    return {"village": due.village_name, "code": due.village_code, "since": vn_date(due.since),
            "on": vn_date(due.on), "days": days if due.rule == "congress_soon" else late_days}


def render_notice(notice: Notice, today: date) -> str:
    """One reminder, or one escalation listing a commune's late villages."""
    due = notice.due
    if notice.kind == "reminder":
        text = t(f"remind.{due.rule}", **_fill(due, today))
        if notice.count > 1:
            text += " " + t("remind.repeat", count=notice.count)
        return text
    villages = notice.villages or (notice,)
    lines = [t("escalate.title", unit=notice.unit, n=len(villages))]
    for v in villages:
        fill = _fill(v.due, today)
        told = (t("escalate.reminded", count=v.count, first=vn_date(v.first)) if v.count
                else t("escalate.unreachable"))
        lines.append(t("escalate.line", village=v.due.village_name, code=v.due.village_code,
                       what=t(f"escalate.{v.due.rule}", **fill), told=told))
    lines.append(t("escalate.ask"))
    return "\n".join(lines)


def renderer(today: date) -> Render:
    """A ``Render`` callback for :func:`models.reminders.sweep.sweep`."""
    return lambda notice: render_notice(notice, today)
