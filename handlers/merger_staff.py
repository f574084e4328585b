"""Commune staff record what only they decide (one message each; DESIGN §3):

- ``/ghidangvien MÃ_THÔN chinhthuc|ketnap|dukien NGÀY``: the head's party status, when the head did not;
- ``/chuany MÃ_THÔN SỐ NGÀY``: the commune Party committee's approval of the branch secretary;
- ``/kehoachdaihoi [NGÀY]``: the commune's congress deadline (without a date: what it is).
"""

from __future__ import annotations

from datetime import date

from handlers.context import Context, StaffContext
from handlers.parsing import parse_date
from models.merger.records import approve_secretary, get_plan, record_party_event, set_congress_plan
from models.merger.rules import add_months
from models.refusal import Refused
from models.units.tables import Unit
from models.units.tree import get_unit, is_within
from texts.catalog import fold, t, words
from texts.fmt import fmt_date

PARTY_WORDS = ("full_member", "admitted", "admission_planned")


async def _village(ctx: StaffContext, code: str) -> Unit | None:
    """The village of that code within the staff member's scope; None (and said so) otherwise."""
    unit = await get_unit(ctx.session, ctx.settings.period, code)
    if unit is None or unit.level != "village" or unit.id is None or not await is_within(
            ctx.session, unit.id, ctx.scope_id):
        ctx.say(t("merger.staff.not_found", code=code))
        return None
    return unit


def _date_at_end(parts: list[str], ctx: Context, prefer: str) -> tuple[list[str], date | None]:
    """The last word read as a date (``20/12/2024``), and the words before it."""
    if not parts:
        return parts, None
    return parts[:-1], parse_date(parts[-1], ctx.today, "future" if prefer == "future" else "past")


async def party_cmd(ctx: StaffContext, arg: str) -> None:
    parts = arg.split()
    head, on = _date_at_end(parts[1:], ctx, "past")
    kind = next((k for k in PARTY_WORDS if fold(" ".join(head)) in words(f"words.party_{k}")), None)
    if not parts or on is None or kind is None:
        ctx.say(t("merger.staff.usage_party"))
        return
    if kind == "admission_planned":
        on = _date_at_end(parts[1:], ctx, "future")[1] or on
    village = await _village(ctx, parts[0])
    if village is None or village.id is None:
        return
    try:
        await record_party_event(ctx.session, village.id, kind, on, ctx.actor, ctx.now, ctx.today)
    except Refused as err:
        ctx.say(t(f"merger.party.refused.{err.reason}", eligible=fmt_date(None)))
        return
    ctx.say(t("merger.staff.party_saved", village=village.full_name, what=t(f"merger.party_choice.{kind}"),
              date=fmt_date(on)))


async def approve_cmd(ctx: StaffContext, arg: str) -> None:
    parts = arg.split()
    number, on = _date_at_end(parts[1:], ctx, "past")
    if len(parts) < 3 or on is None or not number:
        ctx.say(t("merger.staff.usage_approve"))
        return
    village = await _village(ctx, parts[0])
    if village is None or village.id is None:
        return
    try:
        await approve_secretary(ctx.session, village.id, " ".join(number), on, ctx.actor, ctx.now, ctx.today)
    except Refused as err:
        ctx.say(t(f"merger.staff.refused.{err.reason}", village=village.full_name))
        return
    ctx.say(t("merger.staff.approved", village=village.full_name, number=" ".join(number), date=fmt_date(on)))


async def plan_cmd(ctx: StaffContext, arg: str) -> None:
    unit, name = ctx.unit, ctx.unit.full_name or ctx.unit.name
    if unit.level != "commune":
        ctx.say(t("merger.staff.plan_needs_commune"))
        return
    if not arg.strip():
        plan = await get_plan(ctx.session, ctx.scope_id)
        default = ctx.settings.reminder_rules.congress_deadline if ctx.settings.reminder_rules else None
        if plan is not None:
            ctx.say(t("merger.staff.plan_now", unit=name, date=fmt_date(plan.deadline)))
        elif default is not None:
            ctx.say(t("merger.staff.plan_default", unit=name, date=fmt_date(default)))
        else:
            ctx.say(t("merger.staff.plan_none", unit=name))
        return
    deadline = parse_date(arg, ctx.today, "future")
    if deadline is None or deadline > add_months(ctx.today, 60):
        ctx.say(t("merger.staff.usage_plan"))
        return
    await set_congress_plan(ctx.session, ctx.scope_id, deadline, ctx.actor, ctx.now)
    ctx.say(t("merger.staff.plan_saved", unit=name, date=fmt_date(deadline)))
