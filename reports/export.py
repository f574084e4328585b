"""The export file (DESIGN §4): CSV with the English column names, XLSX with Vietnamese headers.

The CSV's times are in the province's local time with their offset (``+07:00``); ``labels="vi"`` gives it
the XLSX's Vietnamese headers and words for the codes. The CSV starts with a UTF-8 BOM (Excel on Windows
reads it as UTF-8 then, not as the local code page).
The XLSX has real dates (formatted day first), times in the province's local time, a filter row on the
header, a frozen header and column widths.
A text that looks like a formula is written as text (``reports.cells``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime
from typing import IO

from sqlalchemy.ext.asyncio import AsyncSession

from models.progress.status import EXPORT_COLUMNS, export_rows
from reports.cells import csv_cell
from reports.xlsx_stream import DATE, DATETIME, PLAIN, XlsxWriter
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


LABELS = ("en", "vi")  # the CSV's header and codes: the English column names and codes, or Vietnamese words


def csv_value(col: str, value: str, labels: str) -> object:
    """A CSV cell: times in the province's local time (``2026-12-07T09:30:00+07:00``), codes in words
    with ``labels="vi"``; a formula-looking text with its apostrophe."""
    if value and col in DATETIME_COLUMNS:
        value = local(datetime.fromisoformat(value)).isoformat(timespec="seconds")
    elif value and labels == "vi" and (col in WORDS or col in WORDED):
        return csv_cell(_value(col, value))
    return csv_cell(value)


async def write_csv(session: AsyncSession, out: IO[str], period: str, today: date, scope_id: int | None = None,
                    deadline: date | None = None, labels: str = "en") -> int:
    """The CSV, streamed into ``out`` (a text file opened with ``encoding="utf-8-sig", newline=""``);
    returns the number of villages. ``labels="vi"``: Vietnamese headers and statuses (the XLSX's words);
    dates stay ISO either way."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([t(f"export.{c}") for c in EXPORT_COLUMNS] if labels == "vi" else EXPORT_COLUMNS)
    n = 0
    async for row in export_rows(session, period, today, scope_id, deadline):
        writer.writerow([csv_value(key, row[key], labels) for key in EXPORT_COLUMNS])
        n += 1
    return n


async def export_csv(session: AsyncSession, period: str, today: date, scope_id: int | None = None,
                     deadline: date | None = None, labels: str = "en") -> bytes:
    buf = io.StringIO(newline="")
    buf.write("\ufeff")  # the BOM
    await write_csv(session, buf, period, today, scope_id, deadline, labels)
    return buf.getvalue().encode("utf-8")


def _value(col: str, value: str) -> object:
    """A cell value: numbers as numbers, dates as dates, times local, codes in words."""
    if not value:
        return None
    if col in INT_COLUMNS:
        return int(value)
    if col in DATE_COLUMNS:
        return date.fromisoformat(value)
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


WORDS = {"status", "head_party_status", "merged", "secretary_method", "not_merged_reason"}  # looked up once per code


def xlsx_row(row: dict[str, str], words: dict[tuple[str, str], object]) -> list[object]:
    """One export row as the XLSX's cell values (``words``: the codes already put in words)."""
    out: list[object] = []
    for col in EXPORT_COLUMNS:
        value = row[col]
        if not value:
            out.append(None)
        elif col in WORDS:
            key = (col, value)
            if key not in words:
                words[key] = _value(col, value)
            out.append(words[key])
        elif col in CONVERTED:
            out.append(_value(col, value))
        else:
            out.append(value)
    return out


CONVERTED = INT_COLUMNS | DATE_COLUMNS | DATETIME_COLUMNS | set(WORDED)


def xlsx_writer(out: str | IO[bytes]) -> XlsxWriter:
    """The export's sheet, header written: Vietnamese headers, widths, date formats."""
    formats = [DATE if c in DATE_COLUMNS else DATETIME if c in DATETIME_COLUMNS else PLAIN for c in EXPORT_COLUMNS]
    writer = XlsxWriter(out, t("export.sheet"), [WIDTHS.get(c, 14) for c in EXPORT_COLUMNS], formats,
                        DATE_FORMAT, DATETIME_FORMAT)
    writer.append([t(f"export.{c}") for c in EXPORT_COLUMNS])
    return writer


async def write_xlsx(session: AsyncSession, out: str | IO[bytes], period: str, today: date,
                     scope_id: int | None = None, deadline: date | None = None) -> int:
    """Same columns as the CSV, Vietnamese headers, numbers as numbers, dates as dates, status and party
    status in words; a filter on the header row. Streamed into ``out`` (a path or a binary file) as the
    rows arrive; returns the number of villages."""
    writer = xlsx_writer(out)
    words: dict[tuple[str, str], object] = {}
    try:
        async for row in export_rows(session, period, today, scope_id, deadline):
            writer.append(xlsx_row(row, words))
    finally:
        writer.close()
    return writer.rows - 1


async def export_xlsx(session: AsyncSession, period: str, today: date, scope_id: int | None = None,
                      deadline: date | None = None) -> bytes:
    """:func:`write_xlsx` into memory (a small scope; a large one is written to a file)."""
    buf = io.BytesIO()
    await write_xlsx(session, buf, period, today, scope_id, deadline)
    return buf.getvalue()
