"""``/baucu``: the village-head election result — asked field by field, confirmed, receipted.

When a result is already on file, the same command shows it and asks what to change; the change
is saved as a new revision with an audit event (models.reports).
"""

from __future__ import annotations

from typing import Any

from handlers.catalog import t
from handlers.context import Context
from handlers.dates import fmt_date, from_iso, iso
from handlers.flow import FlowState, Invalid, advance, answer_text, ask, choose, wrong, yes_no
from handlers.messages import Choice
from handlers.parsing import parse_count, parse_date, parse_person_name
from models.reports import ELECTION_FIELDS, ElectionData, ReportError, get_election, record_election

FIELDS = ("election_date", "head_name", "votes_for", "valid_ballots", "roll", "party_status")
PARTY_CHOICES = ("member", "probationary", "planned", "non_member")


class Conflict(Invalid):
    """The answer contradicts an earlier one: keep the new answer, ask ``other`` again."""

    def __init__(self, other: str, key: str, **kwargs: Any) -> None:
        super().__init__(key, **kwargs)
        self.other = other


def next_step(data: dict[str, Any]) -> str:
    """The first question still unanswered, else the summary to confirm."""
    for f in FIELDS:
        if data.get(f if f != "party_status" else "party_choice") is None:
            return f
    if data["party_choice"] in ("probationary", "planned") and not data.get("party_date"):
        return "party_date"
    return "confirm"


def party_choices() -> list[Choice]:
    return [Choice(v, t(f"election.party_choice.{v}")) for v in PARTY_CHOICES]


def field_choices() -> list[Choice]:
    return [Choice(f, t(f"election.field.{f}")) for f in FIELDS]


def confirm_choices() -> list[Choice]:
    return [Choice("send", t("election.confirm.send")), Choice("edit", t("election.confirm.edit")),
            Choice("cancel", t("common.cancel_choice"))]


def _ask_field(ctx: Context, state: FlowState) -> None:
    step = state.step
    if step == "party_status":
        ask(ctx, t("election.ask.party_status"), party_choices(), free_text=False)
    elif step == "party_date":
        ask(ctx, t(f"election.ask.party_date_{state.data['party_choice']}"))
    elif step == "confirm":
        ask(ctx, summary(state.data) + "\n\n" + t("election.confirm.question"), confirm_choices())
    elif step == "edit_menu":
        ask(ctx, t("election.ask.which_field"), [*field_choices(), Choice("keep", t("election.keep"))])
    else:
        ask(ctx, t(f"election.ask.{step}"))


def summary(data: dict[str, Any]) -> str:
    lines = [t("election.summary.title"),
             t("election.summary.date", date=fmt_date(data["election_date"])),
             t("election.summary.name", name=data["head_name"]),
             t("election.summary.votes", votes=data["votes_for"], ballots=data["valid_ballots"], roll=data["roll"]),
             t("election.summary.party", party=t(f"election.party_choice.{data['party_choice']}"))]
    if data.get("party_date"):
        lines.append(t(f"election.summary.party_date_{data['party_choice']}", date=fmt_date(data["party_date"])))
    if data["votes_for"] * 2 <= data["roll"]:
        lines.append(t("election.warn.not_majority", votes=data["votes_for"], roll=data["roll"]))
    return "\n".join(lines)


def _parse(ctx: Context, step: str, data: dict[str, Any]) -> dict[str, Any]:
    """The answer to ``step`` as data updates; raises :class:`Invalid` with a specific hint."""
    text = answer_text(ctx)
    if step == "election_date":
        d = parse_date(text, ctx.today, "past")
        if d is None:
            raise Invalid("election.bad.date")
        if d > ctx.today:
            raise Invalid("election.bad.future", today=fmt_date(ctx.today))
        return {"election_date": iso(d)}
    if step == "head_name":
        name = parse_person_name(text)
        if name is None:
            raise Invalid("election.bad.name")
        return {"head_name": name}
    if step in ("votes_for", "valid_ballots", "roll"):
        n = parse_count(text)
        if n is None:
            raise Invalid("election.bad.count")
        if step == "roll" and n == 0:
            raise Invalid("election.bad.roll_zero")
        new = {**data, step: n}
        votes, ballots, roll = (new.get(f) for f in ("votes_for", "valid_ballots", "roll"))
        if votes is not None and ballots is not None and votes > ballots:
            other = "valid_ballots" if step == "votes_for" else "votes_for"
            raise Conflict(other, "election.bad.votes_over_ballots", votes=votes, ballots=ballots)
        if ballots is not None and roll is not None and ballots > roll:
            other = "roll" if step == "valid_ballots" else "valid_ballots"
            raise Conflict(other, "election.bad.ballots_over_roll", ballots=ballots, roll=roll)
        return {step: n}
    if step == "party_status":
        choice = choose(ctx, party_choices())
        if choice is None:
            raise Invalid("election.bad.party")
        return {"party_choice": choice, "party_date": None}
    if step == "party_date":
        planned = data["party_choice"] == "planned"
        d = parse_date(text, ctx.today, "future" if planned else "past")
        if d is None:
            raise Invalid("election.bad.date")
        if not planned and d > ctx.today:
            raise Invalid("election.bad.admission_future")
        return {"party_date": iso(d)}
    raise AssertionError(step)


