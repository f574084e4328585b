"""The context a step sees is as narrow as the account's role: a bound head's names the village, a
staff member's the scope unit; a conversation goes on only while the account still has that role."""

from __future__ import annotations

from sqlalchemy import select, update

from handlers.context import Context, HeadContext, Settings, StaffContext, as_head, context_for
from handlers.engine import Engine
from handlers.messages import Incoming
from models.accounts.tables import ChannelAccount, Person
from models.db import transaction
from models.dialog.tables import ConversationState
from models.units.tables import Unit
from tests.conftest import Database
from tests.handlers.chat import NOW, TODAY, Chat, Province, invite, unit_id
from texts.catalog import t


async def test_the_engine_narrows_the_context_by_role(db: Database, province: Province) -> None:
    village, commune = province.villages[0], province.communes[0]
    account = ChannelAccount(channel="web", external_id="u1")

    async with db.sessions() as session:

        def ctx(role: str | None, unit: Unit | None) -> Context:
            person = None if role is None else Person(full_name="A", role=role, unit_id=1)
            return context_for(session=session, incoming=Incoming(channel="web", account_id="u1"), account=account,
                               person=person, unit=unit, now=NOW, today=TODAY, settings=Settings())

        head = ctx("village_head", village)
        assert isinstance(head, HeadContext) and head.village_id == unit_id(village) and as_head(head) is head
        staff = ctx("staff", commune)
        assert isinstance(staff, StaffContext) and staff.scope_id == unit_id(commune) and as_head(staff) is None
        assert type(ctx(None, None)) is Context and type(ctx("village_head", None)) is Context


async def test_a_head_no_longer_a_head_cannot_go_on_with_a_report(db: Database, engine: Engine,
                                                                  province: Province) -> None:
    chat = Chat(engine)
    await chat.send(f"/start {await invite(db.sessions, province.villages[0])}")
    await chat.send("/baucu")
    await chat.send("15/12/2024")
    async with transaction(db.sessions) as s:  # the commune made this account a staff member meanwhile
        await s.execute(update(Person).values(role="staff", unit_id=unit_id(province.communes[0])))
    await chat.send("Nguyễn Văn An")
    assert chat.text == t("common.flow_not_allowed")
    async with db.sessions() as s:
        assert (await s.execute(select(ConversationState))).first() is None
