"""An XLSX written row by row straight into its zip file: the national export (80,000 villages, 24
columns) in a couple of seconds and a few megabytes of memory, and every other sheet the bot makes (the
briefing pack: several sheets, titles, wrapped text, print settings) — one writer for every spreadsheet.

openpyxl's write-only mode streams too, but spends about 100 µs per cell building and serialising a
cell object (8 s for the national export before the file is even zipped); here a row is one string.
The file is plain SpreadsheetML that Excel, LibreOffice and openpyxl open: inline strings, numbers,
dates as serial numbers with a day-first format, a frozen header with a filter, bold headers, column
widths, A4 print settings with the header row repeated on each page. Every cell is written by
``reports.cells.xlsx_cell_xml``: a text that a spreadsheet would take for a formula stays text.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any
from xml.sax.saxutils import escape

from openpyxl.utils import get_column_letter

from reports.cells import DATE, DATETIME, HEADER, PLAIN, QUOTED, TITLE, WRAP, serial, xlsx_cell_xml, xml_text

__all__ = ["DATE", "DATETIME", "HEADER", "PLAIN", "QUOTED", "TITLE", "WRAP", "XlsxWriter", "serial"]

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
{sheets}<Override PartName="/xl/styles.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
</Types>"""
ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" \
Target="xl/workbook.xml"/></Relationships>"""
WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
{sheets}<Relationship Id="rStyles" \
Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>\
</Relationships>"""
SHEET_TYPE = ('<Override PartName="/xl/worksheets/sheet{n}.xml" '
              'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
SHEET_REL = ('<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
             'worksheet" Target="worksheets/sheet{n}.xml"/>')
STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
<numFmts count="2"><numFmt numFmtId="164" formatCode="{date}"/>\
<numFmt numFmtId="165" formatCode="{datetime}"/></numFmts>\
<fonts count="3"><font><sz val="11"/><name val="Calibri"/></font>\
<font><b/><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="14"/><name val="Calibri"/></font></fonts>\
<fills count="3"><fill><patternFill patternType="none"/></fill>\
<fill><patternFill patternType="gray125"/></fill>\
<fill><patternFill patternType="solid"><fgColor rgb="FFDDE4EE"/><bgColor indexed="64"/></patternFill></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="8"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>\
<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" applyAlignment="1">\
<alignment vertical="top" wrapText="1"/></xf>\
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">\
<alignment vertical="top" wrapText="1"/></xf>\
<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>\
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1" applyAlignment="1">\
<alignment vertical="top" wrapText="1"/></xf></cellXfs>\
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
</styleSheet>"""


@dataclass(slots=True)
class _Sheet:
    name: str
    columns: int
    header_row: int
    landscape: bool
    rows: int = 0


