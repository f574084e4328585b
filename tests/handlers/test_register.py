"""How the bot speaks, through the chat as a head types: a head who is not a party member is "ông/bà",
never "đồng chí" (DESIGN §3); a head is spoken to, not about; a confirmation is a sentence of its own,
not one glued from button labels; the giao ban asks each field as a clerk asks it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from handlers.engine import Engine
from models.db import transaction
from models.giaoban.meetings import schedule_meeting
from models.giaoban.tables import FIELDS
from tests.conftest import Database
from tests.handlers.chat import Chat, Province, invite
from texts.catalog import t

HEAD = "Lò Văn Páo"


async def _non_member_head(db: Database, engine: Engine, province: Province) -> tuple[Chat, list[str]]:
    chat = Chat(engine)
    said = []
    for answer in (f"/start {await invite(db.sessions, province.villages[0])}", "/baucu", "15/12/2024", HEAD,
                   "350 330 320 301"):
        await chat.send(answer)
        said.append(chat.text)
    for choice in ("non_member", "skip", "send"):
        await chat.send(choice=choice)
        said.append(chat.text)
    return chat, said


async def test_a_head_who_is_not_a_party_member_is_never_called_dong_chi(db: Database, engine: Engine,
                                                                         province: Province) -> None:
    chat, said = await _non_member_head(db, engine, province)
    assert all("đồng chí" not in text.lower() for text in said), said
    await chat.send("/dangvien")
    assert t("merger.party.title", who="ông/bà", head=HEAD, party=t("party.non_member")) in chat.text
    assert "đồng chí" not in chat.text.lower()
    await chat.send(choice="admission_planned")
    await chat.send("15/03/2025")
    confirm = chat.text  # a sentence of its own, not "<button label>: <date>"
    assert confirm == t("merger.party.confirm_admission_planned", head=HEAD, date="15/03/2025")
    assert t("merger.party_choice.admission_planned") not in confirm and "đồng chí" not in confirm
    await chat.send(choice="yes")
    assert chat.text == t("merger.party.saved_admission_planned", head=HEAD, date="15/03/2025")
    assert "ông/bà" in chat.text and "đồng chí" not in chat.text


async def test_a_non_member_named_as_secretary_is_ong_ba_in_the_refusal(db: Database, engine: Engine,
                                                                        province: Province) -> None:
    chat, _ = await _non_member_head(db, engine, province)
    await chat.send("/daihoi")
    await chat.send(choice="result")
    await chat.send("19/12/2024")
    await chat.send(choice="congress")
    await chat.send(HEAD)
    await chat.send(choice="yes")  # the same person: a non-member cannot be the secretary
    assert chat.text.startswith(f"Hệ thống chưa ghi nhận được: ông/bà {HEAD} là quần chúng")
    assert "đồng chí" not in chat.text


def test_reminders_speak_to_the_head_not_about_the_head() -> None:
    for key in ("election", "plan_congress", "congress_result", "probation", "admission"):
        text = t(f"remind.{key}", village="Thôn 3", on="01/03/2025", since="15/12/2024", days=3)
        assert text.startswith("Kính gửi ") and "trưởng Thôn" not in text, key
        assert "trưởng thôn là" not in text and "của trưởng thôn" not in text, key
    assert t("remind.admission", village="Thôn 3", on="01/03/2025").startswith("Kính gửi ông/bà trưởng thôn:")


async def test_the_giao_ban_asks_each_field_as_a_clerk_asks_it(db: Database, engine: Engine,
                                                               province: Province) -> None:
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    starts, now = (datetime(2024, 12, d, h, tzinfo=tz).astimezone(UTC) for d, h in ((24, 8), (21, 10)))
    async with transaction(db.sessions) as s:
        await schedule_meeting(s, province.communes[0], starts, "Hội trường xã", now)
    chat = Chat(engine)
    await chat.send(f"/start {await invite(db.sessions, province.villages[0])}", at=now)
    await chat.send("/giaoban", at=now)
    await chat.send(choice="yes", at=now)
    await chat.send(choice="fields", at=now)
    asked = []
    for _ in FIELDS:
        asked.append(chat.text)
        await chat.send(choice="nothing", at=now)
    assert asked == [t(f"gb.ask.{f}") + "\n" + t("gb.report.field_hint") for f in FIELDS]
    assert asked[-1].startswith("Thôn có kiến nghị gì với xã không?")
    assert all(question.split("\n")[0].endswith("?") for question in asked)
