"""Who is a village's head now (DESIGN §3) — ONE rule, as SQL over the village (``Unit``) outer-joined
to its current election report (:func:`models.progress.status.with_reports`), for ``/trangthai``, the
commune's page and the export alike:

- the elected head is the head while in office: a valid result (an invalid one elected nobody — the
  most-voted is not the head) whose post has not fallen vacant (``vacated_on``: the head left);
- while the post is vacant — or, for a village new from a merger or split, before its first
  election — the vacancy is open, and its interim head, once appointed, stands in.

Only tables are imported here, so the status and export modules can read it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import ScalarSelect
from sqlmodel import col

from models.election.tables import ElectionReport, Vacancy
from models.units.tables import Unit


def in_office() -> ColumnElement[bool]:
    """The village's elected head is in office (read beside ``ElectionReport``)."""
    e = ElectionReport
    return and_(col(e.id).is_not(None), col(e.valid).is_not(False), col(e.vacated_on).is_(None))


def head_name() -> ColumnElement[Any]:
    """The elected head's name while in office; else NULL (nobody elected, or the head left)."""
    return case((in_office(), col(ElectionReport.head_name)))


def open_vacancy_clause() -> ColumnElement[bool]:
    """A ``Vacancy`` row of the village's open vacancy: its current election's while the post is vacant,
    or a new village's (election 0) before its first election."""
    e = ElectionReport
    return and_(col(Vacancy.village_id) == Unit.id, col(Vacancy.election_no) == func.coalesce(col(e.election_no), 0),
                or_(col(e.vacated_on).is_not(None), col(e.id).is_(None)))


def interim_head() -> ScalarSelect[Any]:
    """The interim head standing in while the vacancy is open; NULL when none is appointed."""
    return (select(col(Vacancy.interim_head)).where(open_vacancy_clause())
            .order_by(col(Vacancy.id).desc()).limit(1).scalar_subquery())