class XlsxWriter:
    """``append`` rows of plain values (str, int, float, date, datetime, None for an empty cell), then
    ``close``; ``formats[i]`` is the column's style: :data:`DATE`/:data:`DATETIME` for dates, :data:`WRAP`
    for long text. The first sheet is opened here, more with :meth:`add_sheet` (one after the other).
    ``header_row``: the row frozen, filtered and repeated on each printed page (rows above it: titles)."""

    def __init__(self, out: str | IO[bytes], sheet: str, widths: Sequence[float], formats: Sequence[int],
                 date_format: str = "DD/MM/YYYY", datetime_format: str = "DD/MM/YYYY HH:MM", *,
                 header_row: int = 1, landscape: bool = False) -> None:
        self.zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=5)
        self.zip.writestr("xl/styles.xml", STYLES.format(date=escape(date_format, {'"': "&quot;"}),
                                                         datetime=escape(datetime_format, {'"': "&quot;"})))
        self.sheets: list[_Sheet] = []
        self._buf: list[str] = []
        self.add_sheet(sheet, widths, formats, header_row=header_row, landscape=landscape)

    @property
    def rows(self) -> int:
        """Rows written to the current sheet."""
        return self.sheets[-1].rows

    def add_sheet(self, name: str, widths: Sequence[float], formats: Sequence[int], *, header_row: int = 1,
                  landscape: bool = False) -> None:
        if self.sheets:
            self._end_sheet()
        self.sheets.append(_Sheet(name[:31], len(widths), header_row, landscape))
        self.formats = list(formats) + [PLAIN] * (len(widths) - len(formats))
        self.letters = [get_column_letter(i) for i in range(1, len(widths) + 1)]
        self.part = self.zip.open(f"xl/worksheets/sheet{len(self.sheets)}.xml", "w", force_zip64=True)
        cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1))
        top = get_column_letter(1) + str(header_row + 1)
        selected = ' tabSelected="1"' if len(self.sheets) == 1 else ""
        self._write('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                    '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
                    f'<sheetViews><sheetView workbookViewId="0"{selected}>'
                    f'<pane ySplit="{header_row}" topLeftCell="{top}" activePane="bottomLeft" state="frozen"/>'
                    '<selection pane="bottomLeft"/></sheetView></sheetViews>'
                    f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>')

    def _write(self, text: str) -> None:
        self.part.write(text.encode("utf-8"))

    def append(self, values: Sequence[Any], style: int | None = None) -> None:
        """One row; ``style`` (:data:`HEADER`, :data:`TITLE`) for every cell of it instead of the columns'."""
        sheet = self.sheets[-1]
        sheet.rows += 1
        r = str(sheet.rows)
        formats = self.formats if style is None else [style] * len(self.letters)
        cells = [f'<row r="{r}">']
        cells += [xlsx_cell_xml(letter + r, value, fmt)
                  for letter, fmt, value in zip(self.letters, formats, values, strict=False)]
        cells.append("</row>")
        self._buf.append("".join(cells))
        if len(self._buf) >= 500:
            self._flush()

    def _flush(self) -> None:
        if self._buf:
            self._write("".join(self._buf))
            self._buf = []

    def _end_sheet(self) -> None:
        self._flush()
        sheet = self.sheets[-1]
        last = self.letters[-1] if self.letters else "A"
        orientation = "landscape" if sheet.landscape else "portrait"
        self._write(f'</sheetData><autoFilter ref="A{sheet.header_row}:{last}{max(sheet.rows, sheet.header_row)}"/>'
                    '<printOptions gridLines="1"/>'
                    '<pageMargins left="0.5" right="0.4" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>'
                    f'<pageSetup paperSize="9" orientation="{orientation}" fitToWidth="1" fitToHeight="0"/>'
                    "</worksheet>")
        self.part.close()

    def close(self) -> None:
        self._end_sheet()
        n = len(self.sheets)
        self.zip.writestr("[Content_Types].xml", CONTENT_TYPES.format(
            sheets="".join(SHEET_TYPE.format(n=i) for i in range(1, n + 1))))
        self.zip.writestr("_rels/.rels", ROOT_RELS)
        self.zip.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.format(
            sheets="".join(SHEET_REL.format(n=i) for i in range(1, n + 1))))
        names, sheets = [], []
        for i, sheet in enumerate(self.sheets):
            quoted = "'" + xml_text(sheet.name).replace("'", "''") + "'"
            last = get_column_letter(max(sheet.columns, 1))
            h = sheet.header_row
            sheets.append(f'<sheet name="{xml_text(sheet.name)}" sheetId="{i + 1}" r:id="rId{i + 1}"/>')
            names.append(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
                         f"{quoted}!$A${h}:${last}${max(sheet.rows, h)}</definedName>")
            names.append(f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">{quoted}!${h}:${h}'
                         "</definedName>")
        self.zip.writestr("xl/workbook.xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets>{"".join(sheets)}</sheets><definedNames>{"".join(names)}</definedNames></workbook>'))
        self.zip.close()
