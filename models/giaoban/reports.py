"""Situation reports for a giao ban meeting: every save is a revision with audit events per field.

A report is accepted while the meeting's window is open (``GiaobanRules.report_window_days`` before
its start, until it starts). Photos are references kept beside the answers (the incoming-photo
plumbing calls :func:`attach_photo`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.election.reports import Actor
from models.election.tables import AuditEvent
from models.giaoban.rules import GiaobanRules
from models.giaoban.tables import FIELDS, GiaobanMeeting, GiaobanReport, GiaobanRevision
from models.refusal import Refused

WHOLE = "whole"  # the key of a report sent as one message, kept whole
NOTHING = ""  # an answer of "nothing new" is stored as the empty string


def window_open(meeting: GiaobanMeeting, rules: GiaobanRules, now: datetime) -> bool:
    return rules.window_opens(meeting.starts_at) <= now < meeting.starts_at and not meeting.cancelled


async def get_report(session: AsyncSession, meeting_id: int, village_id: int) -> GiaobanReport | None:
    return (await session.execute(select(GiaobanReport).where(
        col(GiaobanReport.meeting_id) == meeting_id, col(GiaobanReport.village_id) == village_id))
    ).scalar_one_or_none()


async def latest_report(session: AsyncSession, village_id: int) -> GiaobanReport | None:
    """The village's most recently saved giao ban report (a photo sent right after joins it)."""
    return (await session.execute(select(GiaobanReport).where(col(GiaobanReport.village_id) == village_id)
                                  .order_by(col(GiaobanReport.updated_at).desc()).limit(1))).scalar_one_or_none()


def clean_answers(answers: dict[str, Any]) -> dict[str, str]:
    """Only known fields, as text; a report is either field by field or one whole message."""
    out = {k: str(v or "").strip()[:4096] for k, v in answers.items() if k in (*FIELDS, WHOLE)}
    if out.get(WHOLE):
        return {WHOLE: out[WHOLE]}
    return {k: out.get(k, NOTHING) for k in FIELDS}


async def save_report(session: AsyncSession, meeting: GiaobanMeeting, village_id: int, answers: dict[str, Any],
                      actor: Actor, now: datetime, rules: GiaobanRules) -> GiaobanReport:
    """Save a first report or a correction (a new revision); refused outside the window."""
    assert meeting.id is not None
    if not window_open(meeting, rules, now):
        raise Refused("window_closed")
    values = clean_answers(answers)
    report = await get_report(session, meeting.id, village_id)
    old: dict[str, str] | None = None
    if report is None:
        report = GiaobanReport(meeting_id=meeting.id, village_id=village_id, revision=1, answers=values,
                               updated_at=now, updated_by_account_id=actor.account_id)
        session.add(report)
    else:
        old = dict(report.answers)
        if old == values:
            return report
        report.revision += 1
        report.answers = values
        report.updated_at, report.updated_by_account_id = now, actor.account_id
    await session.flush()
    assert report.id is not None
    session.add(GiaobanRevision(report_id=report.id, revision=report.revision, data=values,
                                account_id=actor.account_id, channel=actor.channel, created_at=now))
    action = "giaoban.create" if old is None else "giaoban.update"
    for field in sorted(set(values) | set(old or {})):
        before, after = (old or {}).get(field), values.get(field)
        if old is None or before != after:
            session.add(AuditEvent(at=now, account_id=actor.account_id, channel=actor.channel, action=action,
                                   village_id=village_id, field=f"{meeting.id}:{field}", old=before, new=after))
    await session.flush()
    return report


async def report_revisions(session: AsyncSession, report_id: int) -> list[GiaobanRevision]:
    rows = await session.execute(select(GiaobanRevision).where(col(GiaobanRevision.report_id) == report_id)
                                 .order_by(col(GiaobanRevision.revision)))
    return list(rows.scalars().all())
