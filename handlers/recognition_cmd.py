"""Staff commands for the commune's decision on a result: ``/congnhan THÔN SỐ_QĐ NGÀY`` recognises it,
``/baulai THÔN`` orders a new vote (THÔN: the village's code or name, ``handlers.village_arg``). The
village's heads are told (outbox); a bad command changes nothing and says why."""

from __future__ import annotations

from handlers.context import StaffContext
from handlers.parsing import parse_date
from handlers.village_arg import named_unit
from models.election.recognition import decide, tell_heads
from models.refusal import Refused
from texts.catalog import t
from texts.fmt import fmt_date


async def recognise_cmd(ctx: StaffContext, arg: str) -> None:
    """``/congnhan V1 123/QĐ-UBND 20/12/2024`` (or the village's name: ``/congnhan Đồng Tâm …``)."""
    named = await named_unit(ctx, arg, "recognition.cmd.usage_recognise")
    if named is None:
        return
    village, rest = named
    number = " ".join(rest[:-1])
    on = parse_date(rest[-1], ctx.today, "past") if rest else None
    if village.id is None or not number or on is None:
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


async def new_vote_cmd(ctx: StaffContext, arg: str) -> None:
    """``/baulai V1``: the commune orders the village to vote again."""
    named = await named_unit(ctx, arg, "recognition.cmd.usage_new_vote")
    if named is None or named[0].id is None:
        return
    village, village_id = named[0], named[0].id
    try:
        report = await decide(ctx.session, village_id, new_vote=True, decision=None, on=ctx.today,
                              actor=ctx.actor, now=ctx.now, today=ctx.today)
    except Refused as err:
        ctx.say(t(f"recognition.refused.{err.reason}", village=village.full_name))
        return
    ctx.say(t("recognition.cmd.new_vote", village=village.full_name))
    await tell_heads(ctx.session, village, f"new_vote:{village.code}:{report.election_no}",
                     t("recognition.head_new_vote"), ctx.now)
