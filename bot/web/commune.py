"""Views designed for communes: a commune's page shows its villages with columns of their own (status,
election date and head, the head's party status, the branch secretary, days late); the late villages are
grouped under their commune, named once."""

from __future__ import annotations

from datetime import date

from bot.web.guard import Ctx
from bot.web.html import Html, esc, join, tag
from bot.web.listing import PER_PAGE, ListQuery, arrange, pager, search_form, sort_header
from models.db import DbSession
from models.progress.commune import VillageRow, village_rows
from models.progress.status import STATUSES
from models.reminders.rules import Due, late_villages
from models.units.tables import Unit
from reports.late_text import by_commune, days_late, late_what
from reports.merger_text import missing_short
from texts.catalog import t
from texts.fmt import fmt_date


def _election(row: VillageRow) -> str:
    """The election's date and the head in office — never a head who left, nor the most-voted of an invalid
    result; while the post is vacant, the interim head if one stands in."""
    if row.election_date is None:
        return t("web.commune.interim_new", name=row.interim_head) if row.interim_head else ""
    on = fmt_date(row.election_date)
    if row.head_name:
        return t("web.commune.elected_on", date=on, head=row.head_name)
    if row.interim_head:
        return t("web.commune.interim", date=on, name=row.interim_head)
    return t("web.commune.vacant" if row.vacant else "web.commune.nobody_elected", date=on)


def _named(name: str, code: str) -> Html:
    """A village's name, linked to its page, and its code (what staff commands name it by)."""
    return join((tag("a", name, href=f"/v/{code}"), Html(" "), tag("span", code, class_="code")))


def _status(row: VillageRow) -> str:
    """The status in words; a pending merger says which decision it waits for."""
    text = t(f"status.{row.status}")
    return f"{text} ({missing_short(row.missing)})" if row.missing else text


def _secretary(row: VillageRow) -> str:
    if not row.secretary_name:
        return ""
    return t("web.commune.secretary_is_head") if row.merged and row.head_name else row.secretary_name


VILLAGE_SORTS = ("village", "status", "election", "late")


async def village_table(ctx: Ctx, db: DbSession, commune: Unit, today: date, rows: list[VillageRow] | None = None,
                        query: ListQuery | None = None, path: str = "") -> Html:
    """The commune's villages (``rows``: the same rows its counts by status are tallied from, read here when
    not given); with ``query`` (the commune's own page) searched, sorted by the column headers and paged
    (``bot/web/listing.py``); without it (the digest) all of them, by code."""
    assert commune.id is not None
    if rows is None:
        rows = await village_rows(db, commune.id, today)
    late, _ = await late_villages(db, ctx.rules, today, commune.id, limit=max(len(rows), 1))
    late_by = {d.village_id: max((today - d.since).days, 0) for d in late}
    q = query or ListQuery(sort="village")
    order = {s: i for i, s in enumerate(STATUSES)}
    shown = arrange(rows, q, {"village": lambda r: r.code, "status": lambda r: (order.get(r.status, 99), r.code),
                              "election": lambda r: (r.election_date or date.min, r.code),
                              "late": lambda r: (late_by.get(r.id, -1), r.code)},
                    lambda r: f"{r.name} {r.head_name or r.interim_head or ''} {r.secretary_name or ''}",
                    per_page=PER_PAGE if query is not None else max(len(rows), 1))
    labels = [("village", t("web.late.village")), ("status", t("web.progress.status")),
              ("election", t("web.commune.election")), ("", t("web.commune.party")), ("", t("web.commune.secretary")),
              ("late", t("web.commune.late_by"))]
    head = join(sort_header(path, q, key, label, first_desc=key == "late") if key and query is not None
                else tag("th", label) for key, label in labels)
    body = join(tag("tr", join(tag("td", c, data_label=label) for (_k, label), c in zip(labels, (
        _named(r.name, r.code), tag("span", _status(r), class_=f"status s-{r.status}"),
        _election(r), t(f"party.{r.party_status}") if r.party_status else "", _secretary(r),
        t("web.commune.days", n=late_by[r.id]) if r.id in late_by else ""), strict=True))) for r in shown.rows)
    parts = [search_form(path, q, t("web.commune.search"))] if query is not None else []
    if query is not None and not shown.rows:
        parts.append(tag("p", t("web.late.no_match", q=q.q), id="no-match"))
    else:
        parts.append(Html(f'<div class="scroll"><table class="grid villages stack"><thead><tr>{head}</tr></thead>'
                          f"<tbody>{body}</tbody></table></div>"))
    if query is not None:
        parts.append(pager(path, q, shown))
    return join(parts)


def late_table(late: list[Due], parents: dict[int, str], heads: dict[int, str], today: date, one_commune: bool,
               query: ListQuery) -> Html:
    """One page of late villages in the order asked for, grouped under their commune (named once per group,
    the groups in the order of their first village; not at all for a commune's own staff); what is late
    and the days late each in its own column; the headers sort."""
    head = join([sort_header("/late", query, "village", t("web.late.village")), tag("th", t("web.late.head")),
                 sort_header("/late", query, "reason", t("web.late.reason")),
                 sort_header("/late", query, "days", t("web.late.days"), first_desc=True)])
    labels = (t("web.late.village"), t("web.late.head"), t("web.late.reason"), t("web.late.days"))
    body = []
    for commune, dues in ([("", late)] if one_commune else by_commune(late, parents)):
        if commune:
            body.append(Html(f'<tr class="group"><th colspan="4">{esc(commune)}</th></tr>'))
        body += [tag("tr", join(tag("td", c, data_label=label) for label, c in zip(labels, (
            _named(d.village_name, d.village_code), heads.get(d.village_id, ""), late_what(d),
            days_late(d, today)), strict=True))) for d in dues]
    return Html(f'<div class="scroll"><table class="grid late stack"><thead><tr>{head}</tr></thead>'
                f"<tbody>{join(body)}</tbody></table></div>")
