"""Staff commands (DESIGN §4): ``/tonghop``, ``/chamtre``, ``/xuatfile``, ``/nhantonghop bat|tat``.

Called by the dialog engine once it has checked that the caller is staff or admin; each reads the
staff member's scope (``ctx.unit``) and appends replies with ``ctx.say``.
"""

from __future__ import annotations

import asyncio
import secrets

from handlers.context import StaffContext
from handlers.messages import Attachment
from models.delivery.files import FileRequest, request_file
from models.progress.digest import changes, compute, parent_names, previous_snapshot, save_snapshot
from models.reminders.rules import late_villages
from models.units.tables import Unit
from models.units.tree import village_count
from reports.chart import progress_chart
from reports.digest_text import render_digest
from reports.export import export_xlsx
from reports.late_text import render_late_grouped
from texts.catalog import fold, t, words
from texts.fmt import fmt_date as vn_date

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LATE_LIST_LIMIT = 60


def _scope(ctx: StaffContext) -> tuple[Unit, int]:
    """The staff member's scope and its id."""
    return ctx.unit, ctx.scope_id


async def digest_now(ctx: StaffContext, arg: str = "") -> None:
    """``/tonghop``: the digest for my unit, now (it counts as my latest digest for "what changed").
    A large scope's digest is computed in the file builder and follows (:func:`_offload`)."""
    unit, unit_id = _scope(ctx)
    if await _offload(ctx, "digest", unit, t("digest.title", unit=unit.full_name or unit.name)):
        return
    figures = await compute(ctx.session, unit, ctx.settings.rules, ctx.today)
    prev = await previous_snapshot(ctx.session, unit_id, ctx.account.id)
    prev_day = prev.created_at.astimezone(ctx.settings.tz).date() if prev else None
    ctx.say(render_digest(figures, changes(figures, prev), prev_day))
    await save_snapshot(ctx.session, figures, ctx.account.id, f"cmd:{ctx.now.isoformat(timespec='seconds')}",
                        ctx.now)
    if figures.villages and len(figures.children) > 1:
        png = await asyncio.to_thread(progress_chart, figures.unit_name, figures.children)
        caption = t("digest.chart_caption", unit=figures.unit_name)
        ctx.say(caption, attachment=Attachment(filename=f"tien-do-{unit.code}-{ctx.today.isoformat()}.png",
                                               content=png, mime_type="image/png"))


async def _offload(ctx: StaffContext, what: str, unit: Unit, caption: str, villages: int | None = None) -> bool:
    """From ``settings.offload_villages`` villages up: say "đang chuẩn bị tệp…" now and ask the file
    builder for the rest (an outbox row, in this step's transaction: ``models.delivery.files``); False below."""
    assert unit.id is not None and ctx.account.id is not None
    villages = await village_count(ctx.session, unit.id) if villages is None else villages
    if villages < ctx.settings.offload_villages:
        return False
    message = ctx.incoming.message_id or secrets.token_hex(8)
    await request_file(ctx.session, key=f"file:{ctx.incoming.channel}:{message}:{what}", account_id=ctx.account.id,
                       request=FileRequest(what, unit.id, ctx.today), caption=caption, now=ctx.now)
    ctx.say(t(f"files.preparing_{what}", unit=unit.full_name or unit.name, n=villages))
    return True


async def late_now(ctx: StaffContext, arg: str = "") -> None:
    """``/chamtre``: the late villages under my unit, oldest first."""
    unit, unit_id = _scope(ctx)
    late, total = await late_villages(ctx.session, ctx.settings.rules, ctx.today, unit_id,
                                      limit=LATE_LIST_LIMIT)
    parents = await parent_names(ctx.session, [d.village_id for d in late])
    ctx.say(render_late_grouped(unit.full_name or unit.name, late, total, ctx.today, parents))


async def export_now(ctx: StaffContext, arg: str = "") -> None:
    """``/xuatfile``: the export of my unit as XLSX (channels that cannot send files show a link); a large
    scope's file is built off the loop and follows (:func:`_offload`)."""
    unit, unit_id = _scope(ctx)
    villages = await village_count(ctx.session, unit_id)
    name = unit.full_name or unit.name
    caption = t("staffcmd.export_ready", unit=name, n=villages, date=vn_date(ctx.today))
    if await _offload(ctx, "xlsx", unit, caption, villages):
        return
    data = await export_xlsx(ctx.session, ctx.settings.period, ctx.today, unit_id,
                             ctx.settings.rules.congress_deadline)
    ctx.say(caption, attachment=Attachment(filename=f"tien-do-{unit.code}-{ctx.today.isoformat()}.xlsx",
                                           content=data, mime_type=XLSX_MIME))


async def digest_opt(ctx: StaffContext, arg: str = "") -> None:
    """``/nhantonghop bat|tat``: receive the periodic digests or not (no argument: say which)."""
    arg = fold(arg)
    if arg in words("words.on"):
        ctx.account.digest_opt_out = False
        ctx.say(t("staffcmd.optin_on"))
    elif arg in words("words.off"):
        ctx.account.digest_opt_out = True
        ctx.say(t("staffcmd.optin_off"))
    else:
        ctx.say(t("staffcmd.optin_state_off" if ctx.account.digest_opt_out else "staffcmd.optin_state_on"))
    ctx.session.add(ctx.account)

