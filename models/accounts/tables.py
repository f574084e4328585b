"""The tables of accounts (SQLModel): people, their channel accounts, invites, dashboard logins and
the failure counters.

Datetimes are aware and stored in UTC; dates are calendar dates in the province's time zone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

ROLES = ("village_head", "village_secretary", "staff", "admin")
VILLAGE_ROLES = ("village_head", "village_secretary")  # bound to a village (models/giaoban/people.py)
KEY_CHARS = 128  # a throttle key is cut to this length


class Person(SQLModel, table=True):
    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    full_name: str = Field(default="", max_length=120)
    phone: str | None = Field(default=None, max_length=20)
    role: str = Field(max_length=20)
    unit_id: int = Field(foreign_key="unit.id", index=True)  # village (heads) or scope (staff)
    created_at: datetime


class ChannelAccount(SQLModel, table=True):
    __tablename__ = "channel_account"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_account_channel_ext"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    display_name: str | None = Field(default=None, max_length=120)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    blocked: bool = False
    digest_opt_out: bool = False
    created_at: datetime
    last_seen_at: datetime | None = None


class Invite(SQLModel, table=True):
    __tablename__ = "invite"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    role: str = Field(max_length=20)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    used_by_account_id: int | None = Field(default=None, foreign_key="channel_account.id")
    revoked_at: datetime | None = None  # revoked by an administrator: no longer redeemable


class WebUser(SQLModel, table=True):
    """A dashboard login for committee staff or an administrator."""

    __tablename__ = "web_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=300)
    role: str = Field(max_length=20)
    unit_id: int = Field(foreign_key="unit.id")
    person_id: int | None = Field(default=None, foreign_key="person.id")
    failed_logins: int = 0  # unused: logins are throttled per address and slowed per account
    locked_until: datetime | None = None  # unused: nobody can lock a staffer out
    created_at: datetime
    session_epoch: int = 0  # in every session cookie; bumped on logout and password change
    disabled: bool = False  # refused at login; disabling ends the user's sessions (the epoch moves on)
    last_login_at: datetime | None = None


class Throttle(SQLModel, table=True):
    __tablename__ = "throttle"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_throttle_scope_key"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=16)
    key: str = Field(max_length=KEY_CHARS)
    window_start: datetime
    failures: int = 0
