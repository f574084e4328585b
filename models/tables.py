"""The tables (SQLModel). Domain services live beside this module, as plain functions.

Datetimes are aware and stored in UTC (``models.clock.utcnow``); dates are calendar dates in the
province's time zone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

LEVELS = ("nation", "province", "district", "commune", "village")
PARTY_STATUSES = ("member", "probationary", "non_member")
ROLES = ("village_head", "staff", "admin")


class Unit(SQLModel, table=True):
    """A node of the administrative tree, of any depth, in one period."""

    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("period", "code", name="uq_unit_period_code"),)

    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(max_length=16, index=True)
    code: str = Field(max_length=32)
    level: str = Field(max_length=16, index=True)
    name: str = Field(max_length=200)
    type: str = Field(default="", max_length=40)
    full_name: str = Field(default="", max_length=240)
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    depth: int = 0
    election_date: date | None = None  # per-village override of the campaign's election day


class UnitAncestor(SQLModel, table=True):
    """Closure table: every (ancestor, descendant) pair, distance 0 included."""

    __tablename__ = "unit_ancestor"
    __table_args__ = (Index("ix_unit_ancestor_desc", "descendant_id", "distance"),)

    ancestor_id: int = Field(foreign_key="unit.id", primary_key=True)
    descendant_id: int = Field(foreign_key="unit.id", primary_key=True)
    distance: int


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


class ElectionReport(SQLModel, table=True):
    """The current election result of a village; every revision is in ``report_revision``."""

    __tablename__ = "election_report"

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="unit.id", unique=True)
    revision: int = 1
    election_date: date
    head_name: str = Field(max_length=120)
    votes_for: int
    valid_ballots: int
    roll: int
    party_status: str = Field(max_length=16)
    party_date: date | None = None  # admission (probationary) or full membership (member; None: before election)
    admission_planned_date: date | None = None  # a non-member's planned admission (models.merger)
    updated_at: datetime
    updated_by_account_id: int | None = Field(default=None, foreign_key="channel_account.id")
    # the vote-count record, validity, recognition, term and vacancy (models/election_record.py)
    attendees: int | None = None
    ballots_issued: int | None = None
    invalid_ballots: int | None = None
    valid: bool | None = None  # None: reported before attendees were asked (judged on the majority only)
    election_no: int = 1  # 1 + the elections held before this one in the village (re-votes, by-elections)
    election_kind: str = Field(default="regular", max_length=16)  # regular | revote | by_election
    head_phone: str | None = Field(default=None, max_length=20)
    recognition: str | None = Field(default=None, max_length=16)  # None (pending) | recognised | new_vote
    recognition_decision: str | None = Field(default=None, max_length=80)
    recognition_date: date | None = None
    reported_on: date | None = None  # the commune's 5 working days run from here
    term_start: date | None = None
    term_end: date | None = None
    vacated_on: date | None = None  # the head left office (models/vacancy.py holds why and the interim head)


class CongressReport(SQLModel, table=True):
    """The current branch-congress plan and result of a village."""

    __tablename__ = "congress_report"

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="unit.id", unique=True)
    revision: int = 1
    planned_date: date | None = None
    held_date: date | None = None
    secretary_name: str | None = Field(default=None, max_length=120)
    merged: bool | None = None
    not_merged_reason: str | None = Field(default=None, max_length=500)  # a code: congress.REASONS
    not_merged_note: str | None = Field(default=None, max_length=500)  # the reason in the head's words
    method: str | None = Field(default=None, max_length=20)  # how the secretary was chosen: merger.METHODS
    approval_number: str | None = Field(default=None, max_length=40)  # chuẩn y by the commune Party committee
    approval_date: date | None = None
    updated_at: datetime
    updated_by_account_id: int | None = Field(default=None, foreign_key="channel_account.id")


class ReportRevision(SQLModel, table=True):
    """Every saved version of a report (kind = election | congress), oldest first."""

    __tablename__ = "report_revision"
    __table_args__ = (UniqueConstraint("kind", "village_id", "revision", name="uq_revision"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    village_id: int = Field(foreign_key="unit.id", index=True)
    revision: int
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    account_id: int | None = Field(default=None, foreign_key="channel_account.id")
    channel: str | None = Field(default=None, max_length=16)
    created_at: datetime


class AuditEvent(SQLModel, table=True):
    """Who changed what, when, through which channel: old → new per field."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    account_id: int | None = Field(default=None, foreign_key="channel_account.id")
    channel: str | None = Field(default=None, max_length=16)
    action: str = Field(max_length=40)
    village_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    field: str | None = Field(default=None, max_length=40)
    old: str | None = None
    new: str | None = None


class ConversationState(SQLModel, table=True):
    """Where a user is in a conversation; keyed by person when bound, else by account."""

    __tablename__ = "conversation_state"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)
    flow: str = Field(max_length=32)
    step: str = Field(max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    wrong_count: int = 0
    updated_at: datetime
    expires_at: datetime = Field(index=True)


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
    last_error: str | None = None
    created_at: datetime
    sent_at: datetime | None = None


class DigestSnapshot(SQLModel, table=True):
    """The figures of a digest as sent to one reader, to say what changed since."""

    __tablename__ = "digest_snapshot"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    account_id: int | None = Field(default=None, foreign_key="channel_account.id", index=True)
    period_key: str = Field(max_length=40)
    figures: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime


class WebUser(SQLModel, table=True):
    """A dashboard login for committee staff or an administrator."""

    __tablename__ = "web_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=300)
    role: str = Field(max_length=20)
    unit_id: int = Field(foreign_key="unit.id")
    person_id: int | None = Field(default=None, foreign_key="person.id")
    failed_logins: int = 0  # unused since issue 14 (logins are throttled per client address)
    locked_until: datetime | None = None  # unused since issue 14: nobody can lock a staffer out
    created_at: datetime
    session_epoch: int = 0  # in every session cookie; bumped on logout and password change
    disabled: bool = False  # refused at login; disabling ends the user's sessions (the epoch moves on)
    last_login_at: datetime | None = None


import models.inbox  # noqa: E402  (registers inbox_message with the tables above)
import models.photos  # noqa: E402, F401  (registers report_photo)
from models import giaoban_tables as _giaoban_tables  # noqa: E402, F401  (registers the giao ban tables)
