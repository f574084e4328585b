"""Plain replies to the giao ban loop's messages, outside any conversation: "có" / "không, <lý do>"
answers the invitation to the next meeting, "phó bí thư Nguyễn Văn An dự thay" names a deputy who
attends in the secretary's place, "đã nhận" acknowledges every directive not yet acknowledged.
Anything else is left to the engine's usual answer. Only the account that answers for the village in
the loop (``models.giaoban.people``: the branch secretary) may answer; :func:`answers_for_village`."""

from __future__ import annotations

import re
from datetime import timedelta

from handlers.context import Context
from handlers.parsing import parse_person_name, parse_yes_no
from models.accounts.tables import VILLAGE_ROLES
from models.giaoban.meetings import next_meeting, record_attendance
from models.giaoban.people import SECRETARY, giaoban_contact
from models.giaoban.tasks import acknowledge, open_items
from models.refusal import Refused
from texts.catalog import fold, t, words
from texts.fmt import fmt_time_date

_NO_FIRST = frozenset({"khong", "ko", "k", "hong"})
_SPLIT = re.compile(r"^\s*(\S+?)[\s,.;:–-]+(.*)$", re.S)


_WORD_EDGE = re.compile(r"^[\W_]+|[\W_]+$")


def deputy_named(text: str) -> str | None:
    """Whom an attendance answer names in the secretary's place: ``"phó bí thư Nguyễn Văn An dự thay"``,
    ``"có, cử đ/c Trần Thị Bình dự thay"``, ``"dự thay: Lê Văn Cường"`` → the name; ``""`` when the
    answer says someone attends in their place but no full name can be read; None when it names nobody."""
    tokens = [w for w in (_WORD_EDGE.sub("", w) for w in text.split()) if w]
    folded = [fold(w) for w in tokens]
    marks = [m.split() for m in words("gb.words.deputy_marks")]
    at = next(((i, len(m)) for i in range(len(folded)) for m in marks if folded[i:i + len(m)] == m), None)
    if at is None:
        return None
    i, n = at
    rest, rest_folded = tokens[:i] + tokens[i + n:], folded[:i] + folded[i + n:]
    titles = sorted((w.split() for w in words("gb.words.deputy_titles")), key=len, reverse=True)
    while rest_folded:
        title = next((w for w in titles if rest_folded[:len(w)] == w), None)
        if title is None:
            break
        rest, rest_folded = rest[len(title):], rest_folded[len(title):]
    return parse_person_name(" ".join(rest)) or ""


async def answers_for_village(ctx: Context) -> bool:
    """True when this account answers for its village in the giao ban loop; otherwise says who does."""
    if ctx.person is None or ctx.person.role not in VILLAGE_ROLES or ctx.unit is None or ctx.unit.id is None:
        return False
    contact = await giaoban_contact(ctx.session, ctx.unit.id)
    if contact.role == ctx.person.role:
        return True
    ctx.say(t("gb.role.secretary_answers" if contact.role == SECRETARY else "gb.role.head_answers",
              village=ctx.unit.full_name))
    return False


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
    if ctx.role not in VILLAGE_ROLES or ctx.unit is None or ctx.unit.id is None:
        return False
    if fold(text).strip(" .!") in words("gb.words.ack"):
        items = [it for it in await open_items(ctx.session, ctx.unit.id) if it.directive.acknowledged_at is None]
        if not items:
            return False
        if not await answers_for_village(ctx):
            return True
        for it in items:
            assert it.directive.id is not None
            await acknowledge(ctx.session, it.directive.id, ctx.unit.id, ctx.actor, ctx.now)
        ctx.say(t("gb.tasks.acked", village=ctx.unit.full_name, n=len(items)))
        return True
    deputy = deputy_named(text)
    attending, reason = (True, "") if deputy is not None else split_answer(text)
    if attending is None:
        return False
    meeting = await next_meeting(ctx.session, ctx.unit.parent_id or 0, ctx.now)
    if meeting is None or meeting.starts_at - ctx.now > timedelta(days=ctx.settings.giaoban.invite_days_before):
        return False
    if not await answers_for_village(ctx):
        return True
    when = fmt_time_date(meeting.starts_at, ctx.settings.tz)
    if deputy == "":
        ctx.say(t("gb.deputy.bad_name"))
        return True
    if not attending and len(reason) < 3:
        ctx.say(t("gb.attend.ask_reason") + " " + t("gb.attend.reason_hint"))
        return True
    try:
        await record_attendance(ctx.session, meeting, ctx.unit.id, attending, reason or None, ctx.account.id,
                                ctx.incoming.channel, ctx.now, deputy=deputy)
    except Refused as err:
        ctx.say(t(f"gb.refused.{err.reason}"))
        return True
    if deputy:
        ctx.say(t("gb.deputy.saved", deputy=deputy, village=ctx.unit.full_name, when=when))
        return True
    ctx.say(t("gb.attend.saved_yes" if attending else "gb.attend.saved_no", village=ctx.unit.full_name, when=when,
              reason=reason))
    return True