async def begin(ctx: Context) -> FlowState:
    assert ctx.unit is not None and ctx.unit.id is not None
    report = await get_election(ctx.session, ctx.unit.id)
    if report is None:
        ctx.say(t("election.intro", village=ctx.unit.full_name))
        state = FlowState("election_date")
    else:
        data = {f: getattr(report, f) for f in ELECTION_FIELDS}
        data["election_date"] = iso(report.election_date)
        data["party_date"] = iso(report.party_date)
        data["party_choice"] = "planned" if report.party_status == "non_member" and report.party_date else (
            report.party_status)
        ctx.say(t("election.on_file", village=ctx.unit.full_name) + "\n" + summary(data))
        state = FlowState("edit_menu", data)
    _ask_field(ctx, state)
    return state


async def step(ctx: Context, state: FlowState) -> FlowState | None:
    if state.step == "confirm":
        return await _confirm(ctx, state)
    if state.step == "edit_menu":
        picked = choose(ctx, [*field_choices(), Choice("keep", "")])
        if picked is None:
            return _wrong(ctx, state, Invalid("common.bad_choice"))
        if picked == "keep":
            ctx.say(t("election.kept"))
            return None
        state = advance(state, picked)
        _ask_field(ctx, state)
        return state
    try:
        updates = _parse(ctx, state.step, state.data)
    except Conflict as err:
        state.data[state.step] = parse_count(answer_text(ctx))
        state.data[err.other] = None
        state.step = err.other
        return _wrong(ctx, state, err)
    except Invalid as err:
        return _wrong(ctx, state, err)
    state.data.update(updates)
    state = advance(state, next_step(state.data))
    _ask_field(ctx, state)
    return state


def _wrong(ctx: Context, state: FlowState, err: Invalid) -> FlowState:
    before = len(ctx.replies)
    _ask_field(ctx, state)
    reask = ctx.replies.pop(before)
    return wrong(ctx, state, err, reask.text, reask.choices)


async def _confirm(ctx: Context, state: FlowState) -> FlowState | None:
    picked = choose(ctx, confirm_choices())
    if picked is None:
        answer = yes_no(ctx)
        picked = {True: "send", False: "edit"}.get(answer) if answer is not None else None  # type: ignore[arg-type]
    if picked is None:
        return _wrong(ctx, state, Invalid("common.bad_choice"))
    if picked == "cancel":
        ctx.say(t("common.cancelled"))
        return None
    if picked == "edit":
        state = advance(state, "edit_menu")
        _ask_field(ctx, state)
        return state
    return await _save(ctx, state)


async def _save(ctx: Context, state: FlowState) -> FlowState | None:
    assert ctx.unit is not None and ctx.unit.id is not None
    d = state.data
    data = ElectionData(election_date=from_iso(d["election_date"]),  # type: ignore[arg-type]
                        head_name=d["head_name"], votes_for=d["votes_for"], valid_ballots=d["valid_ballots"],
                        roll=d["roll"],
                        party_status="non_member" if d["party_choice"] == "planned" else d["party_choice"],
                        party_date=from_iso(d.get("party_date")))
    try:
        report, _warnings = await record_election(ctx.session, ctx.unit.id, data, ctx.actor, ctx.now, ctx.today)
    except ReportError as err:
        return _wrong(ctx, advance(state, "edit_menu"), Invalid(f"election.refused.{err.reason}"))
    key = "election.receipt_first" if report.revision == 1 else "election.receipt_revision"
    text = t(key, village=ctx.unit.full_name, revision=report.revision, time=ctx.now.astimezone(ctx.settings.tz)
             .strftime("%H:%M %d/%m/%Y"))
    if data.party_status == "member":
        text += "\n" + t("election.next_congress")
    ctx.say(text)
    return None
