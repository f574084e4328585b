"""``/giaoban``: the village's situation report for the next briefing meeting, and ``/thamdu``.

While the report window is open (``Settings.giaoban.report_window_days`` before the meeting, until it
starts) the head answers field by field — economy; culture and society; security and defence; party
building; urgent matters; requests — each free text or "nothing new" in one tap, or sends the whole
report in one message (kept whole), or says "nothing new" for all. A summary, confirmation and receipt;
``/giaoban`` again corrects it (a new revision). The attendance question comes first when the village
has not answered the invitation. Photos: the report keeps references (``models.giaoban.reports.
attach_photo``), the hook the incoming-photo plumbing calls. The steps are the table ``STEPS``.
"""

from __future__ import annotations

from typing import Literal, TypeGuard, get_args

from handlers.context import HeadContext, as_head
from handlers.flow import END, Flow, FlowError, FlowState, Invalid, Question, Step, answer_text, choose, must_choose
from handlers.giaoban_replies import answers_for_village, deputy_named, split_answer
from handlers.messages import Choice
from models.giaoban.meetings import get_attendance, next_meeting, record_attendance
from models.giaoban.reports import WHOLE, get_report, save_report, window_open
from models.giaoban.tables import FIELDS, GiaobanMeeting
from models.refusal import Refused
from texts.catalog import t
from texts.fmt import fmt_time_date

# the report's fields (models.giaoban.tables.FIELDS) and the whole report (WHOLE) are steps of their own
GiaobanStep = Literal["attend", "reason", "mode", "economy", "culture", "security", "party", "urgent", "requests",
                      "whole", "confirm", "fix"]


def _is_step(name: str) -> TypeGuard[GiaobanStep]:
    return name in get_args(GiaobanStep)


FIELD_STEPS: tuple[GiaobanStep, ...] = tuple(f for f in FIELDS if _is_step(f))
WHOLE_STEP: GiaobanStep = "whole"
if FIELD_STEPS != FIELDS or WHOLE_STEP != WHOLE:
    raise FlowError("giaoban: every report field needs a step of its own")


def _when(ctx: HeadContext, meeting: GiaobanMeeting) -> str:
    return fmt_time_date(meeting.starts_at, ctx.settings.tz)


def _place(meeting: GiaobanMeeting) -> str:
    return t("gb.notice.place", place=meeting.place) if meeting.place else ""


async def _meeting(ctx: HeadContext, state: FlowState) -> GiaobanMeeting:
    meeting = await ctx.session.get(GiaobanMeeting, state.data["meeting"])
    assert meeting is not None
    return meeting


def attend_choices() -> list[Choice]:
    return [Choice("yes", t("gb.attend.yes")), Choice("no", t("gb.attend.no"))]


def mode_choices() -> list[Choice]:
    return [Choice(k, t(f"gb.report.mode_{k}")) for k in ("fields", "whole", "nothing")]


def confirm_choices() -> list[Choice]:
    return [Choice("send", t("gb.report.send")), Choice("fix", t("gb.report.fix"))]


def fix_choices(answers: dict[str, str]) -> list[Choice]:
    """The fields to correct, and "nothing": back to the summary (the report is not sent yet)."""
    keys = [WHOLE] if WHOLE in answers else list(FIELDS)
    return [*(Choice(k, t(f"gb.field.{k}")) for k in keys), Choice("back", t("gb.report.fix_back"))]


def summary(village: str, answers: dict[str, str]) -> str:
    keys = [WHOLE] if WHOLE in answers else list(FIELDS)
    lines = [t("gb.report.summary_title", village=village)]
    lines += [t("gb.report.summary_line", field=t(f"gb.field.{k}"), text=answers.get(k) or t("gb.report.nothing_shown"))
              for k in keys]
    return "\n".join(lines)


# --- the questions -----------------------------------------------------------------------------
def ask_attend(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t("gb.attend.ask", when=state.data["when"], place=state.data["place"]) + "\n"
                    + t("gb.deputy.hint"), attend_choices())


def ask_reason(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t("gb.attend.ask_reason"))


def ask_mode(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t("gb.report.ask_mode"), mode_choices(), free_text=False)


def ask_field(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t(f"gb.ask.{state.step}") + "\n" + t("gb.report.field_hint"),
                    [Choice("nothing", t("gb.report.nothing"))])


def ask_whole(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t("gb.report.ask_whole"))


