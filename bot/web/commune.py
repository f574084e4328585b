"""Views designed for communes: a commune's page shows its villages with columns of their own (status,
election date and head, the head's party status, the branch secretary, days late); the late villages are
grouped under their commune, named once."""

from __future__ import annotations

from datetime import date

from bot.web.guard import Ctx
from bot.web.html import Html, esc, join, table, tag
from models.db import DbSession
from models.progress.commune import VillageRow
from models.reminders.rules import Due, late_villages
from models.units.tables import Unit
from reports.late_text import by_commune, days_late, late_what
from reports.merger_text import missing_short
from texts.catalog import t
from texts.fmt import fmt_date


def _election(row: VillageRow) -> str:
    if row.election_date is None:
        return ""
    return t("web.commune.elected_on", date=fmt_date(row.election_date), head=row.head_name or "")


def _named(name: str, code: str) -> Html:
    """A village's name, linked to its page, and its code (what staff commands name it by)."""
    return join((tag("a", name, href=f"/v/{code}"), Html(" "), tag("span", code, class_="code")))


def _secretary(row: VillageRow) -> str:
    if not row.secretary_name:
        return ""
    return t("web.commune.secretary_is_head") if row.merged else row.secretary_name


def _status(row: VillageRow) -> str:
    """The status in words; a pending merger says which decision it waits for."""
    text = t(f"status.{row.status}")
    return f"{text} ({missing_short(row.missing)})" if row.missing else text


async def village_table(ctx: Ctx, db: DbSession, commune: Unit, today: date, rows: list[VillageRow]) -> Html:
    """``rows``: the commune's villages (``models.progress.commune.village_rows``), the same rows its counts
    by status are tallied from."""
    assert commune.id is not None
    late, _ = await late_villages(db, ctx.rules, today, commune.id, limit=max(len(rows), 1))
    late_by = {d.village_id: max((today - d.since).days, 0) for d in late}
    headers = [t("web.late.village"), t("web.progress.status"), t("web.commune.election"), t("web.commune.party"),
               t("web.commune.secretary"), t("web.commune.late_by")]
    return table(headers, ([_named(r.name, r.code),
                            tag("span", _status(r), class_=f"status s-{r.status}"),
                            _election(r), t(f"party.{r.party_status}") if r.party_status else "", _secretary(r),
                            t("web.commune.days", n=late_by[r.id]) if r.id in late_by else ""]
                           for r in rows), class_="grid villages")


def late_table(late: list[Due], parents: dict[int, str], today: date, one_commune: bool) -> Html:
    """The late villages, oldest first, grouped under their commune (named once per group; not at all
    for a commune's own staff), what is late and the days late each in its own column."""
    head = join(tag("th", h) for h in (t("web.late.village"), t("web.late.reason"), t("web.late.days")))
    body = []
    for commune, dues in ([("", late)] if one_commune else by_commune(late, parents)):
        if commune:
            body.append(Html(f'<tr class="group"><th colspan="3">{esc(commune)}</th></tr>'))
        body += [tag("tr", join(tag("td", c) for c in (_named(d.village_name, d.village_code),
                                                       late_what(d), days_late(d, today)))) for d in dues]
    return Html(f'<div class="scroll"><table class="grid late"><thead><tr>{head}</tr></thead>'
                f"<tbody>{join(body)}</tbody></table></div>")
