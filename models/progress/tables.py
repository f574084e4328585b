"""The progress table: digest snapshots, what a reader was last told, to say what changed since.

Datetimes are aware and stored in UTC; dates are calendar dates in the province's time zone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class DigestSnapshot(SQLModel, table=True):
    """The figures of a digest as sent to one reader, to say what changed since."""

    __tablename__ = "digest_snapshot"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    account_id: int | None = Field(default=None, foreign_key="channel_account.id", index=True)
    period_key: str = Field(max_length=40)
    figures: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime
