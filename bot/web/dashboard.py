"""Progress by unit (with bars, drill-down) and the late villages, scoped to the user's unit."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from aiohttp import web

from bot.web.commune import VILLAGE_SORTS, late_table, village_table
from bot.web.guard import Signed, page
from bot.web.html import Html, bar, esc, join, table, tag
from bot.web.listing import ListQuery, arrange, pager, read_query, search_form, sort_header
from bot.web.merger_forms import plan_form
from models.db import DbSession
from models.progress.commune import tally, village_rows
from models.progress.dashboard import unit_by_code, units_by_ids
from models.progress.digest import head_names, parent_names
from models.progress.status import HELD, STATUSES
from models.progress.tallies import UnitProgress, progress_by_child, total
from models.reminders.rules import late_villages
from models.units.tables import Unit
from models.units.tree import ancestors
from reports.late_text import days_late
from texts.catalog import fold, t
from texts.fmt import pct

LATE_ALL = 100_000  # every late village: the page shows them a page at a time


def unit_link(unit_code: str, name: str, level: str) -> Html:
    href = f"/v/{unit_code}" if level == "village" else f"/u/{unit_code}"
    return tag("a", name, href=href)


async def breadcrumb(ctx: Signed, db: DbSession, unit: Unit) -> Html:
    """The path from the user's unit down to ``unit`` (nothing above the user's unit)."""
    assert unit.id is not None  # (a unit read from the database)
    chain = await ancestors(db, unit.id)
    start = next((i for i, u in enumerate(chain) if u.id == ctx.unit_id), len(chain) - 1)
    links = [unit_link(u.code, u.full_name, u.level) for u in chain[start:-1]]
    return Html(f'<p class="crumbs">{" › ".join([*links, esc(unit.full_name)])}</p>')


UNIT_SORTS = ("unit", "villages", "elected", "elected_pct", "held", "merged", "merged_pct", "overdue")


def _share(part: int, whole: int) -> float:
    return part / whole if whole else -1.0


# what each column of the units' table sorts by (ties keep the units' order: by code)
UNIT_KEYS: dict[str, Callable[[UnitProgress], object]] = {
    "unit": lambda p: fold(p.name), "villages": lambda p: p.villages, "elected": lambda p: p.elected,
    "elected_pct": lambda p: _share(p.elected, p.villages), "held": lambda p: p.count(*HELD),
    "merged": lambda p: p.merged, "merged_pct": lambda p: _share(p.merged, p.villages),
    "overdue": lambda p: p.overdue,
}


def _unit_columns() -> list[tuple[str, str, str]]:
    """(sort key, header, class) of each column; "wide" columns are left out on a phone."""
    return [("unit", t("web.progress.unit"), ""), ("villages", t("web.progress.villages"), "num"),
            ("elected", t("web.progress.elected"), "num wide"),
            ("elected_pct", t("web.progress.elected_pct"), "num"),
            ("held", t("web.progress.congress_held"), "num wide"), ("merged", t("web.progress.merged"), "num wide"),
            ("merged_pct", t("web.progress.merged_pct"), "num"), ("overdue", t("web.progress.overdue"), "num")]


def _figures(p: UnitProgress) -> list[object]:
    return [p.villages, p.elected, pct(p.elected, p.villages), p.count(*HELD), p.merged,
            pct(p.merged, p.villages), p.overdue]


def _unit_row(p: UnitProgress, level: str, classes: list[str]) -> Html:
    name = join((unit_link(p.code, p.name, level), Html(" "), tag("span", p.code, class_="code")))
    if level == "village":  # a village directly under the unit: its status instead of figures
        status = next(iter(p.by_status), "no_election")
        cells: list[object] = ["" for _ in classes[1:]]
        last: object = tag("span", t(f"status.{status}"), class_=f"status s-{status}")
    else:
        cells, last = _figures(p), bar(p.elected, p.merged, p.villages)
    return tag("tr", join([tag("td", name), *(tag("td", c, class_=k) for c, k in zip(cells, classes[1:], strict=True)),
                           tag("td", last, class_="bar-cell")]))


def progress_table(lines: list[UnitProgress], levels: dict[int, str], whole: UnitProgress, query: ListQuery,
                   path: str) -> Html:
    """A line per unit under the unit, with its figures: searched by name or code, sorted by any column's
    header (numbers largest first at the first click; the units' own order, by code, until one is chosen),
    :data:`~bot.web.listing.PER_PAGE` lines a page. The last line adds up the lines that match, on every
    page: with nothing searched, the unit's own figures (those of the counts by status below)."""
    shown = arrange(lines, query, UNIT_KEYS, lambda p: f"{p.name} {p.code}")
    columns = _unit_columns()
    sorts = [("", t("web.progress.code_order")), *((key, label) for key, label, _ in columns)]
    form = search_form(path, query, t("web.progress.search"), sorts)
    if not shown.rows:
        return join([form, tag("p", t("web.progress.no_match", q=query.q), id="no-match")])
    classes = [k for _, _, k in columns]
    head = join([*(sort_header(path, query, key, label, first_desc=key != "unit", class_=k or None)
                   for key, label, k in columns), Html('<th class="bar-cell"></th>')])
    body = join(_unit_row(p, levels.get(p.unit_id, ""), classes) for p in shown.rows)
    added = whole if not query.q else total(shown.every, whole.unit_id)
    label = t("web.progress.matching_total", n=shown.matching) if query.q else t("web.progress.total")
    foot = tag("tr", join([tag("td", tag("strong", label)),
                           *(tag("td", c, class_=k) for c, k in zip(_figures(added), classes[1:], strict=True)),
                           tag("td", bar(added.elected, added.merged, added.villages), class_="bar-cell")]))
    table_html = Html(f'<div class="scroll"><table class="grid progress"><thead><tr>{head}</tr></thead>'
                      f"<tbody>{body}</tbody><tfoot>{foot}</tfoot></table></div>")
    return join([form, table_html, pager(path, query, shown) if shown.pages > 1 else ""])


def status_counts(whole: UnitProgress) -> Html:
    rows = [[tag("span", t(f"status.{s}"), class_=f"status s-{s}"), whole.by_status.get(s, 0)] for s in STATUSES]
    return table([t("web.progress.status"), t("web.progress.villages")], rows, class_="grid counts")


async def progress_body(ctx: Signed, db: DbSession, unit: Unit, today: date, params: Mapping[str, str],
                        path: str) -> Html:
    """The unit's progress: a commune's villages row by row (the counts by status tallied from the same
    rows: one query), or a line per unit under it (the counts: the sum of the lines); either list searched,
    sorted and paged by ``params`` (the address's query)."""
    assert unit.id is not None  # a unit read from its table
    deadline = ctx.rules.congress_deadline
    rows = await village_rows(db, unit.id, today, deadline) if unit.level == "commune" else None
    lines: list[UnitProgress] = []
    levels: dict[int, str] = {}
    if rows is None:
        lines = await progress_by_child(db, unit.id, today, deadline)
        levels = {u.id: u.level for u in await units_by_ids(db, [p.unit_id for p in lines]) if u.id is not None}
        if lines and all(levels.get(p.unit_id) == "village" for p in lines):  # villages directly under it
            rows = await village_rows(db, unit.id, today, deadline)
    if not (rows or lines):
        return Html(f"<p>{esc(t('web.progress.empty'))}</p>")
    if rows is not None:  # its villages, their own columns
        whole = tally(rows, unit.id)
        query = read_query(params, VILLAGE_SORTS, "village", False)
        table_html, legend = await village_table(ctx, db, unit, today, rows, query, path), Html("")
    else:
        whole = total(lines, unit.id)
        query = read_query(params, UNIT_SORTS, "", False)
        table_html = progress_table(lines, levels, whole, query, path)
        legend = Html(f'<p class="legend bars">{esc(t("web.progress.bar_legend"))}</p>')
    summary = t("web.progress.summary", elected=whole.elected, villages=whole.villages,
                elected_pct=pct(whole.elected, whole.villages), merged=whole.merged,
                merged_pct=pct(whole.merged, whole.villages))
    # under a search the list shows some rows; the counts by status are still the whole unit's: say so
    by_status = t("web.progress.by_status_of", unit=unit.full_name) if query.q else t("web.progress.by_status")
    return Html(f'<p class="summary" id="summary">{esc(summary)}</p>'
                f"{legend}"
                f"{table_html}<h2>{esc(by_status)}</h2>"
                f"{status_counts(whole)}")


def downloads_links(code: str) -> Html:
    csv = tag("a", t("web.progress.download_csv"), href=f"/export.csv?unit={code}", class_="button")
    xlsx = tag("a", t("web.progress.download_xlsx"), href=f"/export.xlsx?unit={code}", class_="button")
    return Html(f'<p class="actions">{csv} {xlsx}</p>')


@page()
async def home(request: web.Request, ctx: Signed) -> web.StreamResponse:
    return await _progress(ctx, ctx.unit, request, "/")


@page()
async def unit_page(request: web.Request, ctx: Signed) -> web.StreamResponse:
    async with ctx.sessions() as db:
        unit = await unit_by_code(db, ctx.config.bot.period, request.match_info["code"])
        if unit is None or not await ctx.within(db, unit):
            return ctx.not_found()
    if unit.level == "village":
        raise web.HTTPSeeOther(f"/v/{unit.code}")
    return await _progress(ctx, unit, request, f"/u/{unit.code}")


async def _progress(ctx: Signed, unit: Unit, request: web.Request, path: str) -> web.Response:
    async with ctx.sessions() as db:
        crumbs = await breadcrumb(ctx, db, unit)
        body = await progress_body(ctx, db, unit, ctx.today, request.query, path)
    return ctx.render(t("web.progress.title", unit=unit.full_name),
                      Html(crumbs + body + plan_form(ctx, unit) + downloads_links(unit.code)))


LATE_SORTS = ("village", "reason", "days")


@page()
async def late_page(request: web.Request, ctx: Signed) -> web.StreamResponse:
    """Every late village (no cut-off), searched, sorted and shown a page at a time (``bot/web/listing.py``)."""
    today = ctx.today
    query = read_query(request.query, LATE_SORTS, "days", True)
    async with ctx.sessions() as db:
        rows, count = await late_villages(db, ctx.rules, today, ctx.unit_id, limit=LATE_ALL)
        ids = [d.village_id for d in rows]
        parents, heads = await parent_names(db, ids), await head_names(db, ids)
    shown = arrange(rows, query, {"village": lambda d: fold(d.village_name), "reason": lambda d: (d.rule, d.since),
                                  "days": lambda d: days_late(d, today)},
                    lambda d: f"{d.village_name} {heads.get(d.village_id, '')} {parents.get(d.village_id, '')}")
    parts = [tag("p", t("web.late.intro"))]
    if not count:
        parts.append(tag("p", t("web.late.none"), class_="ok"))
    else:
        parts.append(search_form("/late", query, t("web.late.search")))
        if not shown.rows:
            parts.append(tag("p", t("web.late.no_match", q=query.q), id="no-match"))
        else:
            parts += [late_table(shown.rows, parents, heads, today, one_commune=ctx.unit.level == "commune",
                                 query=query), pager("/late", query, shown)]
    return ctx.render(t("web.late.title", unit=ctx.unit.full_name), join(parts))
