"""The briefing pack as an XLSX: the meeting's date and place at the top of each sheet, a sheet of the
villages (reported, attendance, every field, wrapped), a sheet of the conclusions and tasks (per village:
acknowledged, done, the note); bold headers with a filter, frozen, repeated on each printed A4 page.

Written by the one spreadsheet writer (``reports.xlsx_stream``), whose cells go through
``reports.cells``: a head's ``=HYPERLINK(…)`` stays text."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from models.giaoban.pack import Pack
from models.giaoban.reports import WHOLE
from models.giaoban.tables import FIELDS, GiaobanAttendance, GiaobanConclusion, GiaobanDirective
from models.units.tables import Unit
from reports.xlsx_stream import DATE, DATETIME, HEADER, PLAIN, TITLE, WRAP, XlsxWriter
from texts.catalog import t
from texts.fmt import fmt_time_date

COLUMNS = ("village", "reported", "attending", "reason", *FIELDS, WHOLE)
Conclusions = Sequence[tuple[GiaobanConclusion, Sequence[tuple[GiaobanDirective, Unit]]]]
TITLE_ROWS = 4  # title, date and place, summary, a blank line; the header is the next row


def _local(when: datetime | None, tz: ZoneInfo) -> datetime | None:
    return when.astimezone(tz).replace(tzinfo=None) if when else None  # a spreadsheet has no zones


def _titles(w: XlsxWriter, pack: Pack, tz: ZoneInfo, summary: str) -> None:
    m, commune = pack.view.meeting, pack.view.commune
    w.append([t("gb.pack.title", commune=commune.full_name or commune.name)], style=TITLE)
    w.append([t("gb.xlsx.when", when=fmt_time_date(m.starts_at, tz), place=m.place or "—")])
    w.append([summary])
    w.append([])


def _note(att: GiaobanAttendance | None) -> str:
    """The attendance's note: who attends in the secretary's place, or why nobody does."""
    if att is None:
        return ""
    return t("gb.deputy.web", deputy=att.deputy) if att.deputy else att.reason or ""


def pack_xlsx(pack: Pack, conclusions: Conclusions, tz: ZoneInfo) -> bytes:
    buf = io.BytesIO()
    header = TITLE_ROWS + 1
    w = XlsxWriter(buf, t("gb.pack.sheet"), (22, 10, 10, 22, *([36] * (len(FIELDS) + 1))),
                   (WRAP, PLAIN, PLAIN, WRAP, *([WRAP] * (len(FIELDS) + 1))), header_row=header, landscape=True)
    _titles(w, pack, tz, t("gb.pack.reported", n=len(pack.reported), total=len(pack.lines)))
    w.append([t("gb.pack.col_village"), t("gb.pack.col_reported"), t("gb.pack.col_attending"),
              t("gb.pack.col_reason"), *(t(f"gb.field.{k}") for k in (*FIELDS, WHOLE))], style=HEADER)
    yes, no = t("gb.pack.yes"), t("gb.pack.no")
    for line in pack.lines:
        att = line.attendance
        w.append([line.village.full_name or line.village.name, yes if line.report else no,
                  "" if att is None else (yes if att.attending else no), _note(att),
                  *(line.answer(k) for k in (*FIELDS, WHOLE))])
    w.add_sheet(t("gb.xlsx.sheet_conclusions"), (6, 48, 12, 12, 22, 17, 17, 36),
                (PLAIN, WRAP, PLAIN, DATE, WRAP, DATETIME, DATETIME, WRAP), header_row=header, landscape=True)
    _titles(w, pack, tz, t("gb.xlsx.conclusions_count", n=len(conclusions)))
    w.append([t(f"gb.xlsx.col_{c}") for c in ("no", "text", "kind", "due", "village", "ack", "done", "note")],
             style=HEADER)
    for i, (c, directives) in enumerate(conclusions, 1):
        kind = t("gb.xlsx.task") if c.is_task else t("gb.xlsx.conclusion")
        for d, village in directives:
            w.append([i, c.text, kind, c.due_date, village.full_name or village.name, _local(d.acknowledged_at, tz),
                      _local(d.done_at, tz), d.done_note or ""])
    w.close()
    return buf.getvalue()
