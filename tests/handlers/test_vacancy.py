"""Vacancies as commune staff type them: the notice goes to the other commune staff and the branch
secretary (never to the head who left, whose account is unbound); ``/trangthai`` no longer names the
head who left; a village new from ``units split`` gets an interim head."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlmodel import col

from handlers.engine import Engine
from models.accounts.access import find_account
from models.accounts.tables import Person
from models.db import transaction
from models.delivery.tables import OutboxMessage
from models.election.vacancy import FORMER_HEAD, open_vacancy
from models.units.changes import split_village
from tests.conftest import Database
from tests.handlers.chat import NOW, TODAY, Chat, Province, invite
from tests.handlers.test_election import fill
from texts.catalog import t


async def notices(db: Database) -> dict[int, str]:
    """account id → the vacancy notice queued for it."""
    async with db.sessions() as s:
        rows = (await s.execute(select(OutboxMessage).where(col(OutboxMessage.key).startswith("vacancy:")))).scalars()
        return {r.account_id: r.text for r in rows}


async def account_of(db: Database, chat: Chat) -> int:
    async with db.sessions() as s:
        account = await find_account(s, chat.channel, chat.account)
    assert account is not None and account.id is not None
    return account.id


async def test_the_vacancy_notice_goes_to_staff_and_secretary_not_to_the_head_who_left(
        db: Database, engine: Engine, province: Province) -> None:
    clerk, colleague, head, secretary = (Chat(engine, a) for a in ("c1", "c2", "h1", "b1"))
    await clerk.send(f"/start {await invite(db.sessions, province.communes[0], 'staff')}")
    await colleague.send(f"/start {await invite(db.sessions, province.communes[0], 'staff')}")
    await head.send(f"/start {await invite(db.sessions, province.villages[0])}")
    await secretary.send(f"/start {await invite(db.sessions, province.villages[0], 'village_secretary')}")
    await fill(head, "15/12", "Lê Thị Hoa", "350 330 320 301", "1", "không", "bỏ qua")
    await head.send("1")
    await head.send("/trangthai")
    assert "Lê Thị Hoa" in head.text

    await clerk.send("/khuyet Thôn 1 mien nhiem 20/12/2024 vi phạm")
    sent = await notices(db)
    c2, b1, h1 = [await account_of(db, c) for c in (colleague, secretary, head)]
    assert set(sent) == {c2, b1}  # not the clerk who recorded it, not the head who left
    assert sent[c2] == t("vacancy.staff_notice", village="Thôn 1", code="V1", kind="miễn nhiệm",
                               date="20/12/2024", due="20/06/2025")
    assert h1 not in sent and sent[b1] == t("vacancy.secretary_notice", village="Thôn 1", date="20/12/2024",
                                            due="20/06/2025")
    async with db.sessions() as s:
        people = (await s.execute(select(Person).where(col(Person.unit_id) == province.villages[0].id))).scalars()
        assert sorted(p.role for p in people) == [FORMER_HEAD, "village_secretary"]
    await head.send("/trangthai")
    assert head.text == t("auth.unbound")
    await head.send("/baucu")
    assert head.text == t("auth.unbound")

    successor = Chat(engine, "h2")
    await successor.send(f"/start {await invite(db.sessions, province.villages[0])}")
    await successor.send("/trangthai")
    assert "Lê Thị Hoa" not in successor.text
    assert t("statuscmd.record.vacant", since="20/12/2024", due="20/06/2025") in successor.text


async def test_a_village_new_from_a_split_gets_an_interim_head(db: Database, engine: Engine,
                                                               province: Province) -> None:
    async with transaction(db.sessions) as s:
        (_, second), _ = await split_village(s, "post2025", "V2", ["V2A", "V2B"], ["Đồng Tâm", "Khe Quang"],
                                                 TODAY, NOW)
    clerk = Chat(engine, "c1")
    await clerk.send(f"/start {await invite(db.sessions, province.communes[0], 'staff')}")
    await clerk.send("/lamthoi Khe Quang 20/12/2024 Trần Văn Bình")
    assert clerk.text == t("vacancy.cmd.interim", village="Thôn Khe Quang", name="Trần Văn Bình", date="20/12/2024",
                           due="20/06/2025")
    await clerk.send("/lamthoi V1 20/12/2024 Trần Văn Bình")  # an old village with no election: not vacant
    assert clerk.text == t("vacancy.refused.not_vacant", village="Thôn 1")
    async with db.sessions() as s:
        assert second.id is not None
        vacancy = await open_vacancy(s, second.id)
    assert vacancy is not None and (vacancy.interim_head, vacancy.kind) == ("Trần Văn Bình", "new_village")
    interim = Chat(engine, "h9")
    await interim.send(f"/start {await invite(db.sessions, second)}")
    await interim.send("/trangthai", at=datetime(2024, 12, 21, 3, tzinfo=UTC))
    assert t("statuscmd.record.interim", name="Trần Văn Bình", since="20/12/2024", due="20/06/2025") in interim.text
