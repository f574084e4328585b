"""Every conversation's graph is checked data: each exit and each step asked again names a step of its
flow, every step can be reached, a flow that breaks its graph is refused when built or when it runs,
and a stored state whose flow or step no longer exists is treated as expired (dropped, said politely,
begun again) instead of failing on every message."""

from __future__ import annotations

from typing import Literal

import pytest
from sqlalchemy import select, update

from handlers import giaoban
from handlers.commands import COMMANDS, FLOWS
from handlers.context import Context, Settings
from handlers.engine import Engine
from handlers.flow import END, Flow, FlowError, FlowState, Invalid, Question, Step, problems, run_step
from handlers.messages import Incoming
from models.accounts.tables import ChannelAccount
from models.db import transaction
from models.dialog.tables import ConversationState
from models.giaoban.reports import WHOLE
from models.giaoban.tables import FIELDS
from tests.conftest import Database
from tests.handlers.chat import NOW, TODAY, Chat, Province, invite
from texts.catalog import t


def test_every_flow_of_the_registry_has_a_sound_graph() -> None:
    assert set(FLOWS) == {"election", "congress", "party", "giaoban", "nhiemvu", "thamdu"}
    for name, flow in FLOWS.items():
        assert problems(flow) == [], name
        assert flow.entries, name
        for step_name, step in flow.steps.items():  # every exit and retry names a step of the flow
            assert set(step.exits) | set(step.retries) <= set(flow.steps), (name, step_name)
    assert all(c.flow is FLOWS[c.flow.name] for c in COMMANDS if c.flow is not None)


def test_the_briefing_report_has_a_step_per_field() -> None:
    assert giaoban.FIELD_STEPS == FIELDS and giaoban.WHOLE_STEP == WHOLE
    assert set(FIELDS) <= set(giaoban.FLOW.steps)


def _ask(ctx: Context, state: FlowState) -> Question:
    return Question(state.step)


T = Literal["a", "b", "c"]


def _same(ctx: Context) -> Context:
    return ctx


async def _to_b(ctx: Context, state: FlowState) -> T | None:
    return "b"


async def _begin(ctx: Context) -> FlowState | None:
    return FlowState("a")


def test_a_broken_graph_is_refused_when_the_flow_is_built() -> None:
    with pytest.raises(FlowError, match="exits to 'z'"):
        Flow("x", _begin, {"a": Step(_ask, _to_b, ("z",))}, entries=("a",), context=_same)  # type: ignore[arg-type]
    with pytest.raises(FlowError, match="'c' cannot be reached"):
        Flow("x", _begin, {"a": Step(_ask, _to_b, ("b",)), "b": Step(_ask, _to_b), "c": Step(_ask, _to_b)},
                entries=("a",), context=_same)
    with pytest.raises(FlowError, match="entry 'c' is not a step"):
        Flow("x", _begin, {"a": Step(_ask, _to_b)}, entries=("c",), context=_same)
    with pytest.raises(FlowError, match="asks 'c' again"):
        Flow("x", _begin, {"a": Step(_ask, _to_b, ("b",), retries=("c",)), "b": Step(_ask, _to_b)},
                entries=("a",), context=_same)
    assert problems(Flow("x", _begin, {"a": Step(_ask, _to_b, ("b",)), "b": Step(_ask, _to_b)},
                            entries=("a",), context=_same)) == []


async def _goto_a(ctx: Context, state: FlowState) -> T | None:
    raise Invalid("common.bad_choice", goto="a")


async def test_a_step_that_leaves_its_declared_exits_is_a_flow_error(db: Database) -> None:
    """``run_step`` refuses an undeclared exit or retry (mypy refuses most of them before)."""
    undeclared = Flow("x", _begin, {"a": Step(_ask, _to_b, ("c",)), "b": Step(_ask, _to_b),
                                       "c": Step(_ask, _goto_a, ("b",))}, entries=("a",), context=_same)
    async with db.sessions() as session:  # (no step here touches the database)
        ctx = Context(session=session, incoming=Incoming(channel="web", account_id="u1"),
                      account=ChannelAccount(channel="web", external_id="u1"), person=None, unit=None, now=NOW,
                      today=TODAY, settings=Settings())
        with pytest.raises(FlowError, match="went to 'b'"):
            await run_step(ctx, undeclared, FlowState("a"))
        with pytest.raises(FlowError, match="asks 'a' again"):
            await run_step(ctx, undeclared, FlowState("c"))
    assert END is None


async def _set_stored(db: Database, **values: str) -> None:
    async with transaction(db.sessions) as s:
        assert (await s.execute(update(ConversationState).values(**values))).rowcount == 1  # type: ignore[attr-defined]


async def _stored(db: Database) -> list[tuple[str, str]]:
    async with db.sessions() as s:
        return [(r.flow, r.step) for r in (await s.execute(select(ConversationState))).scalars()]


@pytest.mark.parametrize("stale", [{"step": "head_name_v1"}, {"flow": "bau_cu_cu"}])
async def test_a_stored_step_that_no_longer_exists_is_begun_again(db: Database, engine: Engine,
                                                                   province: Province, stale: dict[str, str]) -> None:
    chat = Chat(engine)
    await chat.send(f"/start {await invite(db.sessions, province.villages[0])}")
    await chat.send("/baucu")
    await chat.send("15/12/2024")
    assert await _stored(db) == [("election", "head_name")]
    await _set_stored(db, **stale)  # a rename between two messages (the state was stored by the old code)
    await chat.send("Nguyễn Văn An")
    assert t("common.flow_changed") in chat.text and t("common.error") not in chat.text
    if "flow" in stale:  # a flow that is gone: what can be done instead
        assert t("help.head") in chat.text and await _stored(db) == []
    else:  # the same report from its first question
        assert chat.text.endswith(t("election.ask.election_date")) and await _stored(db) == [
            ("election", "election_date")]
        await chat.send("15/12/2024")
        assert t("election.ask.head_name") in chat.text  # and it goes on as usual


async def test_a_stale_step_gives_way_to_a_command(db: Database, engine: Engine, province: Province) -> None:
    chat = Chat(engine)
    await chat.send(f"/start {await invite(db.sessions, province.villages[0])}")
    await chat.send("/baucu")
    await _set_stored(db, step="gone")
    await chat.send("/huy")
    assert t("common.flow_changed") in chat.text and t("common.nothing_to_cancel") in chat.text
    assert await _stored(db) == []
