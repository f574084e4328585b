"""How the change log of a village reads: every audit event's action, field and values in words, as a
clerk would write them — never a code such as ``election.new``, ``meeting:12`` or ``yes → no``."""

from __future__ import annotations

import re
from collections.abc import Callable

from texts.catalog import has, t

_MEETING_FIELD = re.compile(r"^\d+:(\w+)$")  # a giao ban report's field: "<meeting id>:<field>"


def action_label(action: str) -> str:
    """``election.create`` → "Báo kết quả bầu trưởng thôn"; an action without a label of its own is named
    by what it changed (its first word), else plainly "a change"."""
    for key in (f"web.audit.action.{action}", f"web.audit.action_kind.{action.split('.', 1)[0]}"):
        if has(key):
            return t(key)
    return t("web.audit.action_other")


def event_field(field: str | None, label: Callable[[str | None], str]) -> str:
    """The field an event changed: a report's field by ``label``; the giao ban's own in words."""
    if field is None:
        return ""
    kind = field.split(":", 1)[0]
    if ":" in field and has(f"web.audit.field_kind.{kind}"):  # "meeting:12", "directive:5"
        return t(f"web.audit.field_kind.{kind}")
    found = _MEETING_FIELD.match(field)
    if found and has(f"gb.field.{found[1]}"):
        return t("web.audit.field_kind.report", field=t(f"gb.field.{found[1]}"))
    return label(field)


def event_value(field: str | None, value: str | None, show: Callable[[str | None, object], str]) -> str:
    """An old or new value: yes/no, an acknowledgement, an attendance answer in words; else as ``show``
    shows a report's value."""
    if value in ("yes", "no", "ack"):
        return t(f"web.audit.value.{value}")
    if value is not None and value.startswith("no: "):  # an attendance answer with its reason
        return t("web.audit.value.absent", reason=value[4:].strip() or t("web.village.empty"))
    return show(field, value)
