"""The export file (DESIGN §4): CSV with the English column names, XLSX with Vietnamese headers."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlalchemy.ext.asyncio import AsyncSession

from models.progress import EXPORT_COLUMNS, export_rows
from texts.catalog import has, t

INT_COLUMNS = {"votes_for", "valid_ballots", "roll"}
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
        writer.writerow(row)
    return buf.getvalue().encode("utf-8")


async def export_xlsx(session: AsyncSession, period: str, today: date, scope_id: int | None = None,
                      deadline: date | None = None) -> bytes:
    """Same columns, Vietnamese headers, numbers as numbers, status and party status in words."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(t("export.sheet"))
    widths = [12, 10, 10, 26, 12, 22, 40, 12, 24, 26, 10, 10, 10, 14, 14, 24, 10, 20, 14, 14, 14, 24, 24, 30]
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = "A2"
    ws.append([t(f"export.{c}") for c in EXPORT_COLUMNS])
    async for row in export_rows(session, period, today, scope_id, deadline):
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
            elif col in WORDED and value:
                out.append(WORDED[col](value))
            else:
                out.append(value)
        ws.append(out)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
