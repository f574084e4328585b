"""A one-sheet XLSX written row by row straight into its zip file: the national export (80,000 villages,
24 columns) in a couple of seconds and a few megabytes of memory.

openpyxl's write-only mode streams too, but spends about 100 µs per cell building and serialising a
cell object (8 s for the national export before the file is even zipped); here a row is one string.
The file is plain SpreadsheetML that Excel, LibreOffice and openpyxl open: inline strings, numbers,
dates as serial numbers with a day-first format, a frozen header with a filter, column widths. A text
that a spreadsheet would take for a formula keeps its value and gets the quote-prefix style
(``reports.cells``), as the openpyxl writer did.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from typing import IO, Any
from xml.sax.saxutils import escape

from openpyxl.utils import get_column_letter

from reports.cells import looks_like_formula

EPOCH = datetime(1899, 12, 30)
# styles (cellXfs order below): 0 plain, 1 date, 2 date and time, 3 text with the quote prefix
PLAIN, DATE, DATETIME, QUOTED = 0, 1, 2, 3
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML 1.0

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
<Override PartName="/xl/worksheets/sheet1.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
<Override PartName="/xl/styles.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
</Types>"""
ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" \
Target="xl/workbook.xml"/></Relationships>"""
WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" \
Target="worksheets/sheet1.xml"/>\
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" \
Target="styles.xml"/></Relationships>"""
STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
<numFmts count="2"><numFmt numFmtId="164" formatCode="{date}"/>\
<numFmt numFmtId="165" formatCode="{datetime}"/></numFmts>\
<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>\
<fills count="2"><fill><patternFill patternType="none"/></fill>\
<fill><patternFill patternType="gray125"/></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/></cellXfs>\
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
</styleSheet>"""


def _text(value: str) -> str:
    return escape(ILLEGAL.sub("", value))


def serial(value: datetime | date) -> str:
    """The spreadsheet's number for a date (days since 1899-12-30) or a date and time."""
    if isinstance(value, datetime):
        delta = value - EPOCH
        return repr(round(delta.days + delta.seconds / 86400, 10))
    return str((value - EPOCH.date()).days)


class XlsxWriter:
    """``append`` rows of plain values (str, int, float, date, datetime, None for an empty cell), then
    ``close``; ``formats[i]`` is :data:`DATE` or :data:`DATETIME` for a column of dates."""

    def __init__(self, out: str | IO[bytes], sheet: str, widths: Sequence[float], formats: Sequence[int],
                 date_format: str = "DD/MM/YYYY", datetime_format: str = "DD/MM/YYYY HH:MM") -> None:
        self.zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=5)
        self.sheet, self.formats = sheet, list(formats)
        self.letters = [get_column_letter(i) for i in range(1, len(widths) + 1)]
        self.rows = 0
        self.zip.writestr("[Content_Types].xml", CONTENT_TYPES)
        self.zip.writestr("_rels/.rels", ROOT_RELS)
        self.zip.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        self.zip.writestr("xl/styles.xml", STYLES.format(date=escape(date_format, {'"': "&quot;"}),
                                                         datetime=escape(datetime_format, {'"': "&quot;"})))
        self.part = self.zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1))
        self._write('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                    'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews>'
                    f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>')
        self._buf: list[str] = []

    def _write(self, text: str) -> None:
        self.part.write(text.encode("utf-8"))

    def append(self, values: Sequence[Any]) -> None:
        self.rows += 1
        r = str(self.rows)
        cells = [f'<row r="{r}">']
        add = cells.append
        for letter, fmt, value in zip(self.letters, self.formats, values, strict=False):
            if value is None or value == "":
                continue
            ref = letter + r
            if isinstance(value, str):
                style = ' s="3"' if looks_like_formula(value) else ""
                add(f'<c r="{ref}" t="inlineStr"{style}><is><t xml:space="preserve">{_text(value)}</t></is></c>')
            elif isinstance(value, (date, datetime)):
                add(f'<c r="{ref}" s="{fmt or DATE}"><v>{serial(value)}</v></c>')
            elif isinstance(value, bool):
                add(f'<c r="{ref}" t="b"><v>{int(value)}</v></c>')
            else:
                add(f'<c r="{ref}"><v>{value}</v></c>')
        add("</row>")
        self._buf.append("".join(cells))
        if len(self._buf) >= 500:
            self._flush()

    def _flush(self) -> None:
        if self._buf:
            self._write("".join(self._buf))
            self._buf = []

    def close(self) -> None:
        self._flush()
        last = self.letters[-1] if self.letters else "A"
        self._write(f'</sheetData><autoFilter ref="A1:{last}{max(self.rows, 1)}"/></worksheet>')
        self.part.close()
        self.zip.writestr("xl/workbook.xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{_text(self.sheet[:31])}" sheetId="1" r:id="rId1"/></sheets>'
            f'<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
            f"'{_text(self.sheet[:31]).replace(chr(39), chr(39) * 2)}'!$A$1:${last}${max(self.rows, 1)}</definedName>"
            '</definedNames></workbook>'))
        self.zip.close()
