"""Long lists a clerk can work with, server-side and without a script: a search box (village or head
name, with or without diacritics), columns sorted by a link in their header, and pages of ``PER_PAGE``.

The state lives in the address (``?q=…&sort=days&dir=desc&page=2``), so a list can be bookmarked,
reloaded and printed as it is seen. :func:`arrange` filters, sorts and cuts the rows; the other
functions draw the form, the headers and the pager from the same :class:`ListQuery`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from bot.web.html import Html, esc, join, tag
from texts.catalog import fold, t

PER_PAGE = 100
MAX_QUERY = 100
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class ListQuery:
    q: str = ""
    sort: str = ""
    desc: bool = False
    page: int = 1

    def href(self, path: str, **changes: Any) -> str:
        """The address of this list with ``changes`` (e.g. ``page=3``); defaults are left out."""
        query = replace(self, **changes)
        params = {"q": query.q, "sort": query.sort, "dir": "desc" if query.desc else "",
                  "page": str(query.page) if query.page > 1 else ""}
        encoded = urlencode({k: v for k, v in params.items() if v})
        return f"{path}?{encoded}" if encoded else path


def read_query(params: Mapping[str, str], sorts: Sequence[str], default_sort: str, default_desc: bool) -> ListQuery:
    """The list's state from the address; anything unknown falls back to the default (never an error)."""
    sort = params.get("sort", "")
    page = params.get("page", "1")
    if sort not in sorts:
        sort, desc = default_sort, default_desc
    else:
        desc = params.get("dir", "") == "desc"
    return ListQuery(q=" ".join(params.get("q", "").split())[:MAX_QUERY], sort=sort, desc=desc,
                     page=int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1)


@dataclass(frozen=True, slots=True)
class Arranged(Generic[R]):
    rows: list[R]  # the rows of the page asked for
    matching: int  # rows that match the search
    every: list[R]  # ...those rows, in order, on every page
    pages: int
    page: int  # the page shown (the last one when a page past the end was asked for)


def arrange(rows: Sequence[R], query: ListQuery, keys: Mapping[str, Callable[[R], Any]],
            words: Callable[[R], str], per_page: int = PER_PAGE) -> Arranged[R]:
    """Filter ``rows`` by the search (every word of it found in ``words(row)``, diacritics and case
    ignored), sort them by ``keys[query.sort]`` (stable: ties keep the given order), cut out one page."""
    needles = fold(query.q).split()
    found = [r for r in rows if all(n in fold(words(r)) for n in needles)] if needles else list(rows)
    key = keys.get(query.sort)
    if key is not None:
        found.sort(key=key, reverse=query.desc)
    pages = max(1, -(-len(found) // per_page))
    page = min(query.page, pages)
    return Arranged(found[(page - 1) * per_page: page * per_page], len(found), found, pages, page)


def search_form(path: str, query: ListQuery, label: str, sorts: Sequence[tuple[str, str]] = ()) -> Html:
    """A GET form: the search box (keeps the sort; a new search starts at page 1). With ``sorts`` ((key,
    label) of each order the list has, the first its default), the sort is a choice of its own too, with
    its direction: a phone shows fewer columns than the list sorts by (the stylesheet shows the choice on
    narrow screens only; hidden, it still carries the sort the headers chose)."""
    if sorts:
        options = join(tag("option", name, value=key, selected=key == query.sort) for key, name in sorts)
        directions = join(tag("option", t(f"web.list.{d}"), value=v, selected=query.desc == (v == "desc"))
                          for d, v in (("ascending", ""), ("descending", "desc")))
        keep = Html(f'<span class="sort-pick"><label for="sort">{esc(t("web.list.sort_by"))}</label>'
                    f'<select id="sort" name="sort">{options}</select>'
                    f'<select name="dir" aria-label="{esc(t("web.list.order"))}">{directions}</select>'
                    f'<button type="submit" class="secondary">{esc(t("web.list.sort"))}</button></span>')
    else:
        keep = join(Html(f'<input type="hidden" name="{k}" value="{esc(v)}">')
                    for k, v in (("sort", query.sort), ("dir", "desc" if query.desc else "")) if v)
    clear = tag("a", t("web.list.clear"), href=query.href(path, q="", page=1), class_="clear") if query.q else ""
    return Html(f'<form method="get" action="{esc(path)}" class="search" role="search">'
                f'<label for="q" class="sr">{esc(label)}</label>'
                f'<input id="q" name="q" type="search" value="{esc(query.q)}" placeholder="{esc(label)}"'
                f' maxlength="{MAX_QUERY}"><button type="submit">{esc(t("web.list.search"))}</button>{clear}'
                f"{keep}</form>")


def sort_header(path: str, query: ListQuery, key: str, label: str, first_desc: bool = False,
                class_: str | None = None) -> Html:
    """A column header that sorts by ``key`` (a second click turns the order round)."""
    current = query.sort == key
    desc = (not query.desc) if current else first_desc
    arrow = ("▼" if query.desc else "▲") if current else ""
    aria = ("descending" if query.desc else "ascending") if current else None
    link = tag("a", Html(esc(label) + (Html(f' <span aria-hidden="true">{arrow}</span>') if arrow else "")),
               href=query.href(path, sort=key, desc=desc, page=1), class_="sort")
    return tag("th", link, aria_sort=aria, class_=class_)


def pager(path: str, query: ListQuery, shown: Arranged[Any]) -> Html:
    """"Trang 2/4 · 101–200 của 381", with the previous and next pages as links."""
    if shown.matching == 0:
        return Html("")
    first = (shown.page - 1) * PER_PAGE + 1
    where = t("web.list.page", page=shown.page, pages=shown.pages, first=first, last=first + len(shown.rows) - 1,
              total=shown.matching)
    prev = tag("a", t("web.list.prev"), href=query.href(path, page=shown.page - 1), rel="prev",
               class_="button secondary") if shown.page > 1 else ""
    nxt = tag("a", t("web.list.next"), href=query.href(path, page=shown.page + 1), rel="next",
              class_="button secondary") if shown.page < shown.pages else ""
    return Html(f'<nav class="pager" aria-label="{esc(t("web.list.pages"))}">{prev}'
                f'<span class="where">{esc(where)}</span>{nxt}</nav>')
