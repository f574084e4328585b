"""People, channel accounts and one-time invites."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.accounts.tables import ROLES, VILLAGE_ROLES, ChannelAccount, Invite, Person
from models.units.tables import Unit

# no 0/O, 1/I/L: codes are read aloud and typed on phones
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8  # a village head's invite: 31⁸ ≈ 8.5·10¹¹, read aloud over the phone
STAFF_CODE_LENGTH = 12  # staff and admin invites open a whole unit's data: 31¹² ≈ 7.9·10¹⁷
CODE_LENGTHS = (CODE_LENGTH, STAFF_CODE_LENGTH)


class InviteError(ValueError):
    """An invite could not be created or used; ``reason`` is a catalog key suffix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def new_invite_code(role: str = "village_head") -> str:
    length = CODE_LENGTH if role in VILLAGE_ROLES else STAFF_CODE_LENGTH
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normalise_code(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


async def create_invite(session: AsyncSession, unit: Unit, role: str, now: datetime,
                        valid_days: int = 30) -> Invite:
    """A one-time invite binding an account to ``unit`` with ``role`` (a village's head or branch
    secretary: a village; staff, admin: a unit above the villages)."""
    if role not in ROLES:
        raise InviteError("bad_role")
    if role in VILLAGE_ROLES and unit.level != "village":
        raise InviteError("not_a_village")
    if role not in VILLAGE_ROLES and unit.level == "village":
        raise InviteError("staff_on_village")
    assert unit.id is not None
    invite = Invite(code=new_invite_code(role), role=role, unit_id=unit.id, created_at=now,
                    expires_at=now + timedelta(days=valid_days))
    session.add(invite)
    await session.flush()
    return invite


SEEN_RESOLUTION = timedelta(minutes=10)  # last_seen_at is refreshed at most this often


def account_query(*also: Any) -> Select[Any]:
    """The account by (channel, external id), outer-joined to its person and unit (and ``also``)."""
    return (select(ChannelAccount, Person, Unit, *also)
            .outerjoin(Person, col(Person.id) == ChannelAccount.person_id)
            .outerjoin(Unit, col(Unit.id) == Person.unit_id)
            .where(col(ChannelAccount.channel) == bindparam("channel"),
                   col(ChannelAccount.external_id) == bindparam("external_id")))


async def new_account(session: AsyncSession, channel: str, external_id: str, now: datetime,
                      display_name: str | None = None) -> ChannelAccount:
    account = ChannelAccount(channel=channel, external_id=external_id, display_name=display_name,
                             created_at=now, last_seen_at=now)
    session.add(account)
    await session.flush()
    return account


def seen(account: ChannelAccount, now: datetime) -> None:
    """The account wrote to us: note when (coarsely), and lift a block."""
    if account.last_seen_at is None or now - account.last_seen_at >= SEEN_RESOLUTION:
        account.last_seen_at = now
    if account.blocked:  # writing to us again means the block is lifted
        account.blocked = False


async def get_or_create_account(session: AsyncSession, channel: str, external_id: str, now: datetime,
                                display_name: str | None = None) -> ChannelAccount:
    account = (await session.execute(select(ChannelAccount).where(
        col(ChannelAccount.channel) == channel, col(ChannelAccount.external_id) == external_id))).scalar_one_or_none()
    if account is None:
        return await new_account(session, channel, external_id, now, display_name)
    seen(account, now)
    return account


async def redeem_invite(session: AsyncSession, account: ChannelAccount, code: str, now: datetime) -> Person:
    """Spend the invite and bind the account. A second invite for the same village and role (head or
    branch secretary), or the same staff unit and role, binds to the same person, so one head can use
    Zalo and Telegram."""
    invite = (await session.execute(
        select(Invite).where(col(Invite.code) == normalise_code(code)).with_for_update())).scalar_one_or_none()
    if invite is None:
        raise InviteError("unknown")
    if invite.used_at is not None:
        raise InviteError("used")
    if invite.revoked_at is not None:
        raise InviteError("revoked")
    if invite.expires_at < now:
        raise InviteError("expired")
    person = None
    if invite.role in VILLAGE_ROLES:
        person = (await session.execute(select(Person).where(
            col(Person.unit_id) == invite.unit_id, col(Person.role) == invite.role))).scalars().first()
    if person is None and account.person_id is not None:
        current = await session.get(Person, account.person_id)
        if current is not None and current.unit_id == invite.unit_id and current.role == invite.role:
            person = current
    if person is None:
        person = Person(role=invite.role, unit_id=invite.unit_id, created_at=now,
                        full_name=account.display_name or "")
        session.add(person)
        await session.flush()
    account.person_id = person.id
    invite.used_at = now
    invite.used_by_account_id = account.id
    await session.flush()
    return person


async def accounts_of_person(session: AsyncSession, person_id: int) -> list[ChannelAccount]:
    rows = await session.execute(select(ChannelAccount).where(col(ChannelAccount.person_id) == person_id))
    return list(rows.scalars().all())
