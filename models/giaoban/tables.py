"""The tables of the giao ban loop (DESIGN §3): schedules, meetings, attendance, situation reports with
their revisions, conclusions and their per-village directives.

Registered with the other tables by ``models.schema`` (which imports this module); datetimes are
aware UTC, dates are calendar dates in the province's time zone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

FIELDS = ("economy", "culture", "security", "party", "urgent", "requests")  # the order the bot asks them in
RECURRENCES = ("weekly", "monthly_day", "monthly_nth")


class GiaobanSchedule(SQLModel, table=True):
    """A commune's recurring meeting: weekly on ``weekday`` (0 = Monday), monthly on ``day``, or monthly
    on the ``nth`` ``weekday`` (1 = the first Monday, …); at ``at`` (HH:MM, local time)."""

    __tablename__ = "giaoban_schedule"

    id: int | None = Field(default=None, primary_key=True)
    commune_id: int = Field(foreign_key="unit.id", index=True)
    kind: str = Field(max_length=16)
    weekday: int | None = None
    day: int | None = None
    nth: int | None = None
    at: str = Field(default="08:00", max_length=5)
    place: str = Field(default="", max_length=200)
    active: bool = True
    created_at: datetime


class GiaobanMeeting(SQLModel, table=True):
    __tablename__ = "giaoban_meeting"
    __table_args__ = (UniqueConstraint("commune_id", "starts_at", name="uq_giaoban_meeting"),)

    id: int | None = Field(default=None, primary_key=True)
    commune_id: int = Field(foreign_key="unit.id", index=True)
    starts_at: datetime = Field(index=True)
    place: str = Field(default="", max_length=200)
    schedule_id: int | None = Field(default=None, foreign_key="giaoban_schedule.id")
    cancelled: bool = False
    created_at: datetime


class GiaobanAttendance(SQLModel, table=True):
    """A village's answer to the invitation (the latest one counts): attending (the secretary, or a
    ``deputy`` named in their place), or not, with the reason."""

    __tablename__ = "giaoban_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "village_id", name="uq_giaoban_attendance"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="giaoban_meeting.id", index=True)
    village_id: int = Field(foreign_key="unit.id", index=True)
    attending: bool
    reason: str | None = Field(default=None, max_length=500)
    account_id: int | None = Field(default=None, foreign_key="channel_account.id")
    answered_at: datetime
    deputy: str | None = Field(default=None, max_length=120)  # who attends in the secretary's place


class GiaobanReport(SQLModel, table=True):
    """A village's situation report for one meeting: ``answers`` maps a field of :data:`FIELDS` (or
    ``whole``, a report sent as one message) to the text. Its photos are rows of ``report_photo``
    (kind ``giaoban``, ``ref_id`` the meeting)."""

    __tablename__ = "giaoban_report"
    __table_args__ = (UniqueConstraint("meeting_id", "village_id", name="uq_giaoban_report"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="giaoban_meeting.id", index=True)
    village_id: int = Field(foreign_key="unit.id", index=True)
    revision: int = 1
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime
    updated_by_account_id: int | None = Field(default=None, foreign_key="channel_account.id")


class GiaobanRevision(SQLModel, table=True):
    """Every saved version of a situation report, oldest first."""

    __tablename__ = "giaoban_revision"
    __table_args__ = (UniqueConstraint("report_id", "revision", name="uq_giaoban_revision"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="giaoban_report.id", index=True)
    revision: int
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    account_id: int | None = Field(default=None, foreign_key="channel_account.id")
    channel: str | None = Field(default=None, max_length=16)
    created_at: datetime


class GiaobanConclusion(SQLModel, table=True):
    """A conclusion or directive of a meeting; a task when it has a due date."""

    __tablename__ = "giaoban_conclusion"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="giaoban_meeting.id", index=True)
    text: str
    is_task: bool = False
    due_date: date | None = None
    created_at: datetime
    created_by: str | None = Field(default=None, max_length=64)  # the dashboard login


class GiaobanDirective(SQLModel, table=True):
    """One conclusion as delivered to one village: acknowledged, and (tasks) reported done."""

    __tablename__ = "giaoban_directive"
    __table_args__ = (UniqueConstraint("conclusion_id", "village_id", name="uq_giaoban_directive"),)

    id: int | None = Field(default=None, primary_key=True)
    conclusion_id: int = Field(foreign_key="giaoban_conclusion.id", index=True)
    village_id: int = Field(foreign_key="unit.id", index=True)
    acknowledged_at: datetime | None = None
    acknowledged_by: int | None = Field(default=None, foreign_key="channel_account.id")
    done_at: datetime | None = None
    done_note: str | None = Field(default=None, max_length=1000)
    done_by: int | None = Field(default=None, foreign_key="channel_account.id")
