"""``/dangvien``: the head's party status changes — full membership, admission, a planned admission.

Each is an event with audit (models.merger.records.record_party_event), never a revision of the
election report. The choices offered follow the current status; the steps are the table ``STEPS``.
"""

from __future__ import annotations

from typing import Literal

from handlers.context import HeadContext, as_head
from handlers.flow import (
    END,
    Flow,
    FlowState,
    Invalid,
    Question,
    Step,
    answer_text,
    labelled,
    must_choose,
    must_yes_no,
    yes_no_choices,
)
from handlers.messages import Choice
from handlers.parsing import parse_date
from models.election.reports import get_election
from models.merger.records import record_party_event
from models.merger.rules import add_months, eligible_from
from models.refusal import Refused
from texts.catalog import t
from texts.fmt import fmt_date, from_iso, iso, planned_examples
from texts.titles import honorific

PartyStep = Literal["kind", "date", "confirm"]
KINDS = {"probationary": ("full_member",), "non_member": ("admitted", "admission_planned")}


def kind_choices(party: str) -> list[Choice]:
    return labelled("merger.party_choice", KINDS.get(party, ()))


def refusal(reason: str, eligible: str | None = None) -> str:
    return t(f"merger.party.refused.{reason}", eligible=fmt_date(eligible))


def ask_kind(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t("merger.party.ask_kind"), kind_choices(state.data["party"]), free_text=False)


def ask_date(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t(f"merger.party.ask_date_{state.data['kind']}", **planned_examples(ctx.today)))


def ask_confirm(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t(f"merger.party.confirm_{state.data['kind']}", head=state.data["head"],
                      date=fmt_date(state.data["on"])), yes_no_choices())


async def take_kind(ctx: HeadContext, state: FlowState) -> PartyStep | None:
    state.data["kind"] = must_choose(ctx, kind_choices(state.data["party"]))
    return "date"


async def take_date(ctx: HeadContext, state: FlowState) -> PartyStep | None:
    kind = state.data["kind"]
    on = parse_date(answer_text(ctx), ctx.today, "future" if kind == "admission_planned" else "past")
    if on is None:
        raise Invalid("merger.party.bad_date")
    if kind != "admission_planned" and on > ctx.today:
        raise Invalid("merger.party.refused.date_in_future")
    if kind == "admission_planned" and on < ctx.today:
        raise Invalid("merger.party.refused.planned_in_past")
    admitted = from_iso(state.data.get("party_date"))
    if kind == "full_member" and admitted is not None and on < add_months(admitted, 12):
        raise Invalid("merger.party.refused.before_eligible", eligible=fmt_date(add_months(admitted, 12)))
    state.data["on"] = iso(on)
    return "confirm"


async def take_confirm(ctx: HeadContext, state: FlowState) -> PartyStep | None:
    if not must_yes_no(ctx):
        return "date"
    d = state.data
    on = from_iso(d["on"])
    assert on is not None
    try:
        await record_party_event(ctx.session, ctx.village_id, d["kind"], on, ctx.actor, ctx.now, ctx.today)
    except Refused as err:
        ctx.say(refusal(err.reason, d.get("party_date")))
        return END
    eligible = eligible_from("probationary", on)
    ctx.say(t(f"merger.party.saved_{d['kind']}", head=d["head"], date=fmt_date(on), eligible=fmt_date(eligible)))
    return END


STEPS: dict[PartyStep, Step[HeadContext, PartyStep]] = {
    "kind": Step(ask_kind, take_kind, ("date",)),
    "date": Step(ask_date, take_date, ("confirm",)),
    "confirm": Step(ask_confirm, take_confirm, ("date",)),
}


async def begin(ctx: HeadContext) -> FlowState | None:
    election = await get_election(ctx.session, ctx.village_id)
    if election is None:
        ctx.say(t("merger.party.refused.no_election"))
        return None
    if election.valid is False:  # nobody was elected: no head whose party status could change
        ctx.say(t("merger.party.refused.no_head"))
        return None
    head, party = election.head_name, election.party_status
    if party == "member":
        ctx.say(t("merger.party.already_member", head=head))
        return None
    lines = [t("merger.party.title", who=honorific(party), head=head, party=t(f"party.{party}"))]
    eligible = eligible_from(party, election.party_date)
    if eligible is not None:
        lines.append(t("merger.party.eligible", date=fmt_date(eligible)))
    ctx.say("\n".join(lines))
    data = {"head": head, "party": party, "party_date": iso(election.party_date)}
    if party == "probationary":
        return FlowState("date", {**data, "kind": "full_member"})
    return FlowState("kind", data)


FLOW = Flow("party", begin, STEPS, entries=("kind", "date"), context=as_head)
