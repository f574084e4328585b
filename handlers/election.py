"""``/baucu``: the village-head election result — asked field by field, confirmed, receipted.

The vote-count record is asked in the order of the paper form, or taken in one message
(handlers/election_counts.py); the phone is optional. When a result is already on file, the same
command shows it and asks what to change (a correction: a new revision with an audit event,
models.election.reports) — unless the village must elect again (an invalid result, a new vote ordered, a
vacancy, the term over): then it is a new election (handlers/election_new.py). The steps are ``STEPS``.
"""

from __future__ import annotations

from typing import Any

from handlers.context import Context
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
    ElectionData,
    ReportError,
    get_congress,
    get_election,
    record_election,
)
from models.merger.records import record_already_secretary
from texts.catalog import t
from texts.fmt import fmt_date, fmt_time_date, from_iso, iso
from texts.titles import head_title

FIELDS = ("election_date", "head_name", "roll", "attendees", "valid_ballots", "votes_for", "party_status",
          "head_phone")
PARTY_CHOICES = ("member", "probationary", "planned", "non_member")
ANSWERED = {"party_status": "party_choice", "head_phone": "phone_asked"}


def next_step(data: dict[str, Any]) -> str:
    """The first question still unanswered, else the summary to confirm. After the party status come
    its date and, for a full member of a valid result, "already the branch secretary?"; then the phone."""
    for f in FIELDS:
        if data.get(ANSWERED.get(f, f)) is None:
            return _party_follow_up(data) if f == "head_phone" else f
    return _party_follow_up(data) if _party_follow_up(data) != "head_phone" else "confirm"


def _party_follow_up(data: dict[str, Any]) -> str:
    if data["party_choice"] in ("probationary", "planned") and not data.get("party_date"):
        return "party_date"
    if data["party_choice"] == "member" and data.get("already_secretary") is None \
            and validity(data["roll"], data.get("attendees"), data["votes_for"]).valid:
        return "already_secretary"
    return "head_phone"


def party_choices() -> list[Choice]:
    return labelled("election.party_choice", PARTY_CHOICES)


def field_choices() -> list[Choice]:
    """What can be corrected: every question (the counts one by one, or all again in one message)."""
    return [*labelled("election.field", FIELDS), Choice("keep", t("election.keep"))]


def confirm_choices() -> list[Choice]:
    return [Choice("send", t("election.confirm.send")), Choice("edit", t("election.confirm.edit")),
            Choice("cancel", t("common.cancel_choice"))]


def summary(data: dict[str, Any], on_file: bool = False) -> str:
    """The result as the head will send it; ``on_file``: as saved (introduced by ``election.on_file``, so
    no heading of its own, and a warning that no longer says it can still be sent)."""
    lines = [] if on_file else [t("election.summary.title")]
    lines += [t("election.summary.date", date=fmt_date(data["election_date"])),
             t("election.summary.name", name=data["head_name"]),
             readback(data), *validity_lines(data, advice=not on_file),
             t("election.summary.party", party=t(f"election.party_choice.{data['party_choice']}"))]
    if data.get("party_date"):
        lines.append(t(f"election.summary.party_date_{data['party_choice']}", date=fmt_date(data["party_date"])))
    if data["party_choice"] == "member" and data.get("already_secretary") is not None:
        answer = t("common.yes" if data["already_secretary"] else "common.no")
        lines.append(t("merger.summary.already_secretary", answer=answer))
    if data.get("head_phone"):
        lines.append(phone_line(data["head_phone"]))
    return "\n".join(lines)


# --- the questions -----------------------------------------------------------------------------
def ask_plain(ctx: Context, state: FlowState) -> Question:
    return Question(t(f"election.ask.{state.step}"))


def ask_party(ctx: Context, state: FlowState) -> Question:
    return Question(t("election.ask.party_status"), party_choices(), free_text=False)


def ask_party_date(ctx: Context, state: FlowState) -> Question:
    return Question(t(f"election.ask.party_date_{state.data['party_choice']}"))


def ask_already_secretary(ctx: Context, state: FlowState) -> Question:
    return Question(t("merger.ask.already_secretary"), yes_no_choices())


def ask_confirm(ctx: Context, state: FlowState) -> Question:
    return Question(summary(state.data) + "\n\n" + t("election.confirm.question"), confirm_choices())


def ask_edit(ctx: Context, state: FlowState) -> Question:
    return Question(t("election.ask.which_field"), field_choices())


# --- taking the answers ------------------------------------------------------------------------
async def take_date(ctx: Context, state: FlowState) -> str | None:
    d = parse_date(answer_text(ctx), ctx.today, "past")
    if d is None:
        raise Invalid("election.bad.date")
    if d > ctx.today:
        raise Invalid("election.bad.future", today=fmt_date(ctx.today))
    state.data["election_date"] = iso(d)
    return next_step(state.data)


async def take_name(ctx: Context, state: FlowState) -> str | None:
    name = parse_person_name(answer_text(ctx))
    if name is None:
        raise Invalid("election.bad.name")
    if name.isascii():  # typed without diacritics: ask once, gently, for the written form
        state.data["head_name_plain"] = name
        return "head_name_accents"
    state.data["head_name"] = name
    return next_step(state.data)


def ask_name_accents(ctx: Context, state: FlowState) -> Question:
    return Question(t("election.ask.name_accents", name=state.data["head_name_plain"]),
                    [Choice("keep", t("election.keep_name"))])


async def take_name_accents(ctx: Context, state: FlowState) -> str | None:
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


async def take_counts(ctx: Context, state: FlowState) -> str | None:
    return await take_count(ctx, state, next_step)


