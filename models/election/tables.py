"""The election tables: election and congress reports, their revisions and audit events, vacancies.

Datetimes are aware and stored in UTC; dates are calendar dates in the province's time zone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

PARTY_STATUSES = ("member", "probationary", "non_member")


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


class Vacancy(SQLModel, table=True):
    """A head who left office before the term's end, and the interim head appointed meanwhile."""

    __tablename__ = "vacancy"

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="unit.id", index=True)
    election_no: int  # the election whose head left
    kind: str = Field(max_length=16)  # VACANCY_KINDS
    on: date
    reason: str = Field(default="", max_length=500)
    interim_head: str | None = Field(default=None, max_length=120)
    interim_appointed_on: date | None = None
    created_at: datetime
