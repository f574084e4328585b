"""Cells that a spreadsheet would take for a formula, written as text — for every file the bot makes.

A unit or person name, a head's report or a conclusion typed by a user (or imported) may begin with
``=``, ``+``, ``-``, ``@`` (or a tab or carriage return, or their full-width forms): Excel and
LibreOffice would run it as a formula when the file is opened (CSV injection; a head's
``=HYPERLINK(…)`` would become a live link). In the CSV such a cell gets a leading apostrophe, which
spreadsheets hide and read as "this is text"; in the XLSX it is a text cell with the quote prefix set,
so the value itself is unchanged.

A phone number (``+84 912 345 678``) begins with ``+`` but holds nothing a formula could do — digits,
spaces, dots and dashes only — so it keeps its plain form, without the apostrophe.

:func:`xlsx_cell_xml` is the one place an XLSX cell is written (``reports.xlsx_stream.XlsxWriter`` uses
it for the export, the briefing pack and every other sheet): a text is always an inline string (never a
formula), with the quote prefix when it looks like one.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from xml.sax.saxutils import escape

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
PHONE_LIKE = re.compile(r"[+\-]?\d[\d .\-]*")  # a number or a phone number: no function, no reference
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML 1.0
EPOCH = datetime(1899, 12, 30)
# the cell styles of the writer's stylesheet (cellXfs order, reports/xlsx_stream.py)
PLAIN, DATE, DATETIME, QUOTED, HEADER, WRAP, TITLE, QUOTED_WRAP = range(8)


def looks_like_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START) and not PHONE_LIKE.fullmatch(value)


def csv_cell(value: object) -> object:
    """The value for a CSV cell: a formula-looking text gets a leading apostrophe."""
    return f"'{value}" if looks_like_formula(value) else value


def xml_text(value: str) -> str:
    """Text as a sheet's XML holds it: escaped, the characters XML forbids left out."""
    return escape(ILLEGAL.sub("", value))


def serial(value: datetime | date) -> str:
    """The spreadsheet's number for a date (days since 1899-12-30) or a date and time."""
    if isinstance(value, datetime):
        delta = value - EPOCH
        return repr(round(delta.days + delta.seconds / 86400, 10))
    return str((value - EPOCH.date()).days)


def xlsx_cell_xml(ref: str, value: object, fmt: int = PLAIN) -> str:
    """One ``<c>`` element (empty for None or ""): a text as an inline string — quote-prefixed when it
    looks like a formula —, a date as a serial number in ``fmt``, a number as a number. ``fmt`` is the
    column's style (:data:`DATE`, :data:`DATETIME`, :data:`WRAP`, :data:`HEADER`, :data:`TITLE`…)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        style = fmt if fmt in (HEADER, TITLE, WRAP) else PLAIN
        if looks_like_formula(value):
            style = QUOTED_WRAP if style == WRAP else QUOTED
        attr = f' s="{style}"' if style else ""
        return f'<c r="{ref}" t="inlineStr"{attr}><is><t xml:space="preserve">{xml_text(value)}</t></is></c>'
    if isinstance(value, (date, datetime)):
        style = fmt if fmt in (DATE, DATETIME) else (DATETIME if isinstance(value, datetime) else DATE)
        return f'<c r="{ref}" s="{style}"><v>{serial(value)}</v></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    return xlsx_cell_xml(ref, str(value), fmt)
