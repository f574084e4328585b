"""Conversations as checked data: a flow is a table of steps, each declaring its question, how its
answer is taken, and the steps it may go to — the whole graph of a conversation visible in one place,
and checked when the flow is built (:func:`problems`): every exit and every step to ask again names a
step of the flow, every step can be reached from a first step. Step names are one ``Literal`` type per
flow, so a ``take`` that returns a name its flow lacks is a type error too.

The engine runs one step per incoming message (:func:`run_step`): the step's ``take`` reads the
answer into ``state.data`` and returns the next step's name, one of its declared ``exits`` (or
:data:`END`); a wrong answer raises :class:`Invalid` and the one shared :func:`reask` says what was
wrong and asks the same step's question again, or that of one of its declared ``retries``. Stored
answers are codes and ISO dates; text comes from the catalog on display. A stored state whose flow
or step no longer exists (a rename between two messages) is not resumed (:func:`resume`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from handlers.context import Context
from handlers.messages import Choice
from handlers.parsing import match_choice, nfc, parse_yes_no
from texts.catalog import t

MAX_WRONG = 3
END: None = None  # ``take`` returns this when the conversation is over (saved or dropped)
S = TypeVar("S", bound=str)  # a flow's step names (a ``Literal`` type)
C = TypeVar("C", bound=Context)  # what a flow's steps see (handlers.context.HeadContext for heads)


class FlowError(RuntimeError):
    """A flow that breaks its own declared graph: a mistake in the code, never the user's."""


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
    names the step to ask again when the answer contradicts an earlier one (default: the same; it
    must be one of the step's declared ``retries``)."""

    def __init__(self, key: str, *, goto: str | None = None, **kwargs: Any) -> None:
        super().__init__(key)
        self.key = key
        self.goto = goto
        self.kwargs = kwargs


Ask = Callable[[C, FlowState], Question]
Take = Callable[[C, FlowState], Awaitable[S | None]]


@dataclass(frozen=True, slots=True)
class Step(Generic[C, S]):
    """One question: how it is asked, how its answer is taken, and where the conversation may go next
    (``exits``: what ``take`` may return besides END; ``retries``: what ``Invalid(goto=)`` may name)."""

    ask: Ask[C]
    take: Take[C, S]
    exits: tuple[S, ...] = ()
    retries: tuple[S, ...] = ()
    photo_answers: bool = False  # a photo stored at this step answers it (``take`` sees no text)


class Stored(Protocol):
    """A stored conversation state, as far as resuming it goes (models.dialog.state.StoredState)."""

    @property
    def flow(self) -> str: ...
    @property
    def step(self) -> str: ...
    @property
    def data(self) -> dict[str, Any]: ...
    @property
    def wrong_count(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Flow(Generic[C, S]):
    """A conversation: its name (stored with the state), its first message, its steps, the steps
    ``begin`` may start at, and the context its steps see (``context`` narrows the engine's: None when
    this account may not go on, e.g. no longer a village head). Refused when built if its graph is
    broken (:func:`problems`)."""

    name: str
    begin: Callable[[C], Awaitable[FlowState | None]]  # says the intro; None: nothing to ask
    steps: Mapping[S, Step[C, S]]
    entries: tuple[S, ...]
    context: Callable[[Context], C | None]

    def __post_init__(self) -> None:
        found = problems(self)
        if found:
            raise FlowError(f"flow {self.name!r}: " + "; ".join(found))


def problems(flow: Flow[Any, Any]) -> list[str]:
    """What is wrong with a flow's graph: an entry, exit or retry naming no step; a step no path from an
    entry reaches. Empty when the graph is sound."""
    out = [f"entry {e!r} is not a step" for e in flow.entries if e not in flow.steps]
    for name, step in flow.steps.items():
        out += [f"{name!r} exits to {e!r}, not a step" for e in step.exits if e not in flow.steps]
        out += [f"{name!r} asks {e!r} again, not a step" for e in step.retries if e not in flow.steps]
    reached = _reachable(flow, [e for e in flow.entries if e in flow.steps])
    out += [f"{name!r} cannot be reached" for name in flow.steps if name not in reached]
    return out


def _reachable(flow: Flow[Any, Any], start: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name in seen or name not in flow.steps:
            continue
        seen.add(name)
        step = flow.steps[name]
        todo += [*step.exits, *step.retries]
    return seen


def resume(flows: Mapping[str, Flow[Any, Any]], row: Stored) -> tuple[Flow[Any, Any], FlowState] | None:
    """The flow and state of a stored conversation, or None when its flow or step no longer exists
    (renamed or removed since it was stored): the caller treats it as expired."""
    flow = flows.get(row.flow)
    if flow is None or row.step not in flow.steps:
        return None
    return flow, FlowState(row.step, dict(row.data), row.wrong_count)


def _narrow(ctx: Context, flow: Flow[C, Any]) -> C | None:
    narrow = flow.context(ctx)
    if narrow is None:
        ctx.say(t("common.flow_not_allowed"))
    return narrow


def ask(ctx: Context, flow: Flow[Any, Any], state: FlowState) -> None:
    """Ask the question of the current step (again)."""
    narrow = _narrow(ctx, flow)
    if narrow is not None:
        _ask(narrow, flow, state)


def _ask(ctx: C, flow: Flow[C, Any], state: FlowState) -> None:
    q = flow.steps[state.step].ask(ctx, state)
    ctx.say(q.text, choices=list(q.choices), free_text=q.free_text, ask_phone=q.ask_phone)


def _reask(ctx: C, flow: Flow[C, Any], state: FlowState, error: Invalid) -> FlowState:
    """Say what was wrong with a specific hint, ask again; after three in a row offer help."""
    if error.goto is not None and error.goto != state.step:
        if error.goto not in flow.steps[state.step].retries:
            raise FlowError(f"flow {flow.name!r}: {state.step!r} asks {error.goto!r} again, not declared")
        state.step = error.goto
    state.wrong += 1
    q = flow.steps[state.step].ask(ctx, state)
    text = t(error.key, **error.kwargs) + "\n" + q.text
    if state.wrong >= MAX_WRONG:
        text += "\n\n" + t("common.offer_help")
    ctx.say(text, choices=list(q.choices), free_text=q.free_text, ask_phone=q.ask_phone)
    return state


async def start(ctx: Context, flow: Flow[Any, Any]) -> FlowState | None:
    """Begin ``flow`` and ask its first question."""
    narrow = _narrow(ctx, flow)
    state = None if narrow is None else await flow.begin(narrow)
    if narrow is not None and state is not None:
        if state.step not in flow.entries:
            raise FlowError(f"flow {flow.name!r} begins at {state.step!r}, not a declared entry")
        _ask(narrow, flow, state)
    return state


async def run_step(ctx: Context, flow: Flow[Any, Any], state: FlowState) -> FlowState | None:
    """Take the answer to the current step; ask the next question, or re-ask; None when done (or when
    this account may no longer go on with it)."""
    narrow = _narrow(ctx, flow)
    if narrow is None:
        return None
    step = flow.steps[state.step]
    try:
        nxt = await step.take(narrow, state)
    except Invalid as err:  # (a button of another question pressed late is said to be one, not a wrong answer)
        return _reask(narrow, flow, state, Invalid("common.stale_button") if _stale_tap(narrow, step, state) else err)
    if nxt is END:
        return None
    if nxt not in step.exits:
        raise FlowError(f"flow {flow.name!r}: {state.step!r} went to {nxt!r}, not one of its exits")
    state.step, state.wrong = nxt, 0
    _ask(narrow, flow, state)
    return state


def _stale_tap(ctx: Context, step: Step[Any, Any], state: FlowState) -> bool:
    """The answer is a tapped button that the current question does not offer (one of an earlier
    question's, pressed late: two quick taps, or a message sent while a step was on its way)."""
    choice = ctx.incoming.choice
    return bool(choice) and all(c.value != choice for c in step.ask(ctx, state).choices)


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
