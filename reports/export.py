"""The export file (DESIGN §4): CSV with the English column names, XLSX with Vietnamese headers."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlalchemy.ext.asyncio import AsyncSession

from models.progress import EXPORT_COLUMNS, export_rows
from texts.catalog import t

INT_COLUMNS = {"votes_for", "valid_ballots", "roll", "attendees"}


async def export_csv(session: AsyncSession, period: str, today: date, scope_id: int | None = None) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    async for row in export_rows(session, period, today, scope_id):
        writer.writerow(row)
    return buf.getvalue().encode("utf-8")


async def export_xlsx(session: AsyncSession, period: str, today: date, scope_id: int | None = None) -> bytes:
    """Same columns, Vietnamese headers, numbers as numbers, status and party status in words."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(t("export.sheet"))
    widths = [12, 10, 10, 26, 12, 22, 40, 12, 24, 26, 10, 10, 10, 14, 14, 24, 10, 20, 10, 18, 14, 14, 24, 14]
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = "A2"
    ws.append([t(f"export.{c}") for c in EXPORT_COLUMNS])
    async for row in export_rows(session, period, today, scope_id):
        out: list[object] = []
        for col in EXPORT_COLUMNS:
            value = row[col]
            if col in INT_COLUMNS and value:
                out.append(int(value))
            elif col == "status":
                out.append(t(f"status.{value}"))
            elif col == "head_party_status" and value:
                out.append(t(f"party.{value}"))
            elif col == "merged" and value:
                out.append(t(f"export.{value}"))
            else:
                out.append(value)
        ws.append(out)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
