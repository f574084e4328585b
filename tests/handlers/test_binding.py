"""Binding with invite codes, authorisation, and the engine's guards."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from handlers.commands import help_text, parse_command
from handlers.engine import Engine
from models.accounts.tables import ChannelAccount, Invite
from models.delivery.tables import ProcessedMessage
from models.election.tables import ElectionReport
from tests.conftest import Database
from tests.handlers.chat import NOW, Chat, Province, invite
from texts.catalog import t


async def test_unbound_account_is_told_how_to_bind(engine: Engine, province: Province) -> None:
    chat = Chat(engine)
    await chat.send("xin chào")
    assert chat.text == t("bind.how_to")
    await chat.send("/baucu")
    assert chat.text == t("auth.unbound")
    await chat.send("/start")
    assert chat.text == t("bind.welcome_unbound")


async def test_start_code_binds_and_spends_the_invite(db: Database, engine: Engine, province: Province) -> None:
    code = await invite(db.sessions, province.villages[0])
    chat = Chat(engine)
    await chat.send(f"/start {code}")
    assert t("bind.ok_head", village="Thôn 1") in chat.text
    other = Chat(engine, account="u2")
    await other.send(f"/start {code}")
    assert other.text == t("bind.error_used")
    async with db.sessions() as s:
        inv = (await s.execute(select(Invite).where(Invite.code == code))).scalar_one()
        acc = (await s.execute(select(ChannelAccount).where(ChannelAccount.external_id == "u1"))).scalar_one()
        assert inv.used_at is not None and inv.used_by_account_id == acc.id and acc.person_id is not None


async def test_code_typed_as_first_message_binds_like_zalo(db: Database, engine: Engine, province: Province) -> None:
    code = await invite(db.sessions, province.villages[1])
    chat = Chat(engine, channel="zalo", account="z-abc")
    await chat.send(" " + code.lower()[:4] + " " + code.lower()[4:] + " ")
    assert t("bind.ok_head", village="Thôn 2") in chat.text


async def test_wrong_and_expired_codes(db: Database, engine: Engine, province: Province) -> None:
    chat = Chat(engine)
    await chat.send("/start ZZZZZZZZ")
    assert chat.text == t("bind.error_unknown")
    code = await invite(db.sessions, province.villages[0])
    await chat.send(f"/start {code}", at=NOW + timedelta(days=31))
    assert chat.text == t("bind.error_expired")


async def test_staff_and_heads_get_their_own_commands(db: Database, engine: Engine, province: Province) -> None:
    staff = Chat(engine, account="clerk")
    await staff.send(f"/start {await invite(db.sessions, province.communes[0], 'staff')}")
    assert t("bind.ok_staff", unit="Phường Hà Tu") in staff.text and help_text("staff") in staff.text
    await staff.send("/baucu")
    assert staff.text == t("auth.heads_only")
    head = Chat(engine, account="head")
    await head.send(f"/start {await invite(db.sessions, province.villages[0])}")
    await head.send("/chamtre")
    assert head.text == t("auth.staff_only")


async def test_unknown_command_and_aliases(engine: Engine, province: Province) -> None:
    assert parse_command("/Hủy@SomeBot") == ("huy", "")
    assert parse_command("/status") == ("trangthai", "")
    assert parse_command("/start AB2CD3EF") == ("start", "AB2CD3EF")
    chat = Chat(engine)
    await chat.send("/abc")
    assert t("common.unknown_command", command="abc") in chat.text


async def test_overlong_message_is_refused_and_changes_nothing(db: Database, engine: Engine,
                                                                province: Province) -> None:
    chat = Chat(engine)
    await chat.send("a" * 4097)  # longer than any Telegram message
    assert chat.text == t("common.too_long", limit=4096)
    async with db.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(ChannelAccount))).scalar_one() == 0


async def test_redelivered_message_is_handled_once(db: Database, engine: Engine, province: Province) -> None:
    code = await invite(db.sessions, province.villages[0])
    chat = Chat(engine)
    await chat.send(f"/start {code}")
    first = await chat.send("/baucu", message_id="dup-1")
    again = await chat.send("/baucu", message_id="dup-1")
    assert first and again == []
    async with db.sessions() as s:
        n = (await s.execute(select(func.count()).select_from(ProcessedMessage).where(
            ProcessedMessage.message_id == "dup-1"))).scalar_one()
        assert n == 1
        assert (await s.execute(select(func.count()).select_from(ElectionReport))).scalar_one() == 0


async def test_shared_phone_is_saved_for_the_person(db: Database, engine: Engine, province: Province) -> None:
    chat = Chat(engine)
    await chat.send(f"/start {await invite(db.sessions, province.villages[0])}")
    await chat.send(phone="+84 912 345 678")
    assert chat.text == t("bind.phone_saved", phone="0912345678")
