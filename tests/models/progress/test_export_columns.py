"""The export is driven by one column list (``models.progress.export.COLUMNS``): every entry has its
Vietnamese header in the catalog, a kind the writers know, a width, and words for its codes; and a new
column is that one entry — appended to the list, it is in the rows, the CSV (its name; with
``labels="vi"`` its header) and the XLSX (its header, its width, its kind's cell type), on SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import pytest
from sqlmodel import col

from models.db import transaction
from models.election.tables import ElectionReport
from models.progress import export
from models.progress.export import KINDS, ExportColumn, export_rows
from reports.export import write_csv, write_xlsx
from tests.conftest import Database
from tests.scheduler.province import PERIOD, at, build_province, elect
from texts.catalog import has, keys, t

TODAY = date(2025, 3, 1)


def test_every_column_has_its_header_kind_width_and_words() -> None:
    names = [c.name for c in export.COLUMNS]
    assert len(names) == len(set(names)) and tuple(names) == export.EXPORT_COLUMNS
    catalog = keys()
    for column in export.COLUMNS:
        assert has(column.header_key), column.name
        assert column.kind in KINDS and column.width > 0, column.name
        if column.words is not None:  # the codes it holds have words in the catalog
            assert any(k.startswith(column.words + ".") for k in catalog), column.name
    assert export.PHONE_COLUMNS <= set(names)


# one entry: the vote-count record's roll once more, as a test-only column under a header the catalog has
ROLL_AGAIN = ExportColumn("roll_again", lambda s: col(ElectionReport.roll), "int", 9, header="export.roll")


async def test_a_new_column_is_one_entry_of_the_list(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    async with transaction(db.sessions) as s:
        p = await build_province(s)
        await elect(s, p, "V11", at(date(2025, 1, 6), 10))
    monkeypatch.setattr(export, "COLUMNS", (*export.COLUMNS, ROLL_AGAIN))
    async with db.sessions() as s:
        rows = {r["village_code"]: r async for r in export_rows(s, PERIOD, TODAY)}
        assert rows["V11"]["roll_again"] == rows["V11"]["roll"] != "" and rows["V12"]["roll_again"] == ""
        plain, words = io.StringIO(), io.StringIO()
        await write_csv(s, plain, PERIOD, TODAY)
        await write_csv(s, words, PERIOD, TODAY, labels="vi")
        book = io.BytesIO()
        await write_xlsx(s, book, PERIOD, TODAY)
    header = next(csv.reader(io.StringIO(plain.getvalue())))
    assert header[-1] == "roll_again" and next(csv.reader(io.StringIO(words.getvalue())))[-1] == t("export.roll")
    sheet = openpyxl.load_workbook(io.BytesIO(book.getvalue())).active
    assert sheet is not None
    last = sheet.cell(row=1, column=len(header))
    assert last.value == t("export.roll")
    assert sheet.column_dimensions[last.column_letter].width == pytest.approx(9, abs=1)
    values = {r[header.index("village_code")]: r[-1] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["V11"] == int(rows["V11"]["roll"]) and values["V12"] is None  # an int cell, as its kind says
