"""At the engine: invite guessing throttled per account and per code prefix, never blocking a real code (in
the database, so it holds across workers), longer staff codes, and input cleaned at the edge so that a NUL
byte or an over-long display name never locks anybody out (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import col

from bot.channels.zalo_updates import parse_update
from handlers.binding import INVITE_PER_ACCOUNT, INVITE_PER_PREFIX, code_prefix, looks_like_code
from handlers.clean import ACCOUNT_ID_CHARS, MESSAGE_ID_CHARS, NAME_CHARS, bounded_id, clean_incoming
from handlers.engine import Engine
from handlers.messages import Incoming
from models.accounts.people import CODE_ALPHABET, CODE_LENGTH, STAFF_CODE_LENGTH, create_invite
from models.accounts.tables import ChannelAccount
from models.db import transaction
from tests.conftest import Database
from tests.handlers.chat import NOW, Chat, Province, invite, make_engine
from texts.catalog import t

WRONG = itertools.cycle(["AAAAAAAA", "BBBBBBBB", "CCCCCCCC"])


async def test_wrong_codes_are_throttled_per_account(db: Database, engine: Engine, province: Province) -> None:
    chat = Chat(engine, account="guesser")
    for _ in range(INVITE_PER_ACCOUNT.max_failures):
        await chat.send(f"/start {next(WRONG)}")
        assert chat.text.startswith(t("bind.error_unknown"))
    good = await invite(db.sessions, province.villages[0])
    await chat.send(f"/start {good}")  # even the right code waits now: guessing gains nothing
    assert chat.text == t("bind.throttled", minutes=10)  # the window opened 5 messages (minutes) ago
    other = Chat(engine, account="honest")
    await other.send(f"/start {good}")  # another account is not held up
    assert t("bind.ok_head", village="Thôn 1") in other.text
    later = Chat(engine, account="guesser")
    later.now = chat.now + INVITE_PER_ACCOUNT.window
    await later.send(f"/start {await invite(db.sessions, province.villages[1])}")
    assert t("bind.ok_head", village="Thôn 2") in later.text  # the window passed


async def test_guessing_from_many_accounts_never_blocks_a_real_code(db: Database, province: Province) -> None:
    """105 wrong codes from 21 fresh accounts (and as many again), on two workers sharing the database:
    the next real head binds at once; no province-wide bucket exists to trip."""
    workers = [make_engine(db.sessions), make_engine(db.sessions)]
    per_account = INVITE_PER_ACCOUNT.max_failures
    for n in range(42):
        chat = Chat(workers[n % 2], account=f"bot-{n}")
        for _ in range(per_account):
            await chat.send(random_code())
            assert chat.text.startswith(t("bind.error_unknown"))
    late = Chat(workers[0], account="late")
    await late.send(await invite(db.sessions, province.villages[0]))
    assert t("bind.ok_head", village="Thôn 1") in late.text


async def test_a_crowded_code_prefix_costs_each_guesser_its_account_but_not_the_real_code(
        db: Database, province: Province) -> None:
    """Wrong codes that all begin like a real one: past the prefix's limit every account that sends one
    more is made to wait at once; a fresh head with the real code of that prefix still binds."""
    engine = make_engine(db.sessions)
    real = await invite(db.sessions, province.villages[0])
    prefix = code_prefix(real)
    for n in range(INVITE_PER_PREFIX.max_failures):  # one wrong guess each: nobody waits yet
        chat = Chat(engine, account=f"g-{n}")
        await chat.send(wrong_code(prefix, real))
        assert chat.text.startswith(t("bind.error_unknown"))
        await chat.send(random_code())
        assert chat.text.startswith(t("bind.error_unknown"))
    crowded = Chat(engine, account="g-late")
    await crowded.send(wrong_code(prefix, real))
    assert crowded.text.startswith(t("bind.error_unknown"))
    await crowded.send(random_code())  # one wrong guess in the crowded prefix: this account waits
    assert crowded.text == t("bind.throttled", minutes=14)
    elsewhere = Chat(engine, account="g-other")  # another prefix is not crowded
    await elsewhere.send(wrong_code(("Z" if prefix[0] != "Z" else "Y") + prefix[1:], real))
    assert elsewhere.text.startswith(t("bind.error_unknown"))
    await elsewhere.send(random_code())
    assert elsewhere.text.startswith(t("bind.error_unknown"))
    head = Chat(engine, account="real-head")
    await head.send(f"/start {real}")
    assert t("bind.ok_head", village="Thôn 1") in head.text
    async with db.sessions() as s:
        person = (await s.execute(select(ChannelAccount).where(col(ChannelAccount.external_id) == "real-head"))
                  ).scalar_one()
    assert person.person_id is not None


_rng = random.Random(14)


def random_code() -> str:
    return "".join(_rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def wrong_code(prefix: str, real: str) -> str:
    while (code := prefix + random_code()[len(prefix):]) == real:
        pass
    return code


async def test_staff_and_admin_codes_are_longer(db: Database, province: Province) -> None:
    async with transaction(db.sessions) as s:
        head = await create_invite(s, province.villages[0], "village_head", NOW)
        staff = await create_invite(s, province.communes[0], "staff", NOW)
        admin = await create_invite(s, province.communes[0], "admin", NOW)
    assert len(head.code) == CODE_LENGTH == 8
    assert len(staff.code) == len(admin.code) == STAFF_CODE_LENGTH == 12
    assert looks_like_code(staff.code) and looks_like_code(head.code.lower())
    chat = Chat(make_engine(db.sessions), account="staffer", channel="zalo")
    await chat.send(staff.code)  # typed as the first message, as on Zalo
    assert t("bind.ok_staff", unit=province.communes[0].full_name) in chat.text


def zalo_text(text: str, name: str, user: str = "6ede9afa66b88fe6d6a9") -> Incoming:
    body = {"event_name": "message.text.received",
            "message": {"from": {"id": user, "display_name": name, "is_bot": False},
                        "chat": {"id": user, "chat_type": "PRIVATE"}, "text": text,
                        "message_id": f"m-{next(WRONG)}-{len(text)}-{id(text)}", "date": 1}}
    update = parse_update(body)
    assert update is not None
    return update.incoming()


async def test_a_nul_byte_or_a_long_name_never_locks_a_user_out(db: Database, engine: Engine,
                                                                 province: Province) -> None:
    name = "Nguyễn Văn An " + "x" * 107  # 121 characters
    assert len(name) == NAME_CHARS + 1
    first = await engine.step_for_web(zalo_text("xin chào\x00", name), NOW)
    assert [r.text for r in first] == [t("bind.how_to")]
    code = await invite(db.sessions, province.villages[0])
    second = await engine.step_for_web(zalo_text(f"\x00{code}\x07", name + "\x00"), NOW + timedelta(minutes=1))
    assert t("bind.ok_head", village="Thôn 1") in second[0].text
    async with db.sessions() as s:
        account = (await s.execute(select(ChannelAccount))).scalar_one()
    assert account.display_name is not None and len(account.display_name) == NAME_CHARS
    assert "\x00" not in account.display_name


UNSAFE = st.characters(codec="utf-8") | st.sampled_from(["\x00", "\x1b", "\x7f", "\x9b", "\ud800", "\n", "\t"])


@given(text=st.text(UNSAFE, max_size=200), name=st.text(UNSAFE, max_size=300),
       account=st.text(UNSAFE, min_size=1, max_size=200), message=st.text(UNSAFE, max_size=200))
def test_clean_incoming_is_safe_to_store(text: str, name: str, account: str, message: str) -> None:
    cleaned = clean_incoming(Incoming(channel="zalo", account_id=account, text=text, message_id=message,
                                      display_name=name))
    stored = [cleaned.text or "", cleaned.display_name or "", cleaned.account_id, cleaned.message_id or ""]
    for value in stored:
        value.encode("utf-8")  # no lone surrogate
        assert not any(ord(c) < 32 and c not in "\t\n\r" for c in value)
    assert len(cleaned.account_id) <= ACCOUNT_ID_CHARS and len(cleaned.message_id or "") <= MESSAGE_ID_CHARS
    assert len(cleaned.display_name or "") <= NAME_CHARS
    assert clean_incoming(cleaned) == cleaned  # cleaning twice changes nothing


def test_long_ids_stay_distinct_and_stable() -> None:
    a, b = "z" * 100 + "1", "z" * 100 + "2"
    assert bounded_id(a, 64) != bounded_id(b, 64) and bounded_id(a, 64) == bounded_id(a, 64)
    assert len(bounded_id(a, 64)) == 64 and bounded_id("short", 64) == "short"
