"""The streamed XLSX opens with openpyxl as a real spreadsheet: typed cells, real dates with a day-first
format, the header frozen and filtered, column widths; and the export written through it."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from openpyxl import load_workbook

from models.db import transaction
from models.election.reports import Actor, ElectionData, record_election
from models.units.tree import add_unit
from reports.export import write_xlsx
from reports.xlsx_stream import DATE, DATETIME, PLAIN, XlsxWriter
from tests.conftest import Database


def test_cells_keep_their_types() -> None:
    buf = io.BytesIO()
    w = XlsxWriter(buf, "Tiến độ", [10, 12, 14, 20], [PLAIN, DATE, DATETIME, PLAIN])
    w.append(["Mã", "Ngày", "Lúc", "Ghi chú"])
    w.append(["V1", date(2025, 1, 5), datetime(2025, 1, 6, 14, 30), "a < b & \"c\"\x01"])
    w.append([None, None, None, 42])
    w.append(["=1+1", None, None, 2.5])
    w.close()
    ws = load_workbook(buf).active
    assert ws is not None and ws.title == "Tiến độ"
    rows = list(ws.iter_rows(values_only=True))
    assert rows == [("Mã", "Ngày", "Lúc", "Ghi chú"),
                    ("V1", datetime(2025, 1, 5), datetime(2025, 1, 6, 14, 30), 'a < b & "c"'),
                    (None, None, None, 42), ("=1+1", None, None, 2.5)]
    assert ws["B2"].number_format == "DD/MM/YYYY" and ws["C2"].number_format == "DD/MM/YYYY HH:MM"
    assert ws["A4"].data_type == "s" and ws["A4"].quotePrefix  # text, not a formula
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:D4"
    assert ws.column_dimensions["A"].width == 10 and ws.column_dimensions["D"].width == 20


async def test_export_through_the_stream(db: Database) -> None:
    async with transaction(db.sessions) as s:
        p = await add_unit(s, period="post2025", code="22", level="province", name="Quảng Ninh", parent=None)
        c = await add_unit(s, period="post2025", code="C1", level="commune", name="Xã Một", parent=p, type="xã",
                           full_name="Xã Một")
        v1 = await add_unit(s, period="post2025", code="V1", level="village", name="Thôn Một", parent=c,
                            type="thôn", full_name="Thôn Một")
        await add_unit(s, period="post2025", code="V2", level="village", name="Thôn Hai", parent=c, type="thôn",
                       full_name="Thôn Hai")
        assert v1.id is not None
        await record_election(s, v1.id, ElectionData(date(2025, 1, 5), "Lê Văn B", 80, 95, 100, "member"),
                              Actor(None, "cli"), datetime(2025, 1, 6, 3, tzinfo=UTC), date(2025, 1, 6))
    buf = io.BytesIO()
    async with db.sessions() as s:
        n = await write_xlsx(s, buf, "post2025", date(2025, 1, 6))
    assert n == 2
    ws = load_workbook(buf).active
    assert ws is not None
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 3 and rows[0][4] == "Mã thôn"
    one = dict(zip(rows[0], rows[1], strict=True))
    assert one["Mã thôn"] == "V1" and one["Ngày bầu cử"] == datetime(2025, 1, 5) and one["Số phiếu bầu"] == 80
    two = dict(zip(rows[0], rows[2], strict=True))
    assert two["Mã thôn"] == "V2" and two["Ngày bầu cử"] is None
