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
from datetime import date, datetime
from typing import IO

from sqlalchemy.ext.asyncio import AsyncSession

from models.progress import export as export_columns
from models.progress.export import PHONE_COLUMNS, ExportColumn, export_rows
from reports.cells import csv_cell
from reports.xlsx_stream import DATE, DATETIME, PLAIN, XlsxWriter
from texts.catalog import has, t
from texts.fmt import local

DATE_FORMAT, DATETIME_FORMAT = "DD/MM/YYYY", "DD/MM/YYYY HH:MM"
FORMATS = {"date": DATE, "datetime": DATETIME}


def columns(with_phones: bool = False) -> tuple[ExportColumn, ...]:
    """The export's columns: phone numbers only when asked for (personal data, Nghị định 13/2023)."""
    every = export_columns.COLUMNS  # (read when called: the one list, whatever it holds now)
    return every if with_phones else tuple(c for c in every if c.name not in PHONE_COLUMNS)


LABELS = ("en", "vi")  # the CSV's header and codes: the English column names and codes, or Vietnamese words


def csv_value(column: ExportColumn, value: str, labels: str) -> object:
    """A CSV cell: times in the province's local time (``2026-12-07T09:30:00+07:00``), codes in words
    with ``labels="vi"``; a formula-looking text with its apostrophe."""
    if value and column.kind == "datetime":
        value = local(datetime.fromisoformat(value)).isoformat(timespec="seconds")
    elif value and labels == "vi" and column.words is not None:
        return csv_cell(_value(column, value))
    return csv_cell(value)


async def write_csv(session: AsyncSession, out: IO[str], period: str, today: date, scope_id: int | None = None,
                    deadline: date | None = None, labels: str = "en", with_phones: bool = False) -> int:
    """The CSV, streamed into ``out`` (a text file opened with ``encoding="utf-8-sig", newline=""``);
    returns the number of villages. ``labels="vi"``: Vietnamese headers and statuses (the XLSX's words);
    dates stay ISO either way."""
    writer = csv.writer(out, lineterminator="\n")
    cols = columns(with_phones)
    writer.writerow([t(c.header_key) for c in cols] if labels == "vi" else [c.name for c in cols])
    n = 0
    async for row in export_rows(session, period, today, scope_id, deadline):
        writer.writerow([csv_value(c, row[c.name], labels) for c in cols])
        n += 1
    return n


async def export_csv(session: AsyncSession, period: str, today: date, scope_id: int | None = None,
                     deadline: date | None = None, labels: str = "en", with_phones: bool = False) -> bytes:
    buf = io.StringIO(newline="")
    buf.write("\ufeff")  # the BOM
    await write_csv(session, buf, period, today, scope_id, deadline, labels, with_phones)
    return buf.getvalue().encode("utf-8")


def _value(column: ExportColumn, value: str) -> object:
    """A cell value: numbers as numbers, dates as dates, times local, codes in words."""
    if column.kind == "int":
        return int(value)
    if column.kind == "date":
        return date.fromisoformat(value)
    if column.kind == "datetime":
        return local(datetime.fromisoformat(value)).replace(tzinfo=None)  # Excel has no zones
    if column.words is not None:
        key = f"{column.words}.{value}"
        return t(key) if has(key) else value
    return value


def xlsx_row(row: dict[str, str], words: dict[tuple[str, str], object],
             cols: tuple[ExportColumn, ...] | None = None) -> list[object]:
    """One export row as the XLSX's cell values (``words``: the cells already converted, by column and
    value: a code is put in words once; ``cols``: without the phones unless given)."""
    out: list[object] = []
    for column in cols or columns():
        value = row[column.name]
        if not value:
            out.append(None)
        elif column.kind == "text" and column.words is None:
            out.append(value)
        else:
            key = (column.name, value)
            if key not in words:
                words[key] = _value(column, value)
            out.append(words[key])
    return out


def xlsx_writer(out: str | IO[bytes], cols: tuple[ExportColumn, ...] | None = None) -> XlsxWriter:
    """The export's sheet, header written: Vietnamese headers, widths, date formats."""
    cols = cols or columns()
    formats = [FORMATS.get(c.kind, PLAIN) for c in cols]
    writer = XlsxWriter(out, t("export.sheet"), [c.width for c in cols], formats, DATE_FORMAT, DATETIME_FORMAT)
    writer.append([t(c.header_key) for c in cols])
    return writer


async def write_xlsx(session: AsyncSession, out: str | IO[bytes], period: str, today: date,
                     scope_id: int | None = None, deadline: date | None = None, with_phones: bool = False) -> int:
    """Same columns as the CSV, Vietnamese headers, numbers as numbers, dates as dates, status and party
    status in words; a filter on the header row. Streamed into ``out`` (a path or a binary file) as the
    rows arrive; returns the number of villages."""
    cols = columns(with_phones)
    writer = xlsx_writer(out, cols)
    words: dict[tuple[str, str], object] = {}
    try:
        async for row in export_rows(session, period, today, scope_id, deadline):
            writer.append(xlsx_row(row, words, cols))
    finally:
        writer.close()
    return writer.rows - 1


async def export_xlsx(session: AsyncSession, period: str, today: date, scope_id: int | None = None,
                      deadline: date | None = None) -> bytes:
    """:func:`write_xlsx` into memory (a small scope; a large one is written to a file)."""
    buf = io.BytesIO()
    await write_xlsx(session, buf, period, today, scope_id, deadline)
    return buf.getvalue()
