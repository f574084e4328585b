"""Building blocks for conversations as data: a state, questions, answers, wrong-answer handling."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from handlers.catalog import t
from handlers.context import Context
from handlers.messages import Choice
from handlers.parsing import match_choice, nfc, parse_yes_no

MAX_WRONG = 3


@dataclass(slots=True)
class FlowState:
    """Where a conversation is: the step waiting for an answer, the answers so far, wrong tries."""

    step: str
    data: dict[str, Any] = field(default_factory=dict)
    wrong: int = 0


class Module(Protocol):
    async def begin(self, ctx: Context) -> FlowState | None: ...

    async def step(self, ctx: Context, state: FlowState) -> FlowState | None: ...


class Invalid(ValueError):
    """An answer that cannot be taken: ``key`` is the catalog key of the specific hint."""

    def __init__(self, key: str, **kwargs: Any) -> None:
        super().__init__(key)
        self.key = key
        self.kwargs = kwargs


def answer_text(ctx: Context) -> str:
    return nfc(ctx.incoming.choice or ctx.incoming.text or ctx.incoming.phone or "")


def choose(ctx: Context, choices: Sequence[Choice]) -> str | None:
    """The value of the chosen option: a tapped button, its number, its label (diacritics optional)."""
    if ctx.incoming.choice and any(c.value == ctx.incoming.choice for c in choices):
        return ctx.incoming.choice
    return match_choice(answer_text(ctx), [(c.value, c.label) for c in choices])


def yes_no_choices() -> list[Choice]:
    return [Choice("yes", t("common.yes")), Choice("no", t("common.no"))]


def yes_no(ctx: Context) -> bool | None:
    picked = choose(ctx, yes_no_choices())
    if picked is not None:
        return picked == "yes"
    return parse_yes_no(answer_text(ctx))


def ask(ctx: Context, text: str, choices: Sequence[Choice] = (), free_text: bool = True) -> None:
    ctx.say(text, choices=list(choices), free_text=free_text)


def wrong(ctx: Context, state: FlowState, error: Invalid, reask: str,
          choices: Sequence[Choice] = ()) -> FlowState:
    """Say what was wrong with a specific hint, ask again; after three in a row offer help."""
    state.wrong += 1
    text = t(error.key, **error.kwargs) + "\n" + reask
    if state.wrong >= MAX_WRONG:
        text += "\n\n" + t("common.offer_help")
    ctx.say(text, choices=list(choices))
    return state


def advance(state: FlowState, step: str, **data: Any) -> FlowState:
    state.data.update(data)
    state.step = step
    state.wrong = 0
    return state
