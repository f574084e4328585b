"""The briefing pack as an XLSX sheet: one row per village — reported, attendance, every field."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from models.giaoban.pack import Pack
from models.giaoban.reports import WHOLE
from models.giaoban.tables import FIELDS, GiaobanAttendance
from texts.catalog import t

COLUMNS = ("village", "reported", "attending", "reason", *FIELDS, WHOLE)


def pack_xlsx(pack: Pack) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(t("gb.pack.sheet"))
    for i, width in enumerate((24, 10, 10, 24, *([40] * (len(FIELDS) + 1))), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "B2"
    ws.append([t("gb.pack.col_village"), t("gb.pack.col_reported"), t("gb.pack.col_attending"),
               t("gb.pack.col_reason"), *(t(f"gb.field.{k}") for k in (*FIELDS, WHOLE))])
    yes, no = t("gb.pack.yes"), t("gb.pack.no")
    for line in pack.lines:
        att = line.attendance
        ws.append([line.village.full_name or line.village.name, yes if line.report else no,
                   "" if att is None else (yes if att.attending else no), _note(att),
                   *(line.answer(k) for k in (*FIELDS, WHOLE))])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _note(att: GiaobanAttendance | None) -> str:
    """The reason for an absence, or who attends in the secretary's place."""
    if att is None:
        return ""
    return t("gb.deputy.web", deputy=att.deputy) if att.deputy else att.reason or ""
