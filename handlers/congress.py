"""``/daihoi``: the branch congress — its planned date (moves kept), then its result.

Merged when the elected secretary is the village head (names compared without case, extra spaces
or diacritic differences, and confirmed); otherwise the reason is asked and recorded as a code (a
typed reason is kept as a note). The steps are the table ``STEPS``.
"""

from __future__ import annotations

from typing import Any, Literal

from handlers.context import HeadContext, as_head
from handlers.flow import (
    END,
    Flow,
    FlowState,
    Invalid,
    Question,
    Step,
    answer_text,
    choose,
    labelled,
    must_choose,
    must_yes_no,
    yes_no_choices,
)
from handlers.merger_text import party_facts, refusal_for, refusal_text
from handlers.messages import Choice
from handlers.parsing import parse_date, parse_person_name, same_person
from models.election.reports import (
    get_congress,
    get_election,
    plan_congress,
    record_congress_result,
)
from models.merger.rules import CHOSEN
from models.refusal import Refused
from texts.catalog import has, t
from texts.fmt import fmt_date, from_iso, iso, planned_examples
from texts.titles import head_title

CongressStep = Literal["menu", "plan_date", "plan_confirm", "held_date", "method", "secretary", "same_person",
                      "reason", "result_confirm"]
OFFERED_REASONS = ("head_not_member", "other_elected")
REASONS = (*OFFERED_REASONS, "other")  # "other": the head typed the reason (kept as a note)


def reason_text(code: str | None, note: str | None = None) -> str:
    """How a stored reason reads: the catalog's label, or the head's own words."""
    if note:
        return note
    return t(f"congress.reason.{code}") if code in REASONS else (code or "")


def menu_choices(planned: bool) -> list[Choice]:
    out = [Choice("result", t("congress.menu.result"))]
    out.insert(0 if not planned else 1, Choice("plan", t("congress.menu.move" if planned else "congress.menu.plan")))
    return out


def reason_choices(party: str | None = None) -> list[Choice]:
    """The reasons offered; for a full-member head, not "not a full member"."""
    return labelled("congress.reason", OFFERED_REASONS if party != "member" else ("other_elected",))


def method_choices() -> list[Choice]:
    return labelled("merger.method", CHOSEN)


def result_summary(d: dict[str, Any]) -> str:
    lines = [t("congress.summary.title"), t("congress.summary.held", date=fmt_date(d["held"])),
             t("merger.summary.method", method=t(f"merger.method.{d.get('method') or 'congress'}")),
             t("congress.summary.secretary", name=d["secretary"])]
    if d["merged"]:
        lines.append(t("congress.summary.merged"))
    else:
        lines.append(t("congress.summary.not_merged", reason=reason_text(d.get("reason"), d.get("note"))))
    return "\n".join(lines)


# --- the questions -----------------------------------------------------------------------------
def ask_menu(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t("congress.ask.menu"), menu_choices(bool(state.data.get("planned"))), free_text=False)


def ask_plain(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t(f"congress.ask.{state.step}", **planned_examples(ctx.today)))


def ask_plan_confirm(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t("congress.ask.plan_confirm", date=fmt_date(state.data["new_planned"])), yes_no_choices())


def ask_same_person(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t("congress.ask.same_person", name=state.data["secretary"], head=state.data["head"]),
                    yes_no_choices())


def ask_reason(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t("congress.ask.reason"), reason_choices(state.data.get("party")))


def ask_method(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t("merger.ask.method"), method_choices(), free_text=False)


def ask_result_confirm(ctx: HeadContext, state: FlowState) -> Question:
    return Question(result_summary(state.data) + "\n\n" + t("congress.ask.result_confirm"), yes_no_choices())


# --- taking the answers ------------------------------------------------------------------------
async def take_menu(ctx: HeadContext, state: FlowState) -> CongressStep | None:
    picked = must_choose(ctx, menu_choices(bool(state.data.get("planned"))))
    return "plan_date" if picked == "plan" else "held_date"


async def take_plan_date(ctx: HeadContext, state: FlowState) -> CongressStep | None:
    planned = parse_date(answer_text(ctx), ctx.today, "future")
    if planned is None:
        raise Invalid("congress.bad.date")
    if planned < ctx.today:
        raise Invalid("congress.bad.plan_past", today=fmt_date(ctx.today))
    state.data["new_planned"] = iso(planned)
    return "plan_confirm"


async def take_plan_confirm(ctx: HeadContext, state: FlowState) -> CongressStep | None:
    if not must_yes_no(ctx):
        return "plan_date"
    await _save_plan(ctx, state)
    return END


async def take_held_date(ctx: HeadContext, state: FlowState) -> CongressStep | None:
    held = parse_date(answer_text(ctx), ctx.today, "past")
    if held is None:
        raise Invalid("congress.bad.date")
    if held > ctx.today:
        raise Invalid("congress.bad.held_future", today=fmt_date(ctx.today))
    elected = from_iso(state.data.get("elected"))
    if elected is not None and held < elected:
        raise Invalid("congress.bad.held_before_election", date=fmt_date(elected))
    state.data["held"] = iso(held)
    return "method"


async def take_method(ctx: HeadContext, state: FlowState) -> CongressStep | None:
    state.data["method"] = must_choose(ctx, method_choices())
    return "secretary"


