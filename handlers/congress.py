"""``/daihoi``: the branch congress — its planned date (moves kept), then its result.

Merged when the elected secretary is the village head (names compared without case, extra spaces
or diacritic differences, and confirmed); otherwise the reason is asked and recorded.
"""

from __future__ import annotations

from handlers.catalog import t
from handlers.context import Context
from handlers.dates import fmt_date, from_iso, iso
from handlers.flow import FlowState, Invalid, advance, answer_text, ask, choose, wrong, yes_no, yes_no_choices
from handlers.messages import Choice
from handlers.parsing import parse_date, parse_person_name, same_person
from models.reports import ReportError, get_congress, get_election, plan_congress, record_congress_result

REASONS = ("head_not_member", "other_elected")


def menu_choices(planned: bool) -> list[Choice]:
    out = [Choice("result", t("congress.menu.result"))]
    out.insert(0 if not planned else 1, Choice("plan", t("congress.menu.move" if planned else "congress.menu.plan")))
    return out


def reason_choices() -> list[Choice]:
    return [Choice(r, t(f"congress.reason.{r}")) for r in REASONS]


def _ask(ctx: Context, state: FlowState) -> None:
    s, d = state.step, state.data
    if s == "menu":
        ask(ctx, t("congress.ask.menu"), menu_choices(bool(d.get("planned"))), free_text=False)
    elif s == "plan_date":
        ask(ctx, t("congress.ask.plan_date"))
    elif s == "plan_confirm":
        ask(ctx, t("congress.ask.plan_confirm", date=fmt_date(d["new_planned"])), yes_no_choices())
    elif s == "held_date":
        ask(ctx, t("congress.ask.held_date"))
    elif s == "secretary":
        ask(ctx, t("congress.ask.secretary"))
    elif s == "same_person":
        ask(ctx, t("congress.ask.same_person", name=d["secretary"], head=d["head"]), yes_no_choices())
    elif s == "reason":
        ask(ctx, t("congress.ask.reason"), reason_choices())
    elif s == "result_confirm":
        ask(ctx, result_summary(d) + "\n\n" + t("congress.ask.result_confirm"), yes_no_choices())


def result_summary(d: dict) -> str:  # type: ignore[type-arg]
    lines = [t("congress.summary.title"), t("congress.summary.held", date=fmt_date(d["held"])),
             t("congress.summary.secretary", name=d["secretary"])]
    if d["merged"]:
        lines.append(t("congress.summary.merged"))
    else:
        lines.append(t("congress.summary.not_merged", reason=d["reason_text"]))
    return "\n".join(lines)


async def begin(ctx: Context) -> FlowState | None:
    assert ctx.unit is not None and ctx.unit.id is not None
    election = await get_election(ctx.session, ctx.unit.id)
    if election is None:
        ctx.say(t("congress.need_election"))
        return None
    congress = await get_congress(ctx.session, ctx.unit.id)
    data = {"head": election.head_name, "elected": iso(election.election_date),
            "planned": iso(congress.planned_date) if congress else None}
    if congress is not None and congress.held_date is not None:
        data["_correction"] = True
        ctx.say(t("congress.on_file", held=fmt_date(congress.held_date), name=congress.secretary_name or "",
                  merged=t("congress.summary.merged") if congress.merged else t(
                      "congress.summary.not_merged", reason=congress.not_merged_reason or "")))
        state = FlowState("held_date", data)
    elif congress is not None and congress.planned_date is not None:
        ctx.say(t("congress.planned_on_file", date=fmt_date(congress.planned_date)))
        state = FlowState("menu", data)
    else:
        state = FlowState("menu", data)
    _ask(ctx, state)
    return state


async def step(ctx: Context, state: FlowState) -> FlowState | None:
    try:
        return await _step(ctx, state)
    except Invalid as err:
        before = len(ctx.replies)
        _ask(ctx, state)
        reask = ctx.replies.pop(before)
        return wrong(ctx, state, err, reask.text, reask.choices)


