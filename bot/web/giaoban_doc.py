"""The briefing pack as the document a commune office prints: the Party header (ĐẢNG BỘ XÃ …, ĐẢNG
CỘNG SẢN VIỆT NAM, place and date), the title, the summary once, urgent matters first (those asked
for and those found inside a one-message report), requests, attendance, the campaign's figures, then
the villages' reports in one compact table with their photos as thumbnails. ``static/giaoban.css``
prints it on A4 (two pages for a commune of 30 villages)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot.web.html import Html, esc, join, tag
from bot.web.photos import photo_url
from models.giaoban.pack import Pack, VillageLine
from models.giaoban.reports import WHOLE
from models.giaoban.tables import FIELDS
from texts.catalog import t
from texts.fmt import fmt_time_date, pct

DETAIL_FIELDS = tuple(k for k in FIELDS if k not in ("urgent", "requests"))


def _name(line: VillageLine) -> str:
    return line.village.full_name or line.village.name


def _thumbs(line: VillageLine) -> Html:
    return join(Html(f'<a href="{photo_url(p)}" class="thumb-link"><img class="thumb" src="{photo_url(p)}" '
                     f'alt="{esc(t("gb.doc.photo_alt", village=_name(line), n=n))}" width="96" height="72"></a>')
                for n, p in enumerate(line.photos, 1))


def doc_header(pack: Pack, today: date) -> Html:
    commune = pack.view.commune
    place = commune.name or commune.full_name
    dated = t("gb.doc.dated", place=place, day=f"{today.day:02d}", month=f"{today.month:02d}", year=today.year)
    return Html(f'<header class="doc-head"><div class="issuer"><strong>'
                f'{esc(t("gb.doc.party_unit", commune=(commune.full_name or commune.name).upper()))}</strong>'
                f'<span class="star">*</span></div><div class="nation"><strong class="underline">'
                f'{esc(t("gb.doc.party"))}</strong><em>{esc(dated)}</em></div></header>')


def _section(title: str, body: Html, id_: str) -> Html:
    return Html(f'<section class="doc-part" id="{id_}"><h3>{esc(title)}</h3>{body}</section>')


def _items(items: list[Html]) -> Html:
    return Html("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")


def pack_document(pack: Pack, tz: ZoneInfo, today: date) -> Html:
    m = pack.view.meeting
    where = t("gb.doc.when", when=fmt_time_date(m.starts_at, tz), place=m.place or "")
    summary = t("gb.pack.reported", n=len(pack.reported), total=len(pack.lines))
    if pack.missing:
        summary += " " + t("gb.pack.missing", n=len(pack.missing), villages=", ".join(_name(v) for v in pack.missing))
    parts = [doc_header(pack, today), tag("h2", t("gb.doc.title"), class_="doc-title"),
             tag("p", where, class_="doc-sub"), tag("p", summary, class_="doc-summary", id="pack-summary")]
    urgent = pack.urgent_items
    parts.append(_section(t("gb.doc.urgent", n=len(urgent)), _items([
        Html(f"<strong>{esc(_name(u.line))}:</strong> {esc(u.text)}"
             + (f' <span class="found">{esc(t("gb.doc.found"))}</span>' if u.found else "")
             + (f'<span class="thumbs">{_thumbs(u.line)}</span>' if u.line.photos else ""))
        for u in urgent]) if urgent else tag("p", t("gb.doc.none")), "urgent"))
    parts.append(_section(t("gb.doc.requests", n=len(pack.requests)), _items([
        Html(f"<strong>{esc(_name(v))}:</strong> {esc(v.answer('requests'))}") for v in pack.requests])
        if pack.requests else tag("p", t("gb.doc.none")), "requests"))
    absent = pack.attendance(False)
    attendance = t("gb.doc.attendance_line", yes=len(pack.attendance(True)), no=len(absent),
                   none=len(pack.attendance(None)))
    if absent:
        attendance += " " + t("gb.doc.absent", villages="; ".join(
            f"{_name(v)} ({v.attendance.reason})" if v.attendance and v.attendance.reason else _name(v)
            for v in absent))
    parts.append(_section(t("gb.doc.attendance"), tag("p", attendance), "attendance"))
    f = pack.figures
    if f is not None and f.villages:
        figures = (t("digest.elected", n=f.elected, total=f.villages, pct=pct(f.elected, f.villages)),
                   t("digest.congress", planned=f.planned, held=f.held, overdue=f.overdue),
                   t("digest.merged", n=f.merged, total=f.villages, pct=pct(f.merged, f.villages)))
        parts.append(_section(t("gb.doc.campaign"), tag("p", "; ".join(x.lstrip("•– ").rstrip(".") for x in figures)
                                                          + "."), "campaign"))
    parts.append(_section(t("gb.doc.reports"), _reports(pack), "reports"))
    return Html('<article class="doc" id="pack-doc">' + join(parts) + "</article>")


def _reports(pack: Pack) -> Html:
    head = join(tag("th", h) for h in (t("gb.web.col_village"), *(t(f"gb.field.{k}") for k in DETAIL_FIELDS)))
    rows = []
    for line in pack.lines:
        name = Html(esc(_name(line)) + (Html(f'<span class="thumbs">{_thumbs(line)}</span>') if line.photos else ""))
        if line.report is None:
            cells = Html(f'<td colspan="{len(DETAIL_FIELDS)}" class="missing">{esc(t("gb.web.not_reported"))}</td>')
        elif line.answer(WHOLE):
            cells = Html(f'<td colspan="{len(DETAIL_FIELDS)}">{esc(line.answer(WHOLE))}</td>')
        else:
            cells = join(tag("td", line.answer(k) or "—") for k in DETAIL_FIELDS)
        rows.append(Html(f"<tr><th scope=\"row\">{name}</th>{cells}</tr>"))
    return Html(f'<table class="doc-table gb-reports"><thead><tr>{head}</tr></thead>'
                f"<tbody>{join(rows)}</tbody></table>")
