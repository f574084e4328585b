"""The winner's phone in ``/baucu``: optional; Telegram offers its contact button; a typed number is
read leniently (``0912 345 678``, ``+84 912…``) and kept as ``+84…``. It goes on the report (staff see
it) and on the person when the reporter is the winner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from handlers.context import Context
from handlers.flow import FlowState, Invalid, Question, choose
from handlers.messages import Choice
from handlers.parsing import parse_phone, same_person
from texts.catalog import t

S = TypeVar("S", bound=str)


def international(phone: str) -> str:
    """``0912345678`` → ``+84912345678``."""
    return "+84" + phone.removeprefix("0")


def display(phone: str) -> str:
    """``+84912345678`` → ``0912 345 678`` (how it is read out in Vietnam)."""
    local = "0" + phone.removeprefix("+84")
    return f"{local[:4]} {local[4:7]} {local[7:]}"


def phone_line(phone: str) -> str:
    return t("election.summary.phone", phone=display(phone))


def skip_choices() -> list[Choice]:
    return [Choice("skip", t("election.phone.skip"))]


def ask_phone(ctx: Context, state: FlowState) -> Question:
    return Question(t("election.ask.head_phone"), skip_choices(), ask_phone=True)


async def take_phone(ctx: Context, state: FlowState, next_step: Callable[[dict[str, Any]], S]) -> S:
    data = state.data
    if ctx.incoming.phone is None and choose(ctx, skip_choices()) == "skip":
        data.update(head_phone=None, phone_asked=True)
        return next_step(data)
    parsed = parse_phone(ctx.incoming.phone or ctx.incoming.text or "")
    if parsed is None:
        raise Invalid("election.bad.phone")
    data.update(head_phone=international(parsed), phone_asked=True)
    if ctx.person is not None and (ctx.incoming.phone is not None
                                   or same_person(ctx.person.full_name, data.get("head_name") or "")):
        ctx.person.phone = data["head_phone"]  # the reporter is the winner: kept on the person too
        ctx.session.add(ctx.person)
    return next_step(data)
