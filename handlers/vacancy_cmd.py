"""Staff commands for a vacancy: ``/khuyet MÃ_THÔN LOẠI NGÀY LÝ_DO`` (the head resigned — ``thoi viec``,
was dismissed — ``mien nhiem``, or recalled — ``bai nhiem``) and ``/lamthoi MÃ_THÔN NGÀY HỌ TÊN`` (the
interim head). The village's heads are told the by-election is due; a bad command changes nothing."""

from __future__ import annotations

from handlers.context import Context
from handlers.parsing import parse_date, parse_person_name
from handlers.recognition_cmd import _village
from models.election.recognition import tell_heads
from models.election.vacancy import appoint_interim, by_election_due, record_vacancy
from models.refusal import Refused
from texts.catalog import fold, t
from texts.fmt import fmt_date

KIND_WORDS = {"thoi viec": "resignation", "xin nghi": "resignation", "tu chuc": "resignation",
              "mien nhiem": "dismissal", "bai nhiem": "recall"}


async def vacancy_cmd(ctx: Context, arg: str) -> None:
    """``/khuyet V1 thoi viec 01/02/2025 chuyển công tác``."""
    code, _, rest = arg.strip().partition(" ")
    folded = fold(rest)
    kind = next((k for word, k in KIND_WORDS.items() if folded.startswith(word)), None)
    words = rest.split()
    on = parse_date(words[2], ctx.today, "past") if kind is not None and len(words) > 2 else None
    village = await _village(ctx, code, "vacancy.cmd.usage")
    if village is None or village.id is None:
        return
    if kind is None or on is None:
        ctx.say(t("vacancy.cmd.usage"))
        return
    try:
        vacancy = await record_vacancy(ctx.session, village.id, kind=kind, on=on, reason=" ".join(words[3:]),
                                       actor=ctx.actor, now=ctx.now, today=ctx.today)
    except Refused as err:
        ctx.say(t(f"vacancy.refused.{err.reason}", village=village.full_name))
        return
    due = fmt_date(by_election_due(vacancy))
    ctx.say(t("vacancy.cmd.recorded", village=village.full_name, kind=t(f"vacancy.kind.{kind}"),
              date=fmt_date(on), due=due))
    await tell_heads(ctx.session, village, f"vacancy:{village.code}:{vacancy.election_no}",
                     t("vacancy.head_notice", due=due), ctx.now)


async def interim_cmd(ctx: Context, arg: str) -> None:
    """``/lamthoi V1 05/02/2025 Trần Văn Bình``."""
    code, _, rest = arg.strip().partition(" ")
    when, _, name_text = rest.strip().partition(" ")
    on = parse_date(when, ctx.today, "past") if when else None
    name = parse_person_name(name_text)
    village = await _village(ctx, code, "vacancy.cmd.usage_interim")
    if village is None or village.id is None:
        return
    if on is None or name is None:
        ctx.say(t("vacancy.cmd.usage_interim"))
        return
    try:
        vacancy = await appoint_interim(ctx.session, village.id, name=name, on=on, actor=ctx.actor, now=ctx.now,
                                        today=ctx.today)
    except Refused as err:
        ctx.say(t(f"vacancy.refused.{err.reason}", village=village.full_name))
        return
    ctx.say(t("vacancy.cmd.interim", village=village.full_name, name=name, date=fmt_date(on),
              due=fmt_date(by_election_due(vacancy))))
