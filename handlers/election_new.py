"""When ``/baucu`` starts a new election rather than a correction, and what is said after a save.

A village elects again when its result was invalid (or the head corrects a typing mistake instead),
when the commune ordered a new vote, when the post fell vacant (a by-election, same term), or when
the term is over (a new term). After a save the head is told plainly whether the village must vote
again (the commune is told at once) or that the result awaits the commune's recognition.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from handlers.context import HeadContext
from handlers.flow import FlowState, Question, labelled, must_choose
from handlers.messages import Choice
from models.election.recognition import notify_invalid
from models.election.record import recognition_deadline
from models.election.tables import ElectionReport
from texts.catalog import t
from texts.fmt import fmt_date, local

NEW_OR_FIX = ("new", "fix")


def new_kind(report: ElectionReport, today: date) -> str | None:
    """``by_election``, ``regular`` (a new term), ``revote``, ``revote_or_fix`` (an invalid result: a new
    vote, or a mistake to correct), or None (a correction of the current election)."""
    if report.vacated_on is not None:
        return "by_election"
    if report.term_end is not None and report.term_end < today:
        return "regular"
    if report.recognition == "new_vote":
        return "revote"
    if report.valid is False:
        return "revote_or_fix"
    return None


def begin_new(ctx: HeadContext, kind: str) -> FlowState:
    ctx.say(t(f"election.new_intro.{kind}", village=ctx.unit.full_name))
    return FlowState("election_date", {"kind": kind})


def new_or_fix_choices() -> list[Choice]:
    return labelled("election.new_or_fix", NEW_OR_FIX)


def ask_new_or_fix(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t("election.ask.new_or_fix"), new_or_fix_choices(), free_text=False)


async def take_new_or_fix(ctx: HeadContext, state: FlowState) -> Literal["election_date", "edit_menu"]:
    if must_choose(ctx, new_or_fix_choices()) == "new":
        state.data = {"kind": "revote"}
        return "election_date"
    return "edit_menu"


async def after_save(ctx: HeadContext, report: ElectionReport) -> None:
    """An invalid result: the head is told the village must vote again, the commune at once.
    A valid one: awaiting recognition, with the commune's deadline."""
    if report.valid is False:
        ctx.say(t("election.invalid_saved", village=ctx.unit.full_name))
        await notify_invalid(ctx.session, ctx.unit, report, ctx.now)
    elif report.recognition is None:
        reported = local(ctx.now, ctx.settings.tz).date()
        ctx.say(t("election.pending_recognition", deadline=fmt_date(recognition_deadline(reported))))
