"""The giao ban goes to the branch secretary (DESIGN §3–§4), through the engine as users type:
a secretary invited for the village gets the invitation, /giaoban and /nhiemvu, and may name a deputy;
the head then gets none of it (and is told who does); where the head is the secretary, or no secretary
account exists, the head does. The election stays with the head."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlmodel import col

from handlers.engine import Engine
from models.accounts.access import find_account
from models.db import transaction
from models.delivery.tables import OutboxMessage
from models.giaoban.meetings import get_attendance, get_meeting, schedule_meeting
from models.giaoban.pack import build_pack
from models.giaoban.rules import GiaobanRules
from models.giaoban.sweep import sweep
from models.giaoban.tables import GiaobanMeeting
from models.giaoban.tasks import add_conclusion
from models.refusal import Refused
from models.reminders.rules import Rules
from models.units.tables import Unit
from reports.giaoban_text import render_pack, renderer
from tests.conftest import Database
from tests.handlers.chat import TODAY, Chat, Province, invite
from tests.handlers.test_election import fill
from texts.catalog import t

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
STARTS = datetime(2024, 12, 24, 1, tzinfo=UTC)  # 08:00 on 24/12 in Hà Nội


async def _no_pack(session: object, view: object) -> str:
    return ""


async def run_sweep(db: Database, now: datetime) -> dict[str, str]:
    """The giao ban sweep at ``now``; key → text of what it queued."""
    async with transaction(db.sessions) as s:
        stats = await sweep(s, GiaobanRules(), now=now, tz=TZ, render=renderer(TZ), pack_text=_no_pack)
    async with db.sessions() as s:
        rows = (await s.execute(select(OutboxMessage).where(col(OutboxMessage.key).in_(stats.keys)))).scalars()
        return {r.key: r.text for r in rows}


async def account_id(db: Database, chat: Chat) -> int:
    async with db.sessions() as s:
        account = await find_account(s, chat.channel, chat.account)
    assert account is not None and account.id is not None
    return account.id


async def bind(db: Database, engine: Engine, unit: Unit, name: str, role: str) -> Chat:
    chat = Chat(engine, name)
    await chat.send(f"/start {await invite(db.sessions, unit, role)}")
    return chat


async def meeting(db: Database, province: Province) -> GiaobanMeeting:
    async with transaction(db.sessions) as s:
        return await schedule_meeting(s, province.communes[0], STARTS, "Hội trường xã",
                                      datetime(2024, 12, 20, tzinfo=UTC))


async def test_the_secretary_gets_the_giao_ban_and_the_head_the_election(db: Database, engine: Engine,
                                                                         province: Province) -> None:
    head = await bind(db, engine, province.villages[0], "h1", "village_head")
    secretary = await bind(db, engine, province.villages[0], "b1", "village_secretary")
    assert secretary.text.startswith(t("bind.ok_secretary", village="Thôn 1"))
    head2 = await bind(db, engine, province.villages[1], "h2", "village_head")  # no secretary account
    await fill(head, "15/12", "Lê Thị Hoa", "350 330 320 301", "1", "không", "bỏ qua")  # a member, not secretary
    await head.send("1")
    m = await meeting(db, province)

    sent = await run_sweep(db, datetime(2024, 12, 20, 4, tzinfo=UTC))
    b1, h1, h2 = [await account_id(db, c) for c in (secretary, head, head2)]
    invites = {int(k.rsplit(":a", 1)[1]): v for k, v in sent.items() if k.startswith("giaoban:invite:")}
    assert set(invites) == {b1, h2} and h1 not in invites  # not the head of Thôn 1
    assert t("gb.invited.secretary", village="Thôn 1") in invites[b1] and "kiêm" not in invites[b1]
    assert t("gb.invited.head", village="Thôn 2", addr="ông/bà") in invites[h2]

    # the head is told who answers; nothing is saved for the head
    for text in ("/giaoban", "/nhiemvu", "/thamdu", "có"):
        await head.send(text, at=datetime(2024, 12, 21, 3, tzinfo=UTC))
        assert head.text == t("gb.role.secretary_answers", village="Thôn 1"), text
    # the election stays with the head: the secretary cannot report it
    await secretary.send("/baucu")
    assert secretary.text == t("auth.secretary_only_giaoban")
    await secretary.send("/trogiup")
    assert t("help.secretary") in secretary.text and "/giaoban" in secretary.text and "/baucu" not in secretary.text

    # a deputy attends in the secretary's place; a name that cannot be read is asked again
    await secretary.send("cử đồng chí phó bí thư dự thay", at=datetime(2024, 12, 21, 3, tzinfo=UTC))
    assert secretary.text == t("gb.deputy.bad_name")
    await secretary.send("Phó bí thư Nguyễn Văn An dự thay", at=datetime(2024, 12, 21, 3, 5, tzinfo=UTC))
    assert secretary.text == t("gb.deputy.saved", deputy="Nguyễn Văn An", village="Thôn 1", when="08:00 24/12/2024")
    async with db.sessions() as s:
        assert m.id is not None and province.villages[0].id is not None
        answer = await get_attendance(s, m.id, province.villages[0].id)
        assert answer is not None and (answer.attending, answer.deputy) == (True, "Nguyễn Văn An")
        view = await get_meeting(s, m.id)
        assert view is not None
        pack = await build_pack(s, view, Rules(election_date=TODAY), TODAY)
    assert t("gb.deputy.pack_line", village="Thôn 1", deputy="Nguyễn Văn An") in render_pack(pack, TZ)
    await secretary.send("/giaoban", at=datetime(2024, 12, 22, 3, tzinfo=UTC))  # the window is open
    assert t("gb.report.intro", village="Thôn 1", when="08:00 24/12/2024") in secretary.text
    await secretary.send("/huy", at=datetime(2024, 12, 22, 3, 1, tzinfo=UTC))

    # conclusions after the meeting: the directive goes to the secretary, who acknowledges it
    async with transaction(db.sessions) as s:
        await add_conclusion(s, m, "Rà soát hộ nghèo", due=None, village_ids=None, by="canbo",
                             now=datetime(2024, 12, 24, 3, tzinfo=UTC), today=TODAY)
    sent = await run_sweep(db, datetime(2024, 12, 24, 4, tzinfo=UTC))
    directed = sorted(k for k in sent if k.startswith("giaoban:directive:"))
    assert directed == [f"giaoban:directive:1:V1:a{b1}", f"giaoban:directive:1:V2:a{h2}"]
    await head.send("đã nhận", at=datetime(2024, 12, 24, 5, tzinfo=UTC))
    assert head.text == t("gb.role.secretary_answers", village="Thôn 1")
    await secretary.send("đã nhận", at=datetime(2024, 12, 24, 5, tzinfo=UTC))
    assert secretary.text == t("gb.tasks.acked", village="Thôn 1", n=1)


async def test_where_the_head_is_the_secretary_the_head_gets_it(db: Database, engine: Engine,
                                                                 province: Province) -> None:
    head = await bind(db, engine, province.villages[0], "h1", "village_head")
    old_secretary = await bind(db, engine, province.villages[0], "b1", "village_secretary")
    await fill(head, "15/12", "Lê Thị Hoa", "350 330 320 301", "1", "có", "bỏ qua")  # already the secretary
    await head.send("1")
    await meeting(db, province)
    sent = await run_sweep(db, datetime(2024, 12, 20, 4, tzinfo=UTC))
    h1 = await account_id(db, head)
    assert {k: v for k, v in sent.items() if k.startswith("giaoban:invite:1:V1")} == {
        f"giaoban:invite:1:V1:a{h1}": sent[f"giaoban:invite:1:V1:a{h1}"]}
    assert t("gb.invited.head_secretary", village="Thôn 1") in sent[f"giaoban:invite:1:V1:a{h1}"]
    await old_secretary.send("/giaoban", at=datetime(2024, 12, 22, 3, tzinfo=UTC))
    assert old_secretary.text == t("gb.role.head_answers", village="Thôn 1")
    await head.send("/giaoban", at=datetime(2024, 12, 22, 3, tzinfo=UTC))
    assert t("gb.report.intro", village="Thôn 1", when="08:00 24/12/2024") in head.text


async def test_conclusions_wait_for_the_meeting(db: Database, province: Province) -> None:
    m = await meeting(db, province)
    async with transaction(db.sessions) as s:
        with pytest.raises(Refused, match="not_started"):
            await add_conclusion(s, m, "Rà soát hộ nghèo", due=None, village_ids=None, by="canbo",
                                 now=datetime(2024, 12, 24, 0, 59, tzinfo=UTC), today=TODAY)
