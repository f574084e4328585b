"""``/nhiemvu``: the conclusions and tasks the commune sent the village — acknowledge ("đã nhận"), and
report a task done with a note. The steps are the table ``STEPS``."""

from __future__ import annotations

from typing import Literal

from handlers.context import HeadContext, as_head
from handlers.flow import END, Flow, FlowState, Question, Step, answer_text, choose, must_choose
from handlers.giaoban_replies import answers_for_village
from handlers.messages import Choice
from models.giaoban.tasks import Item, acknowledge, open_items, report_done
from models.refusal import Refused
from texts.catalog import t
from texts.fmt import fmt_date

TaskStep = Literal["pick", "action", "note"]
LABEL_CHARS = 48


def _line(i: int, item: Item) -> str:
    c = item.conclusion
    key = "gb.tasks.line_task" if c.is_task else "gb.tasks.line"
    status = t("gb.tasks.status_new" if item.directive.acknowledged_at is None else "gb.tasks.status_ack")
    return t(key, i=i, text=c.text, due=fmt_date(c.due_date)) + status


async def _items(ctx: HeadContext) -> list[Item]:
    return await open_items(ctx.session, ctx.village_id)


def short_label(text: str, limit: int = LABEL_CHARS) -> str:
    """``text`` up to ``limit`` characters, cut at a word boundary with "…" (never mid-word)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    return cut.rstrip(" ,.;:—-") + "…"


def pick_choices(items: list[Item]) -> list[Choice]:
    out = [Choice(str(it.directive.id), f"{i}. {short_label(it.conclusion.text)}") for i, it in enumerate(items, 1)]
    if any(it.directive.acknowledged_at is None for it in items):
        out.append(Choice("ack_all", t("gb.tasks.ack_all")))
    return out


def action_choices(item: Item) -> list[Choice]:
    out = []
    if item.directive.acknowledged_at is None:
        out.append(Choice("ack", t("gb.tasks.ack")))
    if item.conclusion.is_task:
        out.append(Choice("done", t("gb.tasks.done")))
    return [*out, Choice("back", t("gb.tasks.back"))]


def _chosen(items: list[Item], state: FlowState) -> tuple[int, Item] | None:
    for i, it in enumerate(items, 1):
        if it.directive.id == state.data.get("item"):
            return i, it
    return None


def ask_pick(ctx: HeadContext, state: FlowState) -> Question:
    offers_all = any(v == "ack_all" for v, _label in state.data["choices"])
    return Question(t("gb.tasks.ask_pick" if offers_all else "gb.tasks.ask_pick_one"),
                    [Choice(v, label) for v, label in state.data["choices"]], free_text=False)


def ask_action(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t("gb.tasks.ask_action", i=state.data["i"], text=state.data["text"]),
                    [Choice(v, label) for v, label in state.data["actions"]], free_text=False)


def ask_note(ctx: HeadContext, state: FlowState) -> Question:
    return Question(t("gb.tasks.ask_note"), [Choice("none", t("gb.tasks.no_note"))])


async def _ack(ctx: HeadContext, ids: list[int]) -> None:
    n = 0
    for directive_id in ids:
        n += await acknowledge(ctx.session, directive_id, ctx.village_id, ctx.actor, ctx.now)
    ctx.say(t("gb.tasks.acked", village=ctx.unit.full_name, n=n))


async def take_pick(ctx: HeadContext, state: FlowState) -> TaskStep | None:
    items = await _items(ctx)
    picked = must_choose(ctx, pick_choices(items))
    if picked == "ack_all":
        await _ack(ctx, [it.directive.id for it in items if it.directive.acknowledged_at is None
                         and it.directive.id is not None])
        return END
    state.data["item"] = int(picked)
    found = _chosen(items, state)
    assert found is not None
    i, item = found
    state.data.update(i=i, text=item.conclusion.text,
                      actions=[(c.value, c.label) for c in action_choices(item)])
    return "action"


async def take_action(ctx: HeadContext, state: FlowState) -> TaskStep | None:
    picked = must_choose(ctx, [Choice(v, label) for v, label in state.data["actions"]])
    if picked == "back":
        items = await _items(ctx)
        state.data["choices"] = [(c.value, c.label) for c in pick_choices(items)]
        return "pick"
    if picked == "ack":
        await _ack(ctx, [state.data["item"]])
        return END
    return "note"


async def take_note(ctx: HeadContext, state: FlowState) -> TaskStep | None:
    note = None if choose(ctx, [Choice("none", t("gb.tasks.no_note"))]) == "none" else answer_text(ctx)
    # (after a photo, the answer is empty: done, with the photo and no note)
    try:
        await report_done(ctx.session, state.data["item"], ctx.village_id, note, ctx.actor, ctx.now)
    except Refused as err:
        ctx.say(t(f"gb.refused.{err.reason}"))
        return END
    ctx.say(t("gb.tasks.done_saved", text=state.data["text"]))
    return END


STEPS: dict[TaskStep, Step[HeadContext, TaskStep]] = {
    "pick": Step(ask_pick, take_pick, ("action",)),
    "action": Step(ask_action, take_action, ("pick", "note")),
    "note": Step(ask_note, take_note, photo_answers=True),  # "done, with a note or a photo"
}


async def begin(ctx: HeadContext) -> FlowState | None:
    if not await answers_for_village(ctx):
        return None
    items = await _items(ctx)
    if not items:
        ctx.say(t("gb.tasks.none", village=ctx.unit.full_name))
        return None
    ctx.say("\n".join([t("gb.tasks.head", village=ctx.unit.full_name),
                       *(_line(i, it) for i, it in enumerate(items, 1))]))
    return FlowState("pick", {"choices": [(c.value, c.label) for c in pick_choices(items)]})


FLOW = Flow("nhiemvu", begin, STEPS, entries=("pick",), context=as_head)
