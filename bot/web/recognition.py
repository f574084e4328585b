"""The commune's decision on the village page: recognise the result (decision number and date) or order
a new vote. The same domain function as the chat's ``/congnhan`` and ``/baulai`` (models.election.recognition);
the village's heads are told through the outbox; a bad form changes nothing and says why."""

from __future__ import annotations

from datetime import date

from aiohttp import web

from bot.web.guard import Signed, page
from bot.web.html import Html, esc, hidden_csrf
from models.clock import utcnow
from models.election.recognition import decide, tell_heads
from models.election.reports import Actor
from models.election.tables import ElectionReport
from models.progress.dashboard import unit_by_code
from models.refusal import Refused
from models.units.tables import Unit
from texts.catalog import t
from texts.fmt import fmt_date


def decision_form(ctx: Signed, village: Unit, election: ElectionReport | None) -> Html:
    """Shown while a result awaits the commune's decision."""
    if election is None or election.recognition is not None or election.vacated_on is not None:
        return Html("")
    recognise = "" if election.valid is False else f"""
<label>{esc(t("web.decision.number"))}<input name="decision" maxlength="80"></label>
<label>{esc(t("web.decision.date"))}<input name="date" type="date"></label>
<button type="submit" name="action" value="recognise">{esc(t("web.decision.recognise"))}</button>"""
    return Html(f"""<section class="card"><h2>{esc(t("web.decision.title"))}</h2>
<form method="post" action="/v/{esc(village.code)}/decision" class="decision">{hidden_csrf(ctx.csrf)}{recognise}
<button type="submit" name="action" value="new_vote">{esc(t("web.decision.new_vote"))}</button></form></section>""")


@page()
async def decision_submit(request: web.Request, ctx: Signed) -> web.StreamResponse:
    form = await request.post()
    action = str(form.get("action", ""))
    number = str(form.get("decision", "")).strip()[:80]
    try:
        on: date | None = date.fromisoformat(str(form.get("date", "")))
    except ValueError:
        on = None
    now = utcnow()
    async with ctx.sessions() as db, db.begin():
        village = await unit_by_code(db, ctx.config.bot.period, request.match_info["code"])
        if village is None or village.level != "village" or village.id is None or not await ctx.within(db, village):
            return ctx.not_found()
        if action not in ("recognise", "new_vote") or (action == "recognise" and (not number or on is None)):
            return ctx.render(t("web.decision.title"), _message(village, t("web.decision.incomplete"), False),
                              status=400)
        try:
            report = await decide(db, village.id, new_vote=action == "new_vote", decision=number or None,
                                  on=on if action == "recognise" else ctx.today, actor=Actor(None, "web"), now=now,
                                  today=ctx.today)
        except Refused as err:
            return ctx.render(t("web.decision.title"), _message(
                village, t(f"recognition.refused.{err.reason}", village=village.full_name), False), status=400)
        if action == "recognise":
            text = t("recognition.head_recognised", decision=number, date=fmt_date(on))
        else:
            text = t("recognition.head_new_vote")
        await tell_heads(db, village, f"{'recognised' if action == 'recognise' else 'new_vote'}:{village.code}:"
                                      f"{report.election_no}", text, now)
    done = t("web.decision.saved_" + action, village=village.full_name)
    return ctx.render(t("web.decision.title"), _message(village, done, True))


def _message(village: Unit, text: str, ok: bool) -> Html:
    link = f'<p><a href="/v/{esc(village.code)}">{esc(village.full_name)}</a></p>'
    return Html(f'<p class="{"ok" if ok else "error"}" id="decision-result">{esc(text)}</p>{link}')
