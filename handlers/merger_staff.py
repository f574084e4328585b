"""Commune staff record what only they decide (one message each; DESIGN §3):

- ``/ghidangvien THÔN chinhthuc|ketnap|dukien NGÀY``: the head's party status, when the head did not;
- ``/chuany THÔN SỐ NGÀY``: the commune Party committee's approval of the branch secretary;
- ``/kehoachdaihoi [XÃ] [NGÀY]``: the commune's congress deadline (without a date: what it is).

THÔN and XÃ: the unit's code or its name (``handlers.village_arg``).
"""

from __future__ import annotations

from datetime import date

from handlers.context import Context, StaffContext
from handlers.parsing import parse_date
from handlers.village_arg import named_unit
from models.merger.records import approve_secretary, get_plan, record_party_event, set_congress_plan
from models.merger.rules import add_months
from models.refusal import Refused
from models.units.names import find_named
from texts.catalog import fold, t, words
from texts.fmt import fmt_date

PARTY_WORDS = ("full_member", "admitted", "admission_planned")


def _date_at_end(parts: list[str], ctx: Context, prefer: str) -> tuple[list[str], date | None]:
    """The last word read as a date (``20/12/2024``), and the words before it."""
    if not parts:
        return parts, None
    return parts[:-1], parse_date(parts[-1], ctx.today, "future" if prefer == "future" else "past")


async def party_cmd(ctx: StaffContext, arg: str) -> None:
    named = await named_unit(ctx, arg, "merger.staff.usage_party")
    if named is None:
        return
    village, rest = named
    head, on = _date_at_end(rest, ctx, "past")
    kind = next((k for k in PARTY_WORDS if fold(" ".join(head)) in words(f"words.party_{k}")), None)
    if village.id is None or on is None or kind is None:
        ctx.say(t("merger.staff.usage_party"))
        return
    if kind == "admission_planned":
        on = _date_at_end(rest, ctx, "future")[1] or on
    try:
        await record_party_event(ctx.session, village.id, kind, on, ctx.actor, ctx.now, ctx.today)
    except Refused as err:
        ctx.say(t(f"merger.party.refused.{err.reason}", eligible=fmt_date(None)))
        return
    ctx.say(t("merger.staff.party_saved", village=village.full_name, what=t(f"merger.party_choice.{kind}"),
              date=fmt_date(on)))


async def approve_cmd(ctx: StaffContext, arg: str) -> None:
    named = await named_unit(ctx, arg, "merger.staff.usage_approve")
    if named is None:
        return
    village, rest = named
    number, on = _date_at_end(rest, ctx, "past")
    if village.id is None or on is None or not number:
        ctx.say(t("merger.staff.usage_approve"))
        return
    try:
        await approve_secretary(ctx.session, village.id, " ".join(number), on, ctx.actor, ctx.now, ctx.today)
    except Refused as err:
        ctx.say(t(f"merger.staff.refused.{err.reason}", village=village.full_name))
        return
    ctx.say(t("merger.staff.approved", village=village.full_name, number=" ".join(number), date=fmt_date(on)))


async def plan_cmd(ctx: StaffContext, arg: str) -> None:
    """``/kehoachdaihoi [XÃ] [NGÀY]``: a commune's staff may leave the commune out; staff above a commune
    name it (code or name)."""
    unit, rest = ctx.unit, arg.split()
    named_first = rest and (await find_named(ctx.session, ctx.scope_id, rest, "commune")).units
    if named_first or (rest and unit.level != "commune" and parse_date(arg, ctx.today, "future") is None):
        named = await named_unit(ctx, arg, "merger.staff.usage_plan", level="commune")
        if named is None:
            return
        unit, rest = named
    if unit.level != "commune" or unit.id is None:
        ctx.say(t("merger.staff.plan_needs_commune"))
        return
    name = unit.full_name or unit.name
    if not rest:
        plan = await get_plan(ctx.session, unit.id)
        default = ctx.settings.reminder_rules.congress_deadline if ctx.settings.reminder_rules else None
        if plan is not None:
            ctx.say(t("merger.staff.plan_now", unit=name, date=fmt_date(plan.deadline)))
        elif default is not None:
            ctx.say(t("merger.staff.plan_default", unit=name, date=fmt_date(default)))
        else:
            ctx.say(t("merger.staff.plan_none", unit=name))
        return
    deadline = parse_date(" ".join(rest), ctx.today, "future")
    if deadline is None or deadline > add_months(ctx.today, 60):
        ctx.say(t("merger.staff.usage_plan"))
        return
    await set_congress_plan(ctx.session, unit.id, deadline, ctx.actor, ctx.now)
    ctx.say(t("merger.staff.plan_saved", unit=name, date=fmt_date(deadline)))
