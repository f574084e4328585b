"""``/baucu``: the village-head election result — asked field by field, confirmed, receipted.

The vote-count record is asked in the order of the paper form, two numbers a question (or one by one),
or taken in one message (handlers/election_counts.py); the phone is optional. When a result is already on file, the same
command shows it and asks what to change (a correction: a new revision with an audit event,
models.election.reports) — unless the village must elect again (an invalid result, a new vote ordered, a
vacancy, the term over): then it is a new election (handlers/election_new.py). The steps are ``STEPS``.
"""

from __future__ import annotations

from typing import Any, Literal

from handlers.context import HeadContext, as_head
from handlers.election_counts import ask_count, readback, take_count, validity_lines
from handlers.election_new import after_save, ask_new_or_fix, begin_new, new_kind, take_new_or_fix
from handlers.election_phone import ask_phone, phone_line, take_phone
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
    must_yes_no,
    yes_no,
    yes_no_choices,
)
from handlers.messages import Choice
from handlers.parsing import parse_date, parse_person_name
from models.election.record import validity
from models.election.reports import (
    ELECTION_FIELDS,
    NOT_ASKED,
    ElectionData,
    get_congress,
    get_election,
    record_election,
)
from models.merger.records import record_already_secretary
from models.refusal import Refused
from texts.catalog import t
from texts.fmt import fmt_date, fmt_time_date, from_iso, iso, planned_examples
from texts.titles import head_title

ElectionStep = Literal["election_date", "head_name", "head_name_accents", "roll", "attendees", "valid_ballots",
                       "votes_for", "party_status", "party_date", "already_secretary", "head_phone", "new_or_fix",
                       "confirm", "edit_menu"]
FIELDS: tuple[ElectionStep, ...] = ("election_date", "head_name", "roll", "attendees", "valid_ballots", "votes_for",
                                    "party_status", "head_phone")
COUNTS: tuple[ElectionStep, ...] = ("roll", "attendees", "valid_ballots", "votes_for")  # FORM_ORDER, as steps
# where an answer leads: the first question still unanswered (:func:`next_step`), or the summary
FORWARD: tuple[ElectionStep, ...] = (*FIELDS, "party_date", "already_secretary", "confirm")
PARTY_CHOICES = ("member", "probationary", "planned", "non_member")
ANSWERED = {"party_status": "party_choice", "head_phone": "phone_asked"}
WINNER_ONLY = ("party_status", "head_phone")  # about the new head: not asked when nobody was elected


def invalid_result(data: dict[str, Any]) -> bool:
    """The counts so far say nobody was elected (quorum or majority missed)."""
    if data.get("roll") is None or data.get("votes_for") is None:
        return False
    return not validity(data["roll"], data.get("attendees"), data["votes_for"]).valid


def next_step(data: dict[str, Any]) -> ElectionStep:
    """The first question still unanswered, else the summary to confirm. After the party status come
    its date and, for a full member, "already the branch secretary?"; then the phone. For an invalid
    result nobody was elected: no party, secretary or phone questions."""
    invalid = invalid_result(data)
    for f in FIELDS:
        if invalid and f in WINNER_ONLY:
            continue
        if data.get(ANSWERED.get(f, f)) is None:
            return _party_follow_up(data) if f == "head_phone" else f
    follow_up = "confirm" if invalid else _party_follow_up(data)
    return follow_up if follow_up != "head_phone" else "confirm"


def _party_follow_up(data: dict[str, Any]) -> ElectionStep:
    if data["party_choice"] in ("probationary", "planned") and not data.get("party_date"):
        return "party_date"
    if data["party_choice"] == "member" and data.get("already_secretary") is None \
            and validity(data["roll"], data.get("attendees"), data["votes_for"]).valid:
        return "already_secretary"
    return "head_phone"


def party_choices() -> list[Choice]:
    return labelled("election.party_choice", PARTY_CHOICES)


def field_choices(data: dict[str, Any]) -> list[Choice]:
    """What can be corrected: every question (the counts one by one, or all again in one message); then
    "nothing": back to the summary of a report not sent yet (``drafted``), else keep what is saved."""
    fields = [f for f in FIELDS if not (invalid_result(data) and f in WINNER_ONLY)]
    keep = t("election.keep_back" if data.get("drafted") else "election.keep")
    return [*labelled("election.field", fields), Choice("keep", keep)]


def confirm_choices() -> list[Choice]:
    return [Choice("send", t("election.confirm.send")), Choice("edit", t("election.confirm.edit")),
            Choice("cancel", t("common.cancel_choice"))]