async def take_secretary(ctx: HeadContext, state: FlowState) -> CongressStep | None:
    name = parse_person_name(answer_text(ctx))
    if name is None:
        raise Invalid("congress.bad.name")
    state.data.update(secretary=name, merged=False)
    return "same_person" if same_person(name, state.data["head"]) else "reason"


async def take_same_person(ctx: HeadContext, state: FlowState) -> CongressStep | None:
    if not must_yes_no(ctx):
        return "reason"
    held = from_iso(state.data["held"])
    assert held is not None
    refusal = refusal_for(state.data, held)
    if refusal is not None:  # nothing saved: the reason, and from when it would be possible
        ctx.say(refusal_text(refusal, state.data["head"], held))
        return END
    state.data.update(merged=True, secretary=state.data["head"], reason=None, note=None)
    return "result_confirm"


async def take_reason(ctx: HeadContext, state: FlowState) -> CongressStep | None:
    picked = choose(ctx, reason_choices(state.data.get("party")))
    text = answer_text(ctx)
    if picked is None and len(text) < 3:
        raise Invalid("congress.bad.reason")
    state.data.update(merged=False, reason=picked or "other", note=None if picked else text[:500])
    return "result_confirm"


async def take_result_confirm(ctx: HeadContext, state: FlowState) -> CongressStep | None:
    if not must_yes_no(ctx):
        return "held_date"
    await _save_result(ctx, state)
    return END


STEPS: dict[CongressStep, Step[HeadContext, CongressStep]] = {
    "menu": Step(ask_menu, take_menu, ("plan_date", "held_date")),
    "plan_date": Step(ask_plain, take_plan_date, ("plan_confirm",)),
    "plan_confirm": Step(ask_plan_confirm, take_plan_confirm, ("plan_date",)),
    "held_date": Step(ask_plain, take_held_date, ("method",)),
    "method": Step(ask_method, take_method, ("secretary",)),
    "secretary": Step(ask_plain, take_secretary, ("same_person", "reason")),
    "same_person": Step(ask_same_person, take_same_person, ("reason", "result_confirm")),
    "reason": Step(ask_reason, take_reason, ("result_confirm",)),
    "result_confirm": Step(ask_result_confirm, take_result_confirm, ("held_date",)),
}


async def begin(ctx: HeadContext) -> FlowState | None:
    election = await get_election(ctx.session, ctx.village_id)
    if election is None:
        ctx.say(t("congress.need_election"))
        return None
    if election.valid is False:  # nobody was elected: no head to be the secretary too
        ctx.say(t("congress.need_valid_election"))
        return None
    congress = await get_congress(ctx.session, ctx.village_id)
    data = {"head": election.head_name, "elected": iso(election.election_date),
            "planned": iso(congress.planned_date) if congress else None,
            **party_facts(election.party_status, election.party_date, election.admission_planned_date)}
    if congress is not None and congress.method == "already_secretary":
        title = head_title(ctx.unit.type, ctx.unit.name, ctx.unit.full_name)
        ctx.say(t("merger.baucu.merged_at_once", head=election.head_name, title=title[:1].lower() + title[1:]))
        return None
    if congress is not None and congress.held_date is not None:
        merged = (t("congress.summary.merged") if congress.merged else t(
            "congress.summary.not_merged", reason=reason_text(congress.not_merged_reason, congress.not_merged_note)))
        ctx.say(t("congress.on_file", held=fmt_date(congress.held_date), name=congress.secretary_name or "",
                  merged=merged))
        return FlowState("held_date", data)
    if congress is not None and congress.planned_date is not None:
        ctx.say(t("congress.planned_on_file", date=fmt_date(congress.planned_date)))
    return FlowState("menu", data)


async def _save_plan(ctx: HeadContext, state: FlowState) -> None:
    new = from_iso(state.data["new_planned"])
    assert new is not None
    try:
        await plan_congress(ctx.session, ctx.village_id, new, ctx.actor, ctx.now, ctx.today)
    except Refused as err:
        ctx.say(t(f"congress.refused.{err.reason}"))
        return
    old = state.data.get("planned")
    key = "congress.plan_moved" if old and old != state.data["new_planned"] else "congress.plan_saved"
    ctx.say(t(key, date=fmt_date(new), old=fmt_date(old)))


async def _save_result(ctx: HeadContext, state: FlowState) -> None:
    d = state.data
    held = from_iso(d["held"])
    assert held is not None
    try:
        await record_congress_result(ctx.session, ctx.village_id, held_date=held, secretary_name=d["secretary"],
                                     merged=d["merged"], reason=d.get("reason"), note=d.get("note"),
                                     actor=ctx.actor, now=ctx.now, today=ctx.today,
                                     method=d.get("method") or "congress")
    except Refused as err:
        ctx.say(t(f"merger.refused.{err.reason}" if has(f"merger.refused.{err.reason}") else
                  f"congress.refused.{err.reason}"))
        return
    ctx.say(t("congress.result_saved_merged" if d["merged"] else "congress.result_saved", village=ctx.unit.full_name))


FLOW = Flow("congress", begin, STEPS, entries=("menu", "held_date"), context=as_head)
