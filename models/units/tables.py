"""The unit tables: the administrative tree, its closure table and its history (mergers, splits).

Datetimes are aware and stored in UTC; dates are calendar dates in the province's time zone.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

LEVELS = ("nation", "province", "district", "commune", "village")


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


class UnitLineage(SQLModel, table=True):
    """An old village and the village that took it over (merge) or one of those it became (split)."""

    __tablename__ = "unit_lineage"

    id: int | None = Field(default=None, primary_key=True)
    old_id: int = Field(foreign_key="unit.id", index=True)
    new_id: int = Field(foreign_key="unit.id", index=True)
    kind: str = Field(max_length=8)  # merge | split
    on: date
    created_at: datetime
