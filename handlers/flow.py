"""Conversations as data: a flow is a table of steps, each declaring its question, how its answer is
taken, and which step comes next — the whole graph of a conversation visible in one place.

The engine runs one step per incoming message (:func:`run_step`): the step's ``take`` reads the
answer into ``state.data`` and returns the next step's name (or :data:`END`); a wrong answer raises
:class:`Invalid` and the one shared :func:`reask` says what was wrong and asks the same (or another)
step's question again. Stored answers are codes and ISO dates; text comes from the catalog on display.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from handlers.context import Context
from handlers.messages import Choice
from handlers.parsing import match_choice, nfc, parse_yes_no
from texts.catalog import t

MAX_WRONG = 3
END: None = None  # ``take`` returns this when the conversation is over (saved or dropped)


@dataclass(slots=True)
class FlowState:
    """Where a conversation is: the step waiting for an answer, the answers so far, wrong tries."""

    step: str
    data: dict[str, Any] = field(default_factory=dict)
    wrong: int = 0


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    choices: Sequence[Choice] = ()
    free_text: bool = True  # the user may also type an answer instead of choosing
    ask_phone: bool = False  # offer the platform's "share my phone number" button


class Invalid(ValueError):
    """An answer that cannot be taken: ``key`` is the catalog key of the specific hint; ``goto``
    names the step to ask again when the answer contradicts an earlier one (default: the same)."""

    def __init__(self, key: str, *, goto: str | None = None, **kwargs: Any) -> None:
        super().__init__(key)
        self.key = key
        self.goto = goto
        self.kwargs = kwargs


Ask = Callable[[Context, FlowState], Question]
Take = Callable[[Context, FlowState], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class Step:
    ask: Ask
    take: Take
    photo_answers: bool = False  # a photo stored at this step answers it (``take`` sees no text)


@dataclass(frozen=True, slots=True)
class Flow:
    """A conversation: its name (stored with the state), its first message, and its steps."""

    name: str
    begin: Callable[[Context], Awaitable[FlowState | None]]  # says the intro; None: nothing to ask
    steps: Mapping[str, Step]


def ask(ctx: Context, flow: Flow, state: FlowState) -> None:
    q = flow.steps[state.step].ask(ctx, state)
    ctx.say(q.text, choices=list(q.choices), free_text=q.free_text, ask_phone=q.ask_phone)


def reask(ctx: Context, flow: Flow, state: FlowState, error: Invalid) -> FlowState:
    """Say what was wrong with a specific hint, ask again; after three in a row offer help."""
    if error.goto is not None:
        state.step = error.goto
    state.wrong += 1
    q = flow.steps[state.step].ask(ctx, state)
    text = t(error.key, **error.kwargs) + "\n" + q.text
    if state.wrong >= MAX_WRONG:
        text += "\n\n" + t("common.offer_help")
    ctx.say(text, choices=list(q.choices), free_text=q.free_text, ask_phone=q.ask_phone)
    return state


async def start(ctx: Context, flow: Flow) -> FlowState | None:
    """Begin ``flow`` and ask its first question."""
    state = await flow.begin(ctx)
    if state is not None:
        ask(ctx, flow, state)
    return state


async def run_step(ctx: Context, flow: Flow, state: FlowState) -> FlowState | None:
    """Take the answer to the current step; ask the next question, or re-ask; None when done."""
    try:
        nxt = await flow.steps[state.step].take(ctx, state)
    except Invalid as err:
        return reask(ctx, flow, state, err)
    if nxt is END:
        return None
    state.step, state.wrong = nxt, 0
    ask(ctx, flow, state)
    return state


# --- reading answers ---------------------------------------------------------------------------
def answer_text(ctx: Context) -> str:
    return nfc(ctx.incoming.choice or ctx.incoming.text or ctx.incoming.phone or "")


def choose(ctx: Context, choices: Sequence[Choice]) -> str | None:
    """The value of the chosen option: a tapped button, its number, its label (diacritics optional)."""
    if ctx.incoming.choice and any(c.value == ctx.incoming.choice for c in choices):
        return ctx.incoming.choice
    return match_choice(answer_text(ctx), [(c.value, c.label) for c in choices])


def must_choose(ctx: Context, choices: Sequence[Choice], error: str = "common.bad_choice") -> str:
    picked = choose(ctx, choices)
    if picked is None:
        raise Invalid(error)
    return picked


def yes_no_choices() -> list[Choice]:
    return [Choice("yes", t("common.yes")), Choice("no", t("common.no"))]


def yes_no(ctx: Context) -> bool | None:
    picked = choose(ctx, yes_no_choices())
    if picked is not None:
        return picked == "yes"
    return parse_yes_no(answer_text(ctx))


def must_yes_no(ctx: Context) -> bool:
    answer = yes_no(ctx)
    if answer is None:
        raise Invalid("common.bad_yes_no")
    return answer


def labelled(prefix: str, values: Sequence[str]) -> list[Choice]:
    """Choices whose labels are the catalog's ``{prefix}.{value}``."""
    return [Choice(v, t(f"{prefix}.{v}")) for v in values]
