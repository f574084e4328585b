"""Cells that a spreadsheet would take for a formula, written as text.

A unit or person name typed by a user (or imported) may begin with ``=``, ``+``, ``-``, ``@`` (or a
tab or carriage return, or their full-width forms): Excel and LibreOffice would run it as a formula
when the export is opened (CSV injection). In the CSV such a cell gets a leading apostrophe, which
spreadsheets hide and read as "this is text"; in the XLSX it is a string cell with the quote prefix
set, so the value itself is unchanged.
"""

from __future__ import annotations

from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def looks_like_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def csv_cell(value: object) -> object:
    """The value for a CSV cell: a formula-looking text gets a leading apostrophe."""
    return f"'{value}" if looks_like_formula(value) else value


def xlsx_cell(sheet: WriteOnlyWorksheet, value: object) -> object:
    """The value for an XLSX row: a formula-looking text becomes a text cell (quote prefix set)."""
    if not isinstance(value, str) or not looks_like_formula(value):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # openpyxl makes any "=..." string a formula otherwise
    cell.quotePrefix = True
    return cell