async def take_head_phone(ctx: Context, state: FlowState) -> str | None:
    return await take_phone(ctx, state, next_step)


async def take_party(ctx: Context, state: FlowState) -> str | None:
    choice = choose(ctx, party_choices())
    if choice is None:
        raise Invalid("election.bad.party")
    state.data.update(party_choice=choice, party_date=None, already_secretary=None)
    return next_step(state.data)


async def take_party_date(ctx: Context, state: FlowState) -> str | None:
    planned = state.data["party_choice"] == "planned"
    d = parse_date(answer_text(ctx), ctx.today, "future" if planned else "past")
    if d is None:
        raise Invalid("election.bad.date")
    if not planned and d > ctx.today:
        raise Invalid("election.bad.admission_future")
    state.data["party_date"] = iso(d)
    return next_step(state.data)


async def take_already_secretary(ctx: Context, state: FlowState) -> str | None:
    state.data["already_secretary"] = must_yes_no(ctx)
    return next_step(state.data)


async def take_edit(ctx: Context, state: FlowState) -> str | None:
    picked = choose(ctx, field_choices())
    if picked is None:
        raise Invalid("common.bad_choice")
    if picked == "keep":
        ctx.say(t("election.kept"))
        return END
    return picked


async def take_confirm(ctx: Context, state: FlowState) -> str | None:
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


STEPS: dict[str, Step] = {
    "election_date": Step(ask_plain, take_date),
    "head_name": Step(ask_plain, take_name),
    "head_name_accents": Step(ask_name_accents, take_name_accents),
    "roll": Step(ask_count, take_counts),
    "attendees": Step(ask_count, take_counts),
    "valid_ballots": Step(ask_count, take_counts),
    "votes_for": Step(ask_count, take_counts),
    "party_status": Step(ask_party, take_party),
    "party_date": Step(ask_party_date, take_party_date),
    "already_secretary": Step(ask_already_secretary, take_already_secretary),
    "head_phone": Step(ask_phone, take_head_phone),
    "new_or_fix": Step(ask_new_or_fix, take_new_or_fix),
    "confirm": Step(ask_confirm, take_confirm),
    "edit_menu": Step(ask_edit, take_edit),
}


async def begin(ctx: Context) -> FlowState:
    assert ctx.unit is not None and ctx.unit.id is not None
    report = await get_election(ctx.session, ctx.unit.id)
    if report is None:
        ctx.say(t("election.intro", village=ctx.unit.full_name))
        return FlowState("election_date")
    kind = new_kind(report, ctx.today)
    if kind is not None and kind != "revote_or_fix":
        return begin_new(ctx, kind)
    data: dict[str, Any] = {f: getattr(report, f) for f in ELECTION_FIELDS}
    data["election_date"] = iso(report.election_date)
    planned = report.party_status == "non_member" and report.admission_planned_date is not None
    data["party_choice"] = "planned" if planned else report.party_status
    data["party_date"] = iso(report.admission_planned_date if planned else
                             report.party_date if report.party_status == "probationary" else None)
    data.pop("admission_planned_date", None)
    congress = await get_congress(ctx.session, ctx.unit.id)
    data["already_secretary"] = (congress is not None and congress.method == "already_secretary"
                                 if report.party_status == "member" else None)
    data["phone_asked"] = True
    ctx.say(t("election.on_file", village=ctx.unit.full_name) + "\n" + summary(data, on_file=True))
    return FlowState("new_or_fix" if kind else "edit_menu", data)


async def _save(ctx: Context, state: FlowState) -> None:
    assert ctx.unit is not None and ctx.unit.id is not None
    d = state.data
    election_date = from_iso(d["election_date"])
    assert election_date is not None
    data = ElectionData(election_date=election_date, head_name=d["head_name"], votes_for=d["votes_for"],
                        valid_ballots=d["valid_ballots"], roll=d["roll"],
                        party_status="non_member" if d["party_choice"] == "planned" else d["party_choice"],
                        party_date=from_iso(d.get("party_date")), attendees=d.get("attendees"),
                        ballots_issued=d.get("ballots_issued"), invalid_ballots=d.get("invalid_ballots"),
                        head_phone=d.get("head_phone") or None)
    try:
        report, _warnings = await record_election(ctx.session, ctx.unit.id, data, ctx.actor, ctx.now, ctx.today,
                                                  kind=d.get("kind"), term_months=ctx.settings.term_months)
    except ReportError as err:
        raise Invalid(f"election.refused.{err.reason}", goto="edit_menu") from err
    new = report.revision == 1 or d.get("kind") is not None
    key = "election.receipt_first" if new else "election.receipt_revision"
    text = t(key, village=ctx.unit.full_name, revision=report.revision, time=fmt_time_date(ctx.now, ctx.settings.tz))
    valid = bool(report.valid)  # an invalid result has no head: nobody to merge
    already = valid and data.party_status == "member" and bool(d.get("already_secretary"))
    try:
        await record_already_secretary(ctx.session, ctx.unit.id, already, ctx.actor, ctx.now)
    except ReportError as err:
        text += "\n" + t(f"merger.refused.{err.reason}")
        already = False
    if already:
        title = head_title(ctx.unit.type, ctx.unit.name, ctx.unit.full_name)
        text += "\n" + t("merger.baucu.merged_at_once", head=data.head_name, title=title[:1].lower() + title[1:])
    elif data.party_status == "member" and valid:
        text += "\n" + t("election.next_congress")
    ctx.say(text)
    await after_save(ctx, report)


FLOW = Flow("election", begin, STEPS)
