"""Election and branch-congress reports: every save is a revision with an audit trail.

Plain functions over a session; they validate, write, and never commit (the caller does).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.election.record import DEFAULT_TERM_MONTHS, count_error, new_election_values, validity
from models.election.tables import PARTY_STATUSES, AuditEvent, CongressReport, ElectionReport, ReportRevision
from models.merger.rules import CHOSEN, full_member_on
from models.refusal import Refused
from models.typed_sql import table_of

NOT_ASKED = ""  # the party status of an invalid result: nobody was elected, so it is not asked


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is writing: the account and the channel it came through."""

    account_id: int | None
    channel: str | None


@dataclass(frozen=True, slots=True)
class ElectionData:
    election_date: date
    head_name: str
    votes_for: int
    valid_ballots: int
    roll: int
    party_status: str
    party_date: date | None = None
    attendees: int | None = None
    ballots_issued: int | None = None
    invalid_ballots: int | None = None
    head_phone: str | None = None


def check_election(data: ElectionData, today: date) -> list[str]:
    """The clerk's checks; returns warnings, raises :class:`Refused` for a refusal."""
    if data.election_date > today:
        raise Refused("date_in_future")
    if min(data.votes_for, data.valid_ballots, data.roll) < 0:
        raise Refused("negative")
    if data.votes_for > data.valid_ballots:
        raise Refused("votes_over_ballots")
    if data.valid_ballots > data.roll:
        raise Refused("ballots_over_roll")
    if (wrong := count_error(asdict(data))) is not None:
        raise Refused(wrong.rule)
    elected = validity(data.roll, data.attendees, data.votes_for).valid
    if data.party_status not in PARTY_STATUSES and not (data.party_status == NOT_ASKED and not elected):
        raise Refused("party_status")
    if data.party_status == "probationary" and data.party_date is not None and data.party_date > today:
        raise Refused("admission_in_future")
    warnings: list[str] = []
    if data.votes_for * 2 <= data.roll:
        warnings.append("not_majority")
    return warnings


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def revision_rows(kind: str, village_id: int, revision: int, new: dict[str, Any], old: dict[str, Any] | None,
                  actor: Actor, now: datetime,
                  action: str | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ``report_revision`` row and the ``audit_event`` rows (one per changed field) of a save."""
    row = {"kind": kind, "village_id": village_id, "revision": revision, "data": _jsonable(new),
           "account_id": actor.account_id, "channel": actor.channel, "created_at": now}
    action = action or f"{kind}.{'create' if old is None else 'update'}"
    events = [{"at": now, "account_id": actor.account_id, "channel": actor.channel, "action": action,
               "village_id": village_id, "field": field, "old": as_text(None if old is None else old.get(field)),
               "new": as_text(value)}
              for field, value in new.items() if old is None or old.get(field) != value]
    return row, events


async def write_revision(session: AsyncSession, kind: str, village_id: int, revision: int,
                          new: dict[str, Any], old: dict[str, Any] | None, actor: Actor, now: datetime,
                          action: str | None = None) -> None:
    row, events = revision_rows(kind, village_id, revision, new, old, actor, now, action)
    session.add(ReportRevision(**row))
    if events:  # one statement for all of them (they need no ids back)
        await (await session.connection()).execute(insert(table_of(AuditEvent)), events)


ELECTION_FIELDS = ("election_date", "head_name", "votes_for", "valid_ballots", "roll", "party_status",
                   "party_date", "admission_planned_date", "attendees", "ballots_issued", "invalid_ballots",
                   "head_phone")
CONGRESS_FIELDS = ("planned_date", "held_date", "secretary_name", "merged", "not_merged_reason", "not_merged_note",
                   "method", "approval_number", "approval_date")


async def get_election(session: AsyncSession, village_id: int) -> ElectionReport | None:
    return (await session.execute(
        select(ElectionReport).where(col(ElectionReport.village_id) == village_id))).scalar_one_or_none()


async def get_congress(session: AsyncSession, village_id: int) -> CongressReport | None:
    return (await session.execute(
        select(CongressReport).where(col(CongressReport.village_id) == village_id))).scalar_one_or_none()


async def record_election(session: AsyncSession, village_id: int, data: ElectionData, actor: Actor,
                          now: datetime, today: date, *, kind: str | None = None,
                          term_months: int = DEFAULT_TERM_MONTHS) -> tuple[ElectionReport, list[str]]:
    """Save a first election result, a correction (a new revision of the same election), or — with
    ``kind`` (``regular`` for a new term, ``revote``, ``by_election``) — a new election of a village
    that already has one (models/election_record.py). Returns (report, warnings)."""
    warnings = check_election(data, today)
    values: dict[str, Any] = asdict(data)
    report = await get_election(session, village_id)
    if data.party_status == "member":  # a full-membership date recorded since (/dangvien) is kept, same election
        keep = report is not None and kind is None and report.party_status == "member"
        values["party_date"] = report.party_date if keep and report is not None else None
    values["admission_planned_date"] = None
    if data.party_status == "non_member":  # (ElectionData.party_date: the planned admission)
        values["admission_planned_date"], values["party_date"] = data.party_date, None
    values["valid"] = validity(data.roll, data.attendees, data.votes_for).valid
    if report is None or kind is not None:
        values.update(new_election_values(report, data.election_date, kind or "regular", term_months, today))
    if report is None:
        report = ElectionReport(village_id=village_id, revision=1, updated_at=now,
                                updated_by_account_id=actor.account_id, **values)
        session.add(report)
        await write_revision(session, "election", village_id, 1, values, None, actor, now)
    else:
        old = {f: getattr(report, f) for f in values}
        if old == values:
            return report, warnings
        for f, v in values.items():
            setattr(report, f, v)
        report.revision += 1
        report.updated_at, report.updated_by_account_id = now, actor.account_id
        await write_revision(session, "election", village_id, report.revision, values, old, actor, now,
                              action=None if kind is None else "election.new")
    await session.flush()
    return report, warnings


async def save_congress(session: AsyncSession, village_id: int, changes: dict[str, Any], actor: Actor,
                         now: datetime) -> CongressReport:
    report = await get_congress(session, village_id)
    old: dict[str, Any] | None = None
    if report is None:
        report = CongressReport(village_id=village_id, revision=1, updated_at=now,
                                updated_by_account_id=actor.account_id)
        session.add(report)
    else:
        old = {f: getattr(report, f) for f in CONGRESS_FIELDS}
        if all(old.get(k) == v for k, v in changes.items()):
            return report
        report.revision += 1
    for f, v in changes.items():
        setattr(report, f, v)
    report.updated_at, report.updated_by_account_id = now, actor.account_id
    new = {f: getattr(report, f) for f in CONGRESS_FIELDS}
    await write_revision(session, "congress", village_id, report.revision, new, old, actor, now)
    await session.flush()
    return report


async def plan_congress(session: AsyncSession, village_id: int, planned: date, actor: Actor, now: datetime,
                        today: date) -> CongressReport:
    """Set or move the planned congress date; each move is a revision (the old date is kept)."""
    if await get_election(session, village_id) is None:
        raise Refused("no_election")
    existing = await get_congress(session, village_id)
    if existing is not None and (existing.held_date is not None or existing.merged is not None):
        raise Refused("already_held")
    if planned < today and (existing is None or existing.planned_date != planned):
        raise Refused("planned_in_past")
    return await save_congress(session, village_id, {"planned_date": planned}, actor, now)


async def record_congress_result(session: AsyncSession, village_id: int, *, held_date: date,
                                 secretary_name: str, merged: bool, reason: str | None, actor: Actor,
                                 now: datetime, today: date, note: str | None = None,
                                 method: str = "congress") -> CongressReport:
    """Record how the secretary was chosen (``method``: a congress, a by-election, an appointment):
    merged when the secretary is the village head, who must then be a full member on ``held_date``;
    otherwise ``reason`` is a code, ``note`` the reason in the reporter's words (if typed). A new
    choice waits for the commune's approval again."""
    election = await get_election(session, village_id)
    if election is None:
        raise Refused("no_election")
    if held_date > today:
        raise Refused("date_in_future")
    if method not in CHOSEN:
        raise Refused("method")
    if merged and not full_member_on(election.party_status, election.party_date, held_date):
        raise Refused("head_not_full_member")
    if not merged and not (reason or "").strip():
        raise Refused("reason_required")
    changes = {"held_date": held_date, "secretary_name": secretary_name, "merged": merged, "method": method,
               "not_merged_reason": None if merged else (reason or "").strip(),
               "not_merged_note": None if merged else ((note or "").strip() or None)}
    current = await get_congress(session, village_id)
    if current is None or any(getattr(current, k) != v for k, v in changes.items()):
        changes.update(approval_number=None, approval_date=None)
    return await save_congress(session, village_id, changes, actor, now)


async def revisions(session: AsyncSession, village_id: int) -> list[ReportRevision]:
    rows = await session.execute(select(ReportRevision).where(col(ReportRevision.village_id) == village_id)
                                 .order_by(col(ReportRevision.created_at), col(ReportRevision.id)))
    return list(rows.scalars().all())


async def audit_trail(session: AsyncSession, village_id: int) -> list[AuditEvent]:
    rows = await session.execute(select(AuditEvent).where(col(AuditEvent.village_id) == village_id)
                                 .order_by(col(AuditEvent.at), col(AuditEvent.id)))
    return list(rows.scalars().all())


async def count_revisions(session: AsyncSession, kind: str, village_id: int) -> int:
    return (await session.execute(select(func.count()).select_from(ReportRevision).where(
        col(ReportRevision.kind) == kind, col(ReportRevision.village_id) == village_id))).scalar_one()