def ask_confirm(ctx: HeadContext, state: FlowState) -> Question:
    answers = state.data["answers"]
    more = "\n" + t("gb.report.whole_more") if WHOLE in answers else ""
    return Question(summary(ctx.unit.full_name, answers) + "\n\n" + t("gb.report.ask_confirm") + more,
                    confirm_choices(), free_text=WHOLE in answers)


def ask_fix(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t("gb.report.ask_fix"), fix_choices(state.data["answers"]), free_text=False)


# --- taking the answers ------------------------------------------------------------------------
def _after_attendance(state: FlowState) -> Literal["confirm", "mode"]:
    return "confirm" if state.data.get("answers") else "mode"


async def _save_attendance(ctx: HeadContext, state: FlowState, attending: bool, reason: str | None,
                           deputy: str | None = None) -> None:
    meeting = await _meeting(ctx, state)
    try:
        await record_attendance(ctx.session, meeting, ctx.village_id, attending, reason, ctx.account.id,
                                ctx.incoming.channel, ctx.now, deputy=deputy)
    except Refused as err:
        ctx.say(t(f"gb.refused.{err.reason}"))
        return
    if deputy:
        ctx.say(t("gb.deputy.saved", deputy=deputy, village=ctx.unit.full_name, when=state.data["when"]))
        return
    key = "gb.attend.saved_yes" if attending else "gb.attend.saved_no"
    ctx.say(t(key, village=ctx.unit.full_name, when=state.data["when"], reason=reason or ""))


async def take_attend(ctx: HeadContext, state: FlowState) -> GiaobanStep | None:
    """A tapped choice, or a typed "có" / "không" — with the reason in the same message if given — or
    the name of a deputy who attends in the secretary's place."""
    picked = choose(ctx, attend_choices())
    deputy = None if picked else deputy_named(answer_text(ctx))
    if deputy == "":
        raise Invalid("gb.deputy.bad_name")
    if deputy:
        await _save_attendance(ctx, state, True, None, deputy[:120])
        return _after_attendance(state)
    attending, reason = (picked == "yes", "") if picked else split_answer(answer_text(ctx))
    if attending is None:
        raise Invalid("common.bad_yes_no")
    if not attending and len(reason) < 3:
        return "reason"
    await _save_attendance(ctx, state, attending, reason[:500] or None)
    return _after_attendance(state)


async def take_reason(ctx: HeadContext, state: FlowState) -> GiaobanStep | None:
    reason = answer_text(ctx).strip()
    if len(reason) < 3:
        raise Invalid("gb.attend.bad_reason")
    await _save_attendance(ctx, state, False, reason[:500])
    return _after_attendance(state)


async def take_mode(ctx: HeadContext, state: FlowState) -> GiaobanStep | None:
    picked = must_choose(ctx, mode_choices())
    if picked == "nothing":
        state.data["answers"] = {k: "" for k in FIELDS}
        return "confirm"
    state.data["answers"] = {}
    return FIELD_STEPS[0] if picked == "fields" else WHOLE_STEP


async def take_field(ctx: HeadContext, state: FlowState) -> GiaobanStep | None:
    if choose(ctx, [Choice("nothing", t("gb.report.nothing"))]) == "nothing":
        text = ""
    else:
        text = answer_text(ctx).strip()
        if len(text) < 2:
            raise Invalid("gb.report.too_short")
    answers = dict(state.data.get("answers") or {})
    answers[state.step] = text
    state.data["answers"] = answers
    if state.data.pop("fixing", False):
        return "confirm"
    i = FIELDS.index(state.step)
    return FIELD_STEPS[i + 1] if i + 1 < len(FIELD_STEPS) else "confirm"


async def take_whole(ctx: HeadContext, state: FlowState) -> GiaobanStep | None:
    text = answer_text(ctx).strip()
    if len(text) < 5:
        raise Invalid("gb.report.too_short")
    state.data["answers"] = {WHOLE: text}
    state.data.pop("fixing", None)
    return "confirm"