def summary(data: dict[str, Any], on_file: bool = False) -> str:
    """The result as the head will send it; ``on_file``: as saved (introduced by ``election.on_file``, so
    no heading of its own, and a warning that no longer says it can still be sent)."""
    lines = [] if on_file else [t("election.summary.title")]
    invalid = invalid_result(data)
    lines += [t("election.summary.date", date=fmt_date(data["election_date"])),
              t("election.summary.name_invalid" if invalid else "election.summary.name", name=data["head_name"]),
              readback(data), *validity_lines(data, advice=not on_file)]
    if invalid or not data.get("party_choice"):  # nobody elected: no party status, secretary or phone
        return "\n".join(lines)
    lines.append(t("election.summary.party", party=t(f"election.party_choice.{data['party_choice']}")))
    if data.get("party_date"):
        lines.append(t(f"election.summary.party_date_{data['party_choice']}", date=fmt_date(data["party_date"])))
    if data["party_choice"] == "member" and data.get("already_secretary") is not None:
        answer = t("common.yes" if data["already_secretary"] else "common.no")
        lines.append(t("merger.summary.already_secretary", answer=answer))
    if data.get("head_phone"):
        lines.append(phone_line(data["head_phone"]))
    return "\n".join(lines)


# --- the questions -----------------------------------------------------------------------------
def ask_plain(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t(f"election.ask.{state.step}"))


def ask_party(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t("election.ask.party_status"), party_choices(), free_text=False)


def ask_party_date(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t(f"election.ask.party_date_{state.data['party_choice']}", **planned_examples(ctx.today)))


def ask_already_secretary(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t("merger.ask.already_secretary"), yes_no_choices())


def ask_confirm(ctx: HeadContext, state: FlowState) -> Question:
    return Question(summary(state.data) + "\n\n" + t("election.confirm.question"), confirm_choices())


def ask_edit(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t("election.ask.which_field"), field_choices(state.data))


# --- taking the answers ------------------------------------------------------------------------
async def take_date(ctx: HeadContext, state: FlowState) -> ElectionStep | None:
    d = parse_date(answer_text(ctx), ctx.today, "past")
    if d is None:
        raise Invalid("election.bad.date")
    if d > ctx.today:
        raise Invalid("election.bad.future", today=fmt_date(ctx.today))
    state.data["election_date"] = iso(d)
    return next_step(state.data)


async def take_name(ctx: HeadContext, state: FlowState) -> ElectionStep | None:
    name = parse_person_name(answer_text(ctx))
    if name is None:
        raise Invalid("election.bad.name")
    if name.isascii():  # typed without diacritics: ask once, gently, for the written form
        state.data["head_name_plain"] = name
        return "head_name_accents"
    state.data["head_name"] = name
    return next_step(state.data)


def ask_name_accents(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t("election.ask.name_accents", name=state.data["head_name_plain"]),
                    [Choice("keep", t("election.keep_name"))])


async def take_name_accents(ctx: HeadContext, state: FlowState) -> ElectionStep | None:
    """"Giữ nguyên" keeps the name as typed; a name typed again replaces it (and is not asked about again)."""
    if choose(ctx, [Choice("keep", t("election.keep_name"))]) == "keep":
        name: str | None = state.data["head_name_plain"]
    else:
        name = parse_person_name(answer_text(ctx))
    if name is None:
        raise Invalid("election.bad.name")
    state.data.pop("head_name_plain", None)
    state.data["head_name"] = name
    return next_step(state.data)


async def take_counts(ctx: HeadContext, state: FlowState) -> ElectionStep | None:
    return await take_count(ctx, state, next_step)


async def take_head_phone(ctx: HeadContext, state: FlowState) -> ElectionStep | None:
    return await take_phone(ctx, state, next_step)


async def take_party(ctx: HeadContext, state: FlowState) -> ElectionStep | None:
    choice = choose(ctx, party_choices())
    if choice is None:
        raise Invalid("election.bad.party")
    state.data.update(party_choice=choice, party_date=None, already_secretary=None)
    return next_step(state.data)


async def take_party_date(ctx: HeadContext, state: FlowState) -> ElectionStep | None:
    planned = state.data["party_choice"] == "planned"
    d = parse_date(answer_text(ctx), ctx.today, "future" if planned else "past")
    if d is None:
        raise Invalid("election.bad.date")
    if not planned and d > ctx.today:
        raise Invalid("election.bad.admission_future")
    state.data["party_date"] = iso(d)
    return next_step(state.data)


async def take_already_secretary(ctx: HeadContext, state: FlowState) -> ElectionStep | None:
    state.data["already_secretary"] = must_yes_no(ctx)
    return next_step(state.data)


async def take_edit(ctx: HeadContext, state: FlowState) -> ElectionStep | None:
    picked = choose(ctx, field_choices(state.data))
    if picked is None:
        raise Invalid("common.bad_choice")
    if picked == "keep" and state.data.get("drafted"):  # a report not sent yet: back to its summary
        return "confirm"
    if picked == "keep":
        ctx.say(t("election.kept"))
        return END
    return next(f for f in FIELDS if f == picked)


