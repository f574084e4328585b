"""The photo table: photos sent with reports, stored in the database.

Datetimes are aware and stored in UTC; dates are calendar dates in the province's time zone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary
from sqlmodel import Column, Field, SQLModel


class ReportPhoto(SQLModel, table=True):
    __tablename__ = "report_photo"

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="unit.id", index=True)
    kind: str = Field(max_length=16)  # one of KINDS
    ref_id: int | None = Field(default=None, index=True)  # the meeting (giaoban) or the directive (task)
    mime_type: str = Field(max_length=40)
    size: int
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    account_id: int | None = Field(default=None, foreign_key="channel_account.id")
    channel: str | None = Field(default=None, max_length=16)
    created_at: datetime
