"""The dialog table: conversation state, one row per person (or per unbound account).

Datetimes are aware and stored in UTC; dates are calendar dates in the province's time zone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


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
