"""The vote-count steps of ``/baucu`` in the order of the paper form (roll, attendees, valid ballots,
votes for the winner), and how they are shown back (the numbers, then quorum and majority with their
percentages).

Two questions ask for the four numbers, two at a time (:data:`PAIRS`: the meeting — roll and
attendees; the count — valid ballots and votes for the winner); each takes both numbers in one
message, or one number and then asks for the other on its own; the first also takes the whole record
in one message. So a head who answers question by question sends two messages for the record, and a
slow typist may still send one number per message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from handlers.context import Context
from handlers.count_block import parse_count_block, parse_count_pair
from handlers.flow import FlowState, Invalid, Question, answer_text
from handlers.parsing import parse_count
from models.election.record import FORM_ORDER, FULL_ORDER, OPTIONAL, count_error, validity
from texts.catalog import t
from texts.fmt import pct

S = TypeVar("S", bound=str)
# the first step of a pair asks for both numbers while the second is unanswered
PAIRS: dict[str, tuple[str, str]] = {"roll": ("roll", "attendees"), "valid_ballots": ("valid_ballots", "votes_for")}


SPACED_NUMBER_BELOW = 100_000  # "1 500" is one number; "330 350" is two (no village has 330 350 voters)


def _pair(state: FlowState) -> tuple[str, str] | None:
    """The two fields this step asks for, or None when it asks for one number only."""
    pair = PAIRS.get(state.step)
    return pair if pair is not None and state.data.get(pair[1]) is None else None


def ask_count(ctx: Context, state: FlowState) -> Question:
    text = t(f"election.ask.pair.{state.step}" if _pair(state) else f"election.ask.{state.step}")
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


def _two_numbers(text: str, data: dict[str, Any], pair: tuple[str, str]) -> dict[str, int] | None:
    """The pair's two numbers, unless they are one number grouped by a space: ``1 500`` at "roll and
    attendees?" is 1500 (as 1, 500 it breaks the form's rules — the second of a pair is never larger
    than the first — and no village has 100 000 voters), while ``350 330`` is two numbers and ``330 350``
    two numbers in the wrong order (asked again, named)."""
    both = parse_count_pair(text, pair)
    if both is None or count_error({**data, **both}) is None:
        return both
    one = parse_count(text)
    return None if one is not None and one < SPACED_NUMBER_BELOW else both


async def take_count(ctx: Context, state: FlowState, next_step: Callable[[dict[str, Any]], S]) -> S:
    """One number for this step, both numbers of its pair, or the whole record in one message (read
    back to the head)."""
    text, data, pair = answer_text(ctx), state.data, _pair(state)
    block = parse_count_block(text)
    if block is not None:
        for f in FULL_ORDER:
            data[f] = block.get(f)
        ctx.say(readback(data))
        return _check(ctx, state, next_step(data))
    both = None if pair is None else _two_numbers(text, data, pair)
    if both is not None:
        data.update(both)
        return _check(ctx, state, next_step(data))
    n = parse_count(text)
    if n is None:
        raise Invalid("election.bad.count_pair" if pair else "election.bad.count")
    data[state.step] = n
    return _check(ctx, state, next_step(data))
