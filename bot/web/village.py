"""A village: its status, current reports, every revision and the audit trail."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.web.change_log import action_label, event_field, event_value
from bot.web.dashboard import breadcrumb
from bot.web.guard import Signed, page
from bot.web.html import Html, esc, join, table, tag
from bot.web.merger_forms import village_forms
from bot.web.photos import photo_list
from bot.web.recognition import decision_form
from models.election.record import RECORD_DATES, RECORD_FIELDS, record_notes
from models.election.reports import (
    CONGRESS_FIELDS,
    ELECTION_FIELDS,
    audit_trail,
    get_congress,
    get_election,
    revisions,
)
from models.election.tables import AuditEvent
from models.election.vacancy import vacancy_notes
from models.merger.rules import missing_decisions
from models.photos.store import list_photos
from models.progress.dashboard import unit_by_code
from models.progress.status import village_status
from models.units.changes import predecessors
from reports.merger_text import missing_text
from texts.catalog import has, t
from texts.fmt import fmt_date, fmt_values
from texts.fmt import fmt_datetime as fmt_dt

DATE_FIELDS = {"election_date", "party_date", "planned_date", "held_date", "admission_planned_date", "approval_date",
               *RECORD_DATES, "interim_appointed_on"}


def show_value(field: str | None, value: Any) -> str:
    """A stored value as a clerk reads it: dates dd/mm/yyyy, party status and yes/no in words."""
    if value is None or value == "":
        return t("web.village.empty")
    if field in DATE_FIELDS:
        return fmt_date(value)
    if field == "method" and has(f"merger.method.{value}"):
        return t(f"merger.method.{value}")
    if field == "party_status" and str(value) in ("member", "probationary", "non_member"):
        return t(f"party.{value}")
    if field == "not_merged_reason" and has(f"congress.reason.{value}"):
        return t(f"congress.reason.{value}")
    if field in ("election_kind", "recognition") and has(f"web.value.{field}.{value}"):
        return t(f"web.value.{field}.{value}")
    if isinstance(value, bool) or (field == "merged" and value in ("yes", "no")):
        return t("web.village.yes") if value in (True, "yes") else t("web.village.no")
    return str(value)


def report_card(title: str, report: object | None, fields: tuple[str, ...], tz: ZoneInfo) -> Html:
    if report is None:
        return Html(f'<section class="card"><h2>{esc(title)}</h2><p>{esc(t("web.village.no_report"))}</p></section>')
    items = join(Html(f"<dt>{esc(field_label(f))}</dt><dd>{esc(show_value(f, getattr(report, f)))}</dd>")
                 for f in fields if getattr(report, f) is not None)
    updated = fmt_dt(getattr(report, "updated_at", None), tz)
    items = Html(items + f"<dt>{esc(t('web.field.updated_at'))}</dt><dd>{esc(updated)}</dd>")
    return Html(f'<section class="card"><h2>{esc(title)}</h2><dl>{items}</dl></section>')


def summary(data: dict[str, Any]) -> Html:
    return join(Html(f"<div>{esc(field_label(k))}: {esc(show_value(k, v))}</div>")
                for k, v in data.items() if v is not None)


def field_label(field: str | None) -> str:
    """A field's label (the dashboard's, else this view's own), never a raw name when one is known."""
    for key in (f"web.field.{field}", f"web.audit.field.{field}"):
        if has(key):
            return t(key)
    return field or ""


def channel_label(channel: str | None) -> str:
    key = f"web.audit.channel.{channel}"
    return t(key) if has(key) else (channel or "")


def changed(trail: list[AuditEvent]) -> list[AuditEvent]:
    """The events that change what a clerk sees, newest first ("(trống) → (trống)" left out)."""
    return [e for e in reversed(trail)
            if event_value(e.field, e.old, show_value) != event_value(e.field, e.new, show_value)]


@page()
async def village_page(request: web.Request, ctx: Signed) -> web.StreamResponse:
    tz = ctx.config.tz
    async with ctx.sessions() as db:
        village = await unit_by_code(db, ctx.config.bot.period, request.match_info["code"])
        if village is None or village.level != "village" or not await ctx.within(db, village):
            return ctx.not_found()
        assert village.id is not None
        crumbs = await breadcrumb(ctx, db, village)
        status = await village_status(db, village.id, ctx.today, ctx.rules.congress_deadline)
        election = await get_election(db, village.id)
        congress = await get_congress(db, village.id)
        earlier = await predecessors(db, village.id)  # merged or split villages whose history this one carries
        revs, trail = await revisions(db, village.id), await audit_trail(db, village.id)
        for old in earlier:
            assert old.id is not None
            revs += await revisions(db, old.id)
            trail += await audit_trail(db, old.id)
        revs.sort(key=lambda r: r.created_at)
        trail.sort(key=lambda e: e.at)
        notes = record_notes(election) + await vacancy_notes(db, village.id)
        photos = await list_photos(db, [village.id, *(u.id for u in earlier if u.id is not None)])
    if status == "merger_pending" and election is not None:  # which decision the merger waits for
        approved = congress is not None and congress.approval_date is not None
        missing = missing_decisions(election.recognition, congress.method if congress else None, approved)
        notes.append(("missing", {"missing": missing_text(missing)}))
    status_line = Html(f'<p>{esc(t("web.village.status"))}: '
                       f'{tag("strong", t(f"status.{status}"), class_=f"status s-{status}", id="village-status")}</p>'
                       + "".join(f'<p class="record-note">{esc(t(f"statuscmd.record.{key}", **fmt_values(values)))}</p>'
                                 for key, values in notes))
    history = table(
        [t("web.village.at"), t("web.village.kind"), t("web.village.revision"), t("web.village.channel"),
         t("web.village.content")],
        ([fmt_dt(r.created_at, tz), t(f"web.village.kind_{r.kind}"), r.revision, channel_label(r.channel),
          summary(r.data)]
         for r in reversed(revs)), class_="grid history") if revs else tag("p", t("web.village.no_history"))
    audit = table(
        [t("web.village.at"), t("web.village.channel"), t("web.village.action"), t("web.village.field"),
         t("web.village.change")],
        ([fmt_dt(e.at, tz), channel_label(e.channel), action_label(e.action), event_field(e.field, field_label),
          f"{event_value(e.field, e.old, show_value)} → {event_value(e.field, e.new, show_value)}"]
         for e in changed(trail)), class_="grid audit") if trail else tag("p", t("web.village.no_history"))
    body = Html(crumbs + status_line
                + Html('<div class="cards">')
                + report_card(t("web.village.election"), election, (*ELECTION_FIELDS, *RECORD_FIELDS), tz)
                + report_card(t("web.village.congress"), congress, CONGRESS_FIELDS, tz)
                + Html("</div>") + village_forms(ctx, village.code) + decision_form(ctx, village, election)
                + photo_list(photos, tz)
                + (tag("p", t("web.village.predecessors", names=", ".join(f"{u.full_name} ({u.code})"
                                                                           for u in earlier)),
                       id="predecessors") if earlier else Html(""))
                + Html(f"<h2>{esc(t('web.village.history'))}</h2>") + history
                + Html(f"<h2>{esc(t('web.village.audit'))}</h2>") + audit)
    return ctx.render(t("web.village.title", village=village.full_name), body)
