"""Plain replies to the giao ban loop's messages, outside any conversation: "có" / "không, <lý do>"
answers the invitation to the next meeting, "đã nhận" acknowledges every directive not yet
acknowledged. Anything else is left to the engine's usual answer."""

from __future__ import annotations

import re
from datetime import timedelta

from handlers.context import Context
from handlers.parsing import parse_yes_no
from models.giaoban.meetings import next_meeting, record_attendance
from models.giaoban.tasks import acknowledge, open_items
from models.refusal import Refused
from texts.catalog import fold, t, words
from texts.fmt import fmt_time_date

_NO_FIRST = frozenset({"khong", "ko", "k", "hong"})
_SPLIT = re.compile(r"^\s*(\S+?)[\s,.;:–-]+(.*)$", re.S)


def split_answer(text: str) -> tuple[bool | None, str]:
    """``"không, bận họp"`` → (False, "bận họp"); ``"có"`` → (True, ""); anything else → (None, "")."""
    whole = parse_yes_no(text)
    if whole is not None:
        return whole, ""
    m = _SPLIT.match(text)
    if m is None:
        return None, ""
    if fold(m[1]) in _NO_FIRST:  # "không bận họp", "ko, ốm": a refusal with its reason
        return False, m[2].strip()
    return None, ""  # "có lẽ", "chưa biết": not an answer


async def free_reply(ctx: Context, text: str) -> bool:
    """Handle ``text`` as an answer to the loop's messages; True when it was one."""
    if ctx.role != "village_head" or ctx.unit is None or ctx.unit.id is None:
        return False
    if fold(text).strip(" .!") in words("gb.words.ack"):
        items = [it for it in await open_items(ctx.session, ctx.unit.id) if it.directive.acknowledged_at is None]
        if not items:
            return False
        for it in items:
            assert it.directive.id is not None
            await acknowledge(ctx.session, it.directive.id, ctx.unit.id, ctx.actor, ctx.now)
        ctx.say(t("gb.tasks.acked", village=ctx.unit.full_name, n=len(items)))
        return True
    attending, reason = split_answer(text)
    if attending is None:
        return False
    meeting = await next_meeting(ctx.session, ctx.unit.parent_id or 0, ctx.now)
    if meeting is None or meeting.starts_at - ctx.now > timedelta(days=ctx.settings.giaoban.invite_days_before):
        return False
    when = fmt_time_date(meeting.starts_at, ctx.settings.tz)
    if not attending and len(reason) < 3:
        ctx.say(t("gb.attend.ask_reason") + " " + t("gb.attend.reason_hint"))
        return True
    try:
        await record_attendance(ctx.session, meeting, ctx.unit.id, attending, reason or None, ctx.account.id,
                                ctx.incoming.channel, ctx.now)
    except Refused as err:
        ctx.say(t(f"gb.refused.{err.reason}"))
        return True
    ctx.say(t("gb.attend.saved_yes" if attending else "gb.attend.saved_no", village=ctx.unit.full_name, when=when,
              reason=reason))
    return True
