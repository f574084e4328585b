"""A tiny server-side renderer: every value is escaped unless it is already :class:`Html`.

Pages are plain functions returning :class:`Html`; all words come from the catalog (``web.toml``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from urllib.parse import quote

from aiohttp import web

from texts.catalog import t


class Html(str):
    """Markup that is safe to insert as it is."""


def esc(value: object) -> Html:
    if isinstance(value, Html):
        return value
    if value is None:
        return Html("")
    return Html(escape(str(value), quote=True))


def join(parts: Iterable[object]) -> Html:
    return Html("".join(esc(p) for p in parts))


def tag(name: str, body: object = "", **attrs: object) -> Html:
    """``tag("a", "text", href="/x", class_="y")``; ``None``/``False`` attributes are left out."""
    rendered = []
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        key = key.rstrip("_").replace("_", "-")
        rendered.append(f' {key}' if value is True else f' {key}="{esc(value)}"')
    return Html(f"<{name}{''.join(rendered)}>{esc(body)}</{name}>")


def table(headers: list[str], rows: Iterable[Sequence[object]], class_: str = "grid") -> Html:
    head = join(tag("th", h) for h in headers)
    body = join(tag("tr", join(tag("td", c) for c in row)) for row in rows)
    return Html(f'<div class="scroll"><table class="{esc(class_)}"><thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table></div>")


def bar(elected: int, merged: int, total: int) -> Html:
    """A bar: the elected share (light) with the merged share (dark) over it; SVG, no inline CSS."""
    if total <= 0:
        return Html("")
    e, m = 100 * elected / total, 100 * merged / total
    return Html(f'<svg class="bar" viewBox="0 0 100 8" preserveAspectRatio="none" role="img" '
                f'aria-label="{round(e)}%"><rect class="bar-bg" width="100" height="8"/>'
                f'<rect class="bar-elected" width="{e:.2f}" height="8"/>'
                f'<rect class="bar-merged" width="{m:.2f}" height="8"/></svg>')


def attachment_headers(filename: str, mime_type: str) -> dict[str, str]:
    """Headers for a download; the name is made header-safe (RFC 6266 ``filename*`` for non-ASCII)."""
    clean = "".join(ch for ch in filename if ch.isprintable() and ch not in '"\\/;')
    ascii_name = clean.encode("ascii", "ignore").decode() or "file"
    return {"Content-Type": mime_type,
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(clean)}"}


def hidden_csrf(token: str) -> Html:
    return Html(f'<input type="hidden" name="csrf" value="{esc(token)}">')


def layout(title: str, body: Html, *, csrf: str, nav: Html | None = None, status: int = 200) -> web.Response:
    """The page frame; ``nav`` is the menu of a logged-in user (none on the login page)."""
    page = f"""<!doctype html>
<html lang="{esc(t("web.lang"))}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="{esc(csrf)}">
<title>{esc(title)} · {esc(t("web.site_short"))}</title>
<link rel="stylesheet" href="/static/style.css"></head>
<body><header class="top"><a class="brand" href="/">{esc(t("web.site_short"))}</a>{nav or ""}</header>
<main><h1>{esc(title)}</h1>
{body}</main></body></html>"""
    return web.Response(text=page, content_type="text/html", charset="utf-8", status=status)
