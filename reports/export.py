"""The export file (DESIGN §4): CSV with the English column names, XLSX with Vietnamese headers.

The CSV starts with a UTF-8 BOM (Excel on Windows reads it as UTF-8 then, not as the local code page).
The XLSX has real dates (formatted day first), times in the province's local time, a filter row on the
header, a frozen header and column widths.
A text that looks like a formula is written as text (``reports.cells``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime, time

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy.ext.asyncio import AsyncSession

from models.progress import EXPORT_COLUMNS, export_rows
from reports.cells import csv_cell, xlsx_cell
from texts.catalog import has, t
from texts.fmt import local

INT_COLUMNS = {"votes_for", "valid_ballots", "roll", "attendees"}
DATE_COLUMNS = {"election_date", "congress_planned_date", "congress_held_date", "party_date", "eligible_from",
                "admission_planned_date", "recognition_date", "term_end"}
DATETIME_COLUMNS = {"updated_at"}
WIDTHS = {"province_code": 10, "district_code": 10, "commune_code": 10, "commune_name": 26, "village_code": 12,
          "village_name": 22, "status": 40, "election_date": 12, "head_name": 24, "head_party_status": 26,
          "votes_for": 10, "valid_ballots": 10, "roll": 10, "congress_planned_date": 14,
          "congress_held_date": 14, "secretary_name": 24, "merged": 10, "updated_at": 17,
          "secretary_method": 24, "secretary_approval": 24, "not_merged_reason": 30,
          "recognition_decision": 18, "interim_head": 24, "head_phone": 14}
DATE_FORMAT, DATETIME_FORMAT = "DD/MM/YYYY", "DD/MM/YYYY HH:MM"
WORDED: dict[str, Callable[[str], str]] = {  # the merger columns in words (issue 11)
    "secretary_method": lambda v: t(f"merger.method.{v}"),
    "secretary_approval": lambda v: t("export.approval_pending") if v == "pending" else v,
    "not_merged_reason": lambda v: t(f"congress.reason.{v}") if has(f"congress.reason.{v}") else v,
}


async def export_csv(session: AsyncSession, period: str, today: date, scope_id: int | None = None,
                     deadline: date | None = None) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    async for row in export_rows(session, period, today, scope_id, deadline):
        writer.writerow({key: csv_cell(value) for key, value in row.items()})
    return buf.getvalue().encode("utf-8-sig")


def _value(col: str, value: str) -> object:
    """A cell value: numbers as numbers, dates as dates, times local, codes in words."""
    if not value:
        return value
    if col in INT_COLUMNS:
        return int(value)
    if col in DATE_COLUMNS:  # a datetime at midnight: what Excel stores for a date
        return datetime.combine(date.fromisoformat(value), time())
    if col in DATETIME_COLUMNS:
        return local(datetime.fromisoformat(value)).replace(tzinfo=None)  # Excel has no zones
    if col == "status":
        return t(f"status.{value}")
    if col == "head_party_status":
        return t(f"party.{value}")
    if col == "merged":
        return t(f"export.{value}")
    if col in WORDED:
        return WORDED[col](value)
    return value


def _cell(ws: WriteOnlyWorksheet, col: str, value: str) -> object:
    out = _value(col, value)
    if isinstance(out, datetime):
        cell = WriteOnlyCell(ws, value=out)
        cell.number_format = DATE_FORMAT if col in DATE_COLUMNS else DATETIME_FORMAT
        return cell
    return xlsx_cell(ws, out)  # a name like "=HYPERLINK(...)" stays text


async def export_xlsx(session: AsyncSession, period: str, today: date, scope_id: int | None = None,
                      deadline: date | None = None) -> bytes:
    """Same columns, Vietnamese headers, numbers as numbers, dates as dates, status and party status in
    words; a filter on the header row."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(t("export.sheet"))
    for i, name in enumerate(EXPORT_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = WIDTHS.get(name, 14)
    ws.freeze_panes = "A2"
    ws.append([t(f"export.{c}") for c in EXPORT_COLUMNS])
    rows = 1
    async for row in export_rows(session, period, today, scope_id, deadline):
        ws.append([_cell(ws, col, row[col]) for col in EXPORT_COLUMNS])
        rows += 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(EXPORT_COLUMNS))}{rows}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
