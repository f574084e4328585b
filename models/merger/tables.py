"""The merger tables: party-status events of a village head, and each commune's
congress plan (the deadline for its villages' branch congresses)."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

PARTY_EVENTS = ("full_member", "admitted", "admission_planned")


class PartyEvent(SQLModel, table=True):
    """The head became a full member, was admitted, or has an admission planned: an event of its own,
    never a revision of the election report."""

    __tablename__ = "party_event"

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="unit.id", index=True)
    kind: str = Field(max_length=20)  # PARTY_EVENTS
    on: date
    head_name: str = Field(default="", max_length=120)
    account_id: int | None = Field(default=None, foreign_key="channel_account.id")
    channel: str | None = Field(default=None, max_length=16)
    created_at: datetime


class CongressPlan(SQLModel, table=True):
    """A commune's deadline for its villages' branch congresses (the province default is a setting)."""

    __tablename__ = "congress_plan"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", unique=True)
    deadline: date
    updated_at: datetime
    updated_by_account_id: int | None = Field(default=None, foreign_key="channel_account.id")