async def take_confirm(ctx: HeadContext, state: FlowState) -> ElectionStep | None:
    state.data["drafted"] = True  # from here on, "nothing to correct" comes back to this summary
    picked = choose(ctx, confirm_choices())
    if picked is None:
        answer = yes_no(ctx)
        picked = None if answer is None else ("send" if answer else "edit")
    if picked is None:
        raise Invalid("common.bad_choice")
    if picked == "cancel":
        ctx.say(t("common.cancelled"))
        return END
    if picked == "edit":
        return "edit_menu"
    await _save(ctx, state)
    return END


STEPS: dict[ElectionStep, Step[HeadContext, ElectionStep]] = {
    "election_date": Step(ask_plain, take_date, FORWARD),
    "head_name": Step(ask_plain, take_name, (*FORWARD, "head_name_accents")),
    "head_name_accents": Step(ask_name_accents, take_name_accents, FORWARD),
    **{c: Step(ask_count, take_counts, FORWARD, retries=COUNTS) for c in COUNTS},
    "party_status": Step(ask_party, take_party, FORWARD),
    "party_date": Step(ask_party_date, take_party_date, FORWARD),
    "already_secretary": Step(ask_already_secretary, take_already_secretary, FORWARD),
    "head_phone": Step(ask_phone, take_head_phone, FORWARD),
    "new_or_fix": Step(ask_new_or_fix, take_new_or_fix, ("election_date", "edit_menu")),
    "confirm": Step(ask_confirm, take_confirm, ("edit_menu",), retries=("edit_menu",)),
    "edit_menu": Step(ask_edit, take_edit, (*FIELDS, "confirm")),
}


async def begin(ctx: HeadContext) -> FlowState:
    report = await get_election(ctx.session, ctx.village_id)
    if report is None:
        ctx.say(t("election.intro", village=ctx.unit.full_name))
        return FlowState("election_date")
    kind = new_kind(report, ctx.today)
    if kind is not None and kind != "revote_or_fix":
        return begin_new(ctx, kind)
    data: dict[str, Any] = {f: getattr(report, f) for f in ELECTION_FIELDS}
    data["election_date"] = iso(report.election_date)
    planned = report.party_status == "non_member" and report.admission_planned_date is not None
    data["party_choice"] = "planned" if planned else report.party_status or None  # (none: an invalid result)
    data["party_date"] = iso(report.admission_planned_date if planned else
                             report.party_date if report.party_status == "probationary" else None)
    data.pop("admission_planned_date", None)
    congress = await get_congress(ctx.session, ctx.village_id)
    data["already_secretary"] = (congress is not None and congress.method == "already_secretary"
                                 if report.party_status == "member" else None)
    data["phone_asked"] = True
    ctx.say(t("election.on_file", village=ctx.unit.full_name) + "\n" + summary(data, on_file=True))
    return FlowState("new_or_fix" if kind else "edit_menu", data)


async def _save(ctx: HeadContext, state: FlowState) -> None:
    d = state.data
    election_date = from_iso(d["election_date"])
    assert election_date is not None
    elected = not invalid_result(d)  # else nobody was elected: no party status or phone is kept
    choice = d.get("party_choice")
    party: str = NOT_ASKED if not elected or choice is None else "non_member" if choice == "planned" else choice
    data = ElectionData(election_date=election_date, head_name=d["head_name"], votes_for=d["votes_for"],
                        valid_ballots=d["valid_ballots"], roll=d["roll"], party_status=party,
                        party_date=from_iso(d.get("party_date")) if elected else None, attendees=d.get("attendees"),
                        ballots_issued=d.get("ballots_issued"), invalid_ballots=d.get("invalid_ballots"),
                        head_phone=(d.get("head_phone") or None) if elected else None)
    try:
        report, _warnings = await record_election(ctx.session, ctx.village_id, data, ctx.actor, ctx.now, ctx.today,
                                                  kind=d.get("kind"), term_months=ctx.settings.term_months)
    except Refused as err:
        raise Invalid(f"election.refused.{err.reason}", goto="edit_menu") from err
    new = report.revision == 1 or d.get("kind") is not None
    key = "election.receipt_first" if new else "election.receipt_revision"
    text = t(key, village=ctx.unit.full_name, revision=report.revision, time=fmt_time_date(ctx.now, ctx.settings.tz))
    valid = bool(report.valid)  # an invalid result has no head: nobody to merge
    already = valid and data.party_status == "member" and bool(d.get("already_secretary"))
    try:
        await record_already_secretary(ctx.session, ctx.village_id, already, ctx.actor, ctx.now)
    except Refused as err:
        text += "\n" + t(f"merger.refused.{err.reason}")
        already = False
    if already:
        title = head_title(ctx.unit.type, ctx.unit.name, ctx.unit.full_name)
        text += "\n" + t("merger.baucu.merged_at_once", head=data.head_name, title=title[:1].lower() + title[1:])
    elif data.party_status == "member" and valid:
        text += "\n" + t("election.next_congress")
    ctx.say(text)
    await after_save(ctx, report)


FLOW = Flow("election", begin, STEPS, entries=("election_date", "new_or_fix", "edit_menu"), context=as_head)