async def take_confirm(ctx: HeadContext, state: FlowState) -> GiaobanStep | None:
    answers = state.data["answers"]
    picked = choose(ctx, confirm_choices())
    if picked is None and WHOLE in answers and len(answer_text(ctx).strip()) >= 5:
        # the next part of a long report (phones split a long text into several messages): kept whole
        answers[WHOLE] = answers[WHOLE] + "\n" + answer_text(ctx).strip()
        return "confirm"
    if must_choose(ctx, confirm_choices()) == "fix":
        return "fix"
    try:
        report = await save_report(ctx.session, await _meeting(ctx, state), ctx.village_id, state.data["answers"],
                                   ctx.actor, ctx.now, ctx.settings.giaoban)
    except Refused:
        ctx.say(t("gb.report.closed"))
        return END
    ctx.say(t("gb.report.saved", village=ctx.unit.full_name, revision=report.revision,
              at=fmt_time_date(ctx.now, ctx.settings.tz)))
    return END


async def take_fix(ctx: HeadContext, state: FlowState) -> GiaobanStep | None:
    picked = must_choose(ctx, fix_choices(state.data["answers"]))
    if picked == "back":
        return "confirm"
    state.data["fixing"] = True
    return next(k for k in (*FIELD_STEPS, WHOLE_STEP) if k == picked)


STEPS: dict[GiaobanStep, Step[HeadContext, GiaobanStep]] = {
    "attend": Step(ask_attend, take_attend, ("reason", "confirm", "mode")),
    "reason": Step(ask_reason, take_reason, ("confirm", "mode")),
    "mode": Step(ask_mode, take_mode, ("confirm", FIELD_STEPS[0], WHOLE_STEP)),
    **{k: Step(ask_field, take_field, (*FIELD_STEPS, "confirm")) for k in FIELD_STEPS},
    WHOLE_STEP: Step(ask_whole, take_whole, ("confirm",)),
    "confirm": Step(ask_confirm, take_confirm, ("confirm", "fix")),
    "fix": Step(ask_fix, take_fix, (*FIELD_STEPS, WHOLE_STEP, "confirm")),
}


async def begin(ctx: HeadContext) -> FlowState | None:
    if not await answers_for_village(ctx):
        return None
    meeting = await next_meeting(ctx.session, ctx.unit.parent_id or 0, ctx.now)
    if meeting is None or meeting.id is None:
        ctx.say(t("gb.report.no_meeting"))
        return None
    rules = ctx.settings.giaoban
    if not window_open(meeting, rules, ctx.now):
        ctx.say(t("gb.report.not_yet", when=_when(ctx, meeting),
                  opens=fmt_time_date(rules.window_opens(meeting.starts_at), ctx.settings.tz)))
        return None
    data = {"meeting": meeting.id, "when": _when(ctx, meeting), "place": _place(meeting)}
    ctx.say(t("gb.report.intro", village=ctx.unit.full_name, when=data["when"]))
    report = await get_report(ctx.session, meeting.id, ctx.village_id)
    if report is not None:
        data["answers"] = dict(report.answers)
        ctx.say(t("gb.report.on_file", village=ctx.unit.full_name, revision=report.revision))
    if await get_attendance(ctx.session, meeting.id, ctx.village_id) is None:
        return FlowState("attend", data)
    return FlowState(_after_attendance(FlowState("", data)), data)


FLOW = Flow("giaoban", begin, STEPS, entries=("attend", "confirm", "mode"), context=as_head)


# --- /thamdu: the attendance answer alone --------------------------------------------------------
async def begin_attend(ctx: HeadContext) -> FlowState | None:
    if not await answers_for_village(ctx):
        return None
    meeting = await next_meeting(ctx.session, ctx.unit.parent_id or 0, ctx.now)
    if meeting is None:
        ctx.say(t("gb.attend.none"))
        return None
    return FlowState("attend", {"meeting": meeting.id, "when": _when(ctx, meeting), "place": _place(meeting),
                                "only_attendance": True})


async def take_attend_only(ctx: HeadContext, state: FlowState) -> AttendStep | None:
    return "reason" if await take_attend(ctx, state) == "reason" else END


async def take_reason_only(ctx: HeadContext, state: FlowState) -> AttendStep | None:
    await take_reason(ctx, state)
    return END


AttendStep = Literal["attend", "reason"]
ATTEND_STEPS: dict[AttendStep, Step[HeadContext, AttendStep]] = {
    "attend": Step(ask_attend, take_attend_only, ("reason",)),
    "reason": Step(ask_reason, take_reason_only),
}
ATTEND_FLOW = Flow("thamdu", begin_attend, ATTEND_STEPS, entries=("attend",), context=as_head)
