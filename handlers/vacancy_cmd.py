"""Staff commands for a vacancy: ``/khuyet THÔN LOẠI NGÀY LÝ_DO`` (the head resigned — ``thoi viec``,
was dismissed — ``mien nhiem``, or recalled — ``bai nhiem``) and ``/lamthoi THÔN NGÀY HỌ TÊN`` (the
interim head; also for a village new from a merger or split). The head who left is unbound from the
village; the commune staff and the branch secretary are told the by-election is due (never the head who
left). A bad command changes nothing."""

from __future__ import annotations

from handlers.context import StaffContext
from handlers.parsing import parse_date, parse_person_name
from handlers.village_arg import named_unit
from models.election.vacancy import appoint_interim, by_election_due, record_vacancy, tell_vacancy
from models.refusal import Refused
from texts.catalog import fold, t
from texts.fmt import fmt_date

KIND_WORDS = {"thoi viec": "resignation", "xin nghi": "resignation", "tu chuc": "resignation",
              "mien nhiem": "dismissal", "bai nhiem": "recall"}


async def vacancy_cmd(ctx: StaffContext, arg: str) -> None:
    """``/khuyet V1 thoi viec 01/02/2025 chuyển công tác``."""
    named = await named_unit(ctx, arg, "vacancy.cmd.usage")
    if named is None:
        return
    village, words = named
    folded = fold(" ".join(words))
    kind = next((k for word, k in KIND_WORDS.items() if folded.startswith(word)), None)
    on = parse_date(words[2], ctx.today, "past") if kind is not None and len(words) > 2 else None
    if village.id is None or kind is None or on is None:
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
    name, code = village.full_name or village.name, village.code
    await tell_vacancy(ctx.session, village, vacancy,
                       t("vacancy.staff_notice", village=name, code=code, kind=t(f"vacancy.kind.{kind}"),
                         date=fmt_date(on), due=due),
                       t("vacancy.secretary_notice", village=name, date=fmt_date(on), due=due),
                       ctx.now, skip_account=ctx.account.id)


async def interim_cmd(ctx: StaffContext, arg: str) -> None:
    """``/lamthoi V1 05/02/2025 Trần Văn Bình``."""
    named = await named_unit(ctx, arg, "vacancy.cmd.usage_interim")
    if named is None:
        return
    village, words = named
    on = parse_date(words[0], ctx.today, "past") if words else None
    name = parse_person_name(" ".join(words[1:]))
    if village.id is None or on is None or name is None:
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
