"""Staff commands for the commune's decision on a result: ``/congnhan MÃ_THÔN SỐ_QĐ NGÀY`` recognises it,
``/baulai MÃ_THÔN`` orders a new vote. The village's heads are told (outbox); a bad command changes
nothing and says why."""

from __future__ import annotations

from handlers.context import Context
from handlers.parsing import parse_date
from models.election.recognition import decide, tell_heads, village_in_scope
from models.refusal import Refused
from models.units.tables import Unit
from texts.catalog import t
from texts.fmt import fmt_date


async def _village(ctx: Context, code: str, usage: str) -> Unit | None:
    if ctx.unit is None or ctx.unit.id is None:
        ctx.say(t("staffcmd.no_scope"))
        return None
    if not code:
        ctx.say(t(usage))
        return None
    village = await village_in_scope(ctx.session, ctx.settings.period, code, ctx.unit.id)
    if village is None:
        ctx.say(t("recognition.cmd.unknown_village", code=code))
    return village


async def recognise_cmd(ctx: Context, arg: str) -> None:
    """``/congnhan V1 123/QĐ-UBND 20/12/2024``."""
    code, _, rest = arg.strip().partition(" ")
    number, _, when = rest.strip().rpartition(" ")
    on = parse_date(when, ctx.today, "past") if when else None
    village = await _village(ctx, code, "recognition.cmd.usage_recognise")
    if village is None or village.id is None:
        return
    if not number.strip() or on is None:
        ctx.say(t("recognition.cmd.usage_recognise"))
        return
    try:
        report = await decide(ctx.session, village.id, new_vote=False, decision=number.strip(), on=on,
                              actor=ctx.actor, now=ctx.now, today=ctx.today)
    except Refused as err:
        ctx.say(t(f"recognition.refused.{err.reason}", village=village.full_name))
        return
    ctx.say(t("recognition.cmd.recognised", village=village.full_name, name=report.head_name,
              decision=number.strip(), date=fmt_date(on)))
    await tell_heads(ctx.session, village, f"recognised:{village.code}:{report.election_no}",
                     t("recognition.head_recognised", decision=number.strip(), date=fmt_date(on)), ctx.now)


async def new_vote_cmd(ctx: Context, arg: str) -> None:
    """``/baulai V1``: the commune orders the village to vote again."""
    village = await _village(ctx, arg.strip().partition(" ")[0], "recognition.cmd.usage_new_vote")
    if village is None or village.id is None:
        return
    try:
        report = await decide(ctx.session, village.id, new_vote=True, decision=None, on=ctx.today,
                              actor=ctx.actor, now=ctx.now, today=ctx.today)
    except Refused as err:
        ctx.say(t(f"recognition.refused.{err.reason}", village=village.full_name))
        return
    ctx.say(t("recognition.cmd.new_vote", village=village.full_name))
    await tell_heads(ctx.session, village, f"new_vote:{village.code}:{report.election_no}",
                     t("recognition.head_new_vote"), ctx.now)
