"""The digest as an XLSX: the same figures as the page and the message — the summary, the units (or a
commune's villages by status), and every late village — written by the one spreadsheet writer."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

from models.progress.digest import DigestFigures
from models.progress.status import STATUSES
from models.reminders.rules import Due
from reports.chart import is_villages
from reports.late_text import days_late, late_what
from reports.merger_text import breakdown
from reports.xlsx_stream import HEADER, PLAIN, TITLE, WRAP, XlsxWriter
from texts.catalog import t
from texts.fmt import fmt_date, pct


def summary_lines(f: DigestFigures) -> list[str]:
    """The digest's figures as sentences (no command to send, no "… and N more")."""
    lines = [breakdown(f).lstrip("• "),
             t("digest.merged", n=f.merged, total=f.villages, pct=pct(f.merged, f.villages)).lstrip("• "),
             t("digest.late_count", n=f.late_total).lstrip("• ")]
    if f.revote or f.pending_recognition or f.terms_ending:
        lines.append(t("digest.record", revote=f.revote, pending=f.pending_recognition, ending=f.terms_ending))
    return lines


def digest_xlsx(f: DigestFigures, late: Sequence[Due], parents: dict[int, str], today: date) -> bytes:
    buf = io.BytesIO()
    w = XlsxWriter(buf, t("digest.xlsx.sheet_summary"), (100,), (WRAP,), header_row=3)
    w.append([t("digest.title", unit=f.unit_name)], style=TITLE)
    w.append([t("digest.as_of", date=fmt_date(f.today))])
    w.append([t("digest.xlsx.figures")], style=HEADER)
    for line in summary_lines(f):
        w.append([line])
    if is_villages(f.children) or len(f.children) <= 1:
        counts = {s: sum(p.by_status.get(s, 0) for p in f.children) for s in STATUSES}
        w.add_sheet(t("digest.xlsx.sheet_status"), (48, 12), (WRAP, PLAIN))
        w.append([t("web.progress.status"), t("web.progress.villages")], style=HEADER)
        for s in STATUSES:
            w.append([t(f"status.{s}"), counts[s]])
    else:
        w.add_sheet(t("digest.xlsx.sheet_units"), (30, 10, 10, 10, 10, 10, 10), (WRAP,))
        w.append([t("web.progress.unit"), t("web.progress.villages"), t("web.progress.elected"),
                  t("web.progress.congress_held"), t("web.progress.merged"), t("web.progress.overdue"),
                  t("digest.xlsx.merged_pct")], style=HEADER)
        for p in f.children:
            w.append([p.name or p.code, p.villages, p.elected, p.count("merged", "not_merged"), p.merged, p.overdue,
                      round(100 * p.merged / p.villages, 1) if p.villages else 0])
    w.add_sheet(t("digest.xlsx.sheet_late"), (26, 26, 60, 10), (WRAP, WRAP, WRAP, PLAIN))
    w.append([t("web.late.commune"), t("web.late.village"), t("web.late.reason"), t("web.late.days")], style=HEADER)
    for d in late:
        w.append([parents.get(d.village_id, ""), d.village_name, late_what(d), days_late(d, today)])
    w.close()
    return buf.getvalue()
