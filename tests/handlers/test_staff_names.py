"""Staff name a village by its code or its name, as they type it (DESIGN §4): ``/congnhan Bản Khe Quang
…``, ``/chuany dong tam …``; a name two villages of the staffer's unit share is listed with the codes
and nothing changes; the late list shows the codes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from handlers.engine import Engine
from models.db import transaction
from models.election.reports import get_election
from models.election.tables import AuditEvent
from models.merger.records import get_plan
from models.units.tables import Unit
from models.units.tree import add_unit
from tests.conftest import Database
from tests.handlers.chat import Chat, Province, invite
from tests.handlers.test_election import fill
from texts.catalog import t


@dataclass
class Named:
    dong_tam: Unit  # Thôn Đồng Tâm, under Phường Hà Tu (C1)
    khe_quang: Unit  # Bản Khe Quang, under Phường Hà Tu
    dong_tam_2: Unit  # Thôn Đồng Tâm, under Xã Bình Liêu (C2)


async def named_villages(db: Database, p: Province) -> Named:
    async with transaction(db.sessions) as s:
        units = [await add_unit(s, period="post2025", code=code, level="village", name=name, parent=parent,
                                type=kind.lower(), full_name=f"{kind} {name}")
                 for code, name, kind, parent in (("06592", "Đồng Tâm", "Thôn", p.communes[0]),
                                                  ("06593", "Khe Quang", "Bản", p.communes[0]),
                                                  ("07001", "Đồng Tâm", "Thôn", p.communes[1]))]
    return Named(*units)


async def bind(db: Database, engine: Engine, unit: Unit, account: str, role: str = "staff") -> Chat:
    chat = Chat(engine, account)
    await chat.send(f"/start {await invite(db.sessions, unit, role)}")
    return chat


async def audit_count(db: Database) -> int:
    async with db.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(AuditEvent))).scalar_one())


async def test_a_village_by_its_name_or_code(db: Database, engine: Engine, province: Province) -> None:
    v = await named_villages(db, province)
    head = await bind(db, engine, v.khe_quang, "h1", "village_head")
    await fill(head, "15/12", "Lê Thị Hoa", "350 330 320 301", "1", "không", "bỏ qua")
    await head.send("1")
    commune = await bind(db, engine, province.communes[0], "c1")
    province_staff = await bind(db, engine, province.province, "p1")

    await commune.send("/congnhan Bản Khe Quang 12/QĐ-UBND 20/12/2024")  # the issue's own example
    assert "Quyết định số 12/QĐ-UBND ngày 20/12/2024" in commune.text and "Bản Khe Quang" in commune.text
    async with db.sessions() as s:
        assert v.khe_quang.id is not None
        report = await get_election(s, v.khe_quang.id)
        assert report is not None and report.recognition_decision == "12/QĐ-UBND"

    # any case, without diacritics, with or without the kind of village; the code still works
    await commune.send("/khuyet KHE QUANG thoi viec 20/12/2024 chuyển công tác")
    assert commune.text == t("vacancy.cmd.recorded", village="Bản Khe Quang", kind=t("vacancy.kind.resignation"),
                             date="20/12/2024", due="20/06/2025")
    await commune.send("/lamthoi ban khe quang 20/12/2024 Trần Văn Bình")
    assert "Trần Văn Bình" in commune.text and "Bản Khe Quang" in commune.text
    await commune.send("/chuany dong tam 125-QĐ/ĐU 20/12/2024")  # Đồng Tâm of C1: the only one in C1
    assert commune.text == t("merger.staff.refused.no_secretary", village="Thôn Đồng Tâm")
    await commune.send("/ghidangvien Thôn Đồng Tâm chinhthuc 10/12/2024")
    assert commune.text == t("merger.party.refused.no_election")  # found by its full name; nothing to record

    # a name two villages of the province share: listed with their codes, nothing changed
    before = await audit_count(db)
    await province_staff.send("/chuany Đồng Tâm 125-QĐ/ĐU 20/12/2024")
    lines = province_staff.text.splitlines()
    assert lines[0] == t("names.ambiguous_village", name="Đồng Tâm", n=2)
    assert lines[1:3] == [t("names.line", name="Thôn Đồng Tâm", code="06592", parent="Phường Hà Tu"),
                          t("names.line", name="Thôn Đồng Tâm", code="07001", parent="Xã Bình Liêu")]
    await province_staff.send("/baulai dong tam")
    assert province_staff.text.splitlines()[0] == t("names.ambiguous_village", name="dong tam", n=2)
    assert await audit_count(db) == before

    # another commune's village, an unknown name, a missing argument
    await commune.send("/baulai 07001")
    assert commune.text == t("names.unknown_village", text="07001")
    await commune.send("/congnhan Bản Không Có 1/QĐ 20/12/2024")
    assert commune.text == t("names.unknown_village", text="Bản Không Có")
    await commune.send("/congnhan")
    assert commune.text == t("recognition.cmd.usage_recognise")
    assert await audit_count(db) == before


async def test_the_congress_deadline_of_a_commune_named_by_province_staff(db: Database, engine: Engine,
                                                                          province: Province) -> None:
    staff = await bind(db, engine, province.province, "p1")
    await staff.send("/kehoachdaihoi 31/03/2025")
    assert staff.text == t("merger.staff.plan_needs_commune")
    await staff.send("/kehoachdaihoi binh lieu 31/03/2025")
    assert staff.text == t("merger.staff.plan_saved", unit="Xã Bình Liêu", date="31/03/2025")
    await staff.send("/kehoachdaihoi C2")
    assert staff.text == t("merger.staff.plan_now", unit="Xã Bình Liêu", date="31/03/2025")
    async with db.sessions() as s:
        assert province.communes[0].id is not None
        assert await get_plan(s, province.communes[0].id) is None
    commune = await bind(db, engine, province.communes[0], "c1")
    await commune.send("/kehoachdaihoi 30/04/2025")  # a commune's own staff need not name it
    assert commune.text == t("merger.staff.plan_saved", unit="Phường Hà Tu", date="30/04/2025")


async def test_the_late_list_shows_the_codes(db: Database, engine: Engine, province: Province) -> None:
    v = await named_villages(db, province)
    commune = await bind(db, engine, province.communes[0], "c1")
    await commune.send("/chamtre")
    assert f"Bản Khe Quang ({v.khe_quang.code})" in commune.text