async def _step(ctx: Context, state: FlowState) -> FlowState | None:
    s, d, text = state.step, state.data, answer_text(ctx)
    if s == "menu":
        picked = choose(ctx, menu_choices(bool(d.get("planned"))))
        if picked is None:
            raise Invalid("common.bad_choice")
        state = advance(state, "plan_date" if picked == "plan" else "held_date")
    elif s == "plan_date":
        planned = parse_date(text, ctx.today, "future")
        if planned is None:
            raise Invalid("congress.bad.date")
        if planned < ctx.today:
            raise Invalid("congress.bad.plan_past", today=fmt_date(ctx.today))
        state = advance(state, "plan_confirm", new_planned=iso(planned))
    elif s == "plan_confirm":
        answer = _yes_no(ctx)
        if not answer:
            state = advance(state, "plan_date")
        else:
            return await _save_plan(ctx, state)
    elif s == "held_date":
        held = parse_date(text, ctx.today, "past")
        if held is None:
            raise Invalid("congress.bad.date")
        if held > ctx.today:
            raise Invalid("congress.bad.held_future", today=fmt_date(ctx.today))
        if d.get("elected") and held < from_iso(d["elected"]):  # type: ignore[operator]
            raise Invalid("congress.bad.held_before_election", date=fmt_date(d["elected"]))
        state = advance(state, "secretary", held=iso(held))
    elif s == "secretary":
        name = parse_person_name(text)
        if name is None:
            raise Invalid("congress.bad.name")
        nxt = "same_person" if same_person(name, d["head"]) else "reason"
        state = advance(state, nxt, secretary=name, merged=False)
    elif s == "same_person":
        if _yes_no(ctx):
            state = advance(state, "result_confirm", merged=True, secretary=d["head"], reason_text=None)
        else:
            state = advance(state, "reason")
    elif s == "reason":
        picked = choose(ctx, reason_choices())
        if picked is None and len(text) < 3:
            raise Invalid("congress.bad.reason")
        reason_text = t(f"congress.reason.{picked}") if picked else text
        state = advance(state, "result_confirm", merged=False, reason_text=reason_text[:500])
    elif s == "result_confirm":
        if not _yes_no(ctx):
            state = advance(state, "held_date")
        else:
            return await _save_result(ctx, state)
    _ask(ctx, state)
    return state


def _yes_no(ctx: Context) -> bool:
    answer = yes_no(ctx)
    if answer is None:
        raise Invalid("common.bad_yes_no")
    return answer


async def _save_plan(ctx: Context, state: FlowState) -> FlowState | None:
    assert ctx.unit is not None and ctx.unit.id is not None
    new = from_iso(state.data["new_planned"])
    assert new is not None
    try:
        await plan_congress(ctx.session, ctx.unit.id, new, ctx.actor, ctx.now, ctx.today)
    except ReportError as err:
        ctx.say(t(f"congress.refused.{err.reason}"))
        return None
    old = state.data.get("planned")
    key = "congress.plan_moved" if old and old != state.data["new_planned"] else "congress.plan_saved"
    ctx.say(t(key, date=fmt_date(new), old=fmt_date(old)))
    return None


async def _save_result(ctx: Context, state: FlowState) -> FlowState | None:
    assert ctx.unit is not None and ctx.unit.id is not None
    d = state.data
    try:
        await record_congress_result(ctx.session, ctx.unit.id, held_date=from_iso(d["held"]),  # type: ignore[arg-type]
                                     secretary_name=d["secretary"], merged=d["merged"], reason=d.get("reason_text"),
                                     actor=ctx.actor, now=ctx.now, today=ctx.today)
    except ReportError as err:
        ctx.say(t(f"congress.refused.{err.reason}"))
        return None
    ctx.say(t("congress.result_saved_merged" if d["merged"] else "congress.result_saved", village=ctx.unit.full_name))
    return None
