"""The vote-count steps of ``/baucu`` in the order of the paper form (roll, attendees, valid ballots,
votes for the winner), one by one or the whole block in one message, and how they are shown back
(the numbers, then quorum and majority with their percentages)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from handlers.context import Context
from handlers.count_block import parse_count_block
from handlers.flow import FlowState, Invalid, Question, answer_text
from handlers.parsing import parse_count
from models.election.record import FORM_ORDER, FULL_ORDER, OPTIONAL, count_error, validity
from texts.catalog import t
from texts.fmt import pct

S = TypeVar("S", bound=str)


def ask_count(ctx: Context, state: FlowState) -> Question:
    text = t(f"election.ask.{state.step}")
    if state.step == FORM_ORDER[0] and not any(state.data.get(f) is not None for f in FORM_ORDER):
        text += "\n" + t("election.ask.count_block_hint")
    return Question(text)


def readback(data: dict[str, Any]) -> str:
    """The numbers as understood, in form order, one line each."""
    return "\n".join([t("election.counts.readback_title"),
                      *(t(f"election.counts.line.{f}", n=data[f]) for f in FULL_ORDER if data.get(f) is not None)])


def validity_lines(data: dict[str, Any], advice: bool = True) -> list[str]:
    """Quorum and majority, each with its percentage of the roll; then (``advice``, before sending) what an
    invalid result means and that it is still to be sent."""
    roll, attendees, votes = data["roll"], data.get("attendees"), data["votes_for"]
    v = validity(roll, attendees, votes)
    lines = []
    if attendees is not None:
        lines.append(t("election.validity.quorum_" + ("ok" if v.quorum else "missed"),
                       attendees=attendees, roll=roll, pct=pct(attendees, roll)))
    lines.append(t("election.validity.majority_" + ("ok" if v.majority else "missed"),
                   votes=votes, roll=roll, pct=pct(votes, roll)))
    if not v.valid and advice:
        lines.append(t("election.validity.invalid_summary"))
    return lines


def _check(ctx: Context, state: FlowState, next_step: S) -> S:
    """The first number (in form order) that contradicts an earlier one is asked again, named."""
    wrong = count_error(state.data)
    if wrong is not None:
        state.data[wrong.field] = None
        goto = wrong.field if wrong.field not in OPTIONAL else "valid_ballots"
        if wrong.field in OPTIONAL:
            state.data["valid_ballots"] = None  # the optional ones are only given in a block: ask valid again
        raise Invalid(f"election.bad.{wrong.rule}", goto=goto, **wrong.values)
    return next_step


async def take_count(ctx: Context, state: FlowState, next_step: Callable[[dict[str, Any]], S]) -> S:
    """One number for this step, or the whole record in one message (read back to the head)."""
    text, data = answer_text(ctx), state.data
    block = parse_count_block(text)
    if block is not None:
        for f in FULL_ORDER:
            data[f] = block.get(f)
        ctx.say(readback(data))
        return _check(ctx, state, next_step(data))
    n = parse_count(text)
    if n is None:
        raise Invalid("election.bad.count")
    data[state.step] = n
    return _check(ctx, state, next_step(data))
