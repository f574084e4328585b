"""The delivery tables: the inbox, the ids of handled messages, the outbox, the shared pace and the leases.

Datetimes are aware and stored in UTC; dates are calendar dates in the province's time zone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class ProcessedMessage(SQLModel, table=True):
    """Platform message ids already handled (a redelivery is handled once)."""

    __tablename__ = "processed_message"
    __table_args__ = (UniqueConstraint("channel", "message_id", name="uq_processed"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    message_id: str = Field(max_length=80)
    at: datetime = Field(index=True)


class OutboxMessage(SQLModel, table=True):
    """A message the bot sends on its own initiative; ``key`` makes each one unique."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=32, index=True)  # reminder | escalation | digest | ...
    account_id: int = Field(foreign_key="channel_account.id", index=True)
    village_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    text: str
    attachment_path: str | None = Field(default=None, max_length=400)
    payload: str | None = None  # a reply's choices and file (handlers/reply_codec.py)
    status: str = Field(default="pending", max_length=16)  # pending|sending|sent|failed|dead|skipped
    attempts: int = 0
    next_attempt_at: datetime
    locked_until: datetime | None = None
    owner: str | None = Field(default=None, max_length=64)  # the worker whose claim this is (its lease row)
    last_error: str | None = None
    created_at: datetime
    sent_at: datetime | None = None


class InboxMessage(SQLModel, table=True):
    """An update as the platform sent it, until it is processed."""

    __tablename__ = "inbox_message"
    __table_args__ = (UniqueConstraint("channel", "key", name="uq_inbox_key"),
                      Index("ix_inbox_pending", "channel", "done_at"))

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    key: str = Field(max_length=120)  # the platform's message / callback id
    account: str = Field(max_length=64)  # the sender's id on the platform: one account's rows in order
    payload: str  # the update's JSON, as received
    received_at: datetime
    done_at: datetime | None = None
    owner: str | None = Field(default=None, max_length=64)  # the worker processing it (its lease row)


class Lease(SQLModel, table=True):
    __tablename__ = "lease"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=120)
    expires_at: datetime


class Pace(SQLModel, table=True):
    __tablename__ = "pace"

    key: str = Field(primary_key=True, max_length=160)
    next_at: float = 0.0
    blocked_until: float = 0.0
