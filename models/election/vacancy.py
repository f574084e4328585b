"""Vacancies (DESIGN §3): a head resigns, is dismissed or recalled (date, reason); the commune may
appoint an interim head (name, appointed on); a by-election is due within 6 months. Recorded by
commune staff; the election report's ``vacated_on`` says the post is vacant until a by-election (a new
election in the same term, handlers/election_new.py). Plain functions over a session; no commits.

Outbox key: ``byelection_late:<village>:<vacancy id>:a<account>`` (once, when the 6 months are over).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.delivery.outbox import enqueue
from models.election.record import BY_ELECTION_MONTHS
from models.election.reports import Actor, get_election, write_revision
from models.election.tables import ElectionReport, Vacancy
from models.merger.rules import add_months
from models.refusal import Refused
from models.reminders.sweep import staff_accounts
from models.units.tables import Unit
from texts.catalog import t
from texts.fmt import fmt_date

VACANCY_KINDS = ("resignation", "dismissal", "recall")




def by_election_due(vacancy: Vacancy) -> date:
    return add_months(vacancy.on, BY_ELECTION_MONTHS)


async def open_vacancy(session: AsyncSession, village_id: int) -> Vacancy | None:
    """The vacancy of the current election, while the post is vacant."""
    report = await get_election(session, village_id)
    if report is None or report.vacated_on is None:
        return None
    return (await session.execute(
        select(Vacancy).where(col(Vacancy.village_id) == village_id, col(Vacancy.election_no) == report.election_no)
        .order_by(col(Vacancy.id).desc()))).scalars().first()


async def record_vacancy(session: AsyncSession, village_id: int, *, kind: str, on: date, reason: str, actor: Actor,
                         now: datetime, today: date) -> Vacancy:
    """The head left office: the post is vacant from ``on`` (a revision of the report, audited)."""
    report = await get_election(session, village_id)
    if report is None or report.valid is False:
        raise Refused("no_head")
    if report.vacated_on is not None:
        raise Refused("already_vacant")
    if kind not in VACANCY_KINDS:
        raise Refused("kind")
    if on > today or on < report.election_date:
        raise Refused("vacancy_date")
    vacancy = Vacancy(village_id=village_id, election_no=report.election_no, kind=kind, on=on, reason=reason.strip(),
                      created_at=now)
    session.add(vacancy)
    await _report_change(session, report, {"vacated_on": on}, actor, now, "election.vacancy")
    return vacancy


async def appoint_interim(session: AsyncSession, village_id: int, *, name: str, on: date, actor: Actor,
                          now: datetime, today: date) -> Vacancy:
    vacancy = await open_vacancy(session, village_id)
    if vacancy is None:
        raise Refused("not_vacant")
    if on > today or on < vacancy.on:
        raise Refused("interim_date")
    vacancy.interim_head, vacancy.interim_appointed_on = name, on
    session.add(vacancy)
    report = await get_election(session, village_id)
    assert report is not None
    report.revision += 1
    report.updated_at, report.updated_by_account_id = now, actor.account_id
    await write_revision(session, "election", village_id, report.revision,
                          {"interim_head": name, "interim_appointed_on": on}, {}, actor, now, action="election.interim")
    await session.flush()
    return vacancy


async def _report_change(session: AsyncSession, report: ElectionReport, changes: dict[str, Any], actor: Actor,
                         now: datetime, action: str) -> None:
    old = {k: getattr(report, k) for k in changes}
    for k, v in changes.items():
        setattr(report, k, v)
    report.revision += 1
    report.updated_at, report.updated_by_account_id = now, actor.account_id
    await write_revision(session, "election", report.village_id, report.revision, changes, old, actor, now,
                          action=action)
    await session.flush()


async def escalate_by_elections(session: AsyncSession, now: datetime, tz: ZoneInfo) -> int:
    """Queue, once per vacancy, a message to the commune staff when the 6 months for the by-election
    are over and the post is still vacant."""
    today = now.astimezone(tz).date()
    rows = (await session.execute(
        select(Vacancy, Unit).join(Unit, col(Unit.id) == Vacancy.village_id)
        .join(ElectionReport, col(ElectionReport.village_id) == Vacancy.village_id)
        .where(col(ElectionReport.vacated_on).is_not(None), col(ElectionReport.election_no) == Vacancy.election_no,
               col(Unit.level) == "village")
    )).all()
    late = [(v, u) for v, u in rows if by_election_due(v) < today]
    if not late:
        return 0
    staff = await staff_accounts(session, [u.id for _, u in late if u.id is not None])
    queued = 0
    for vacancy, village in late:
        assert village.id is not None
        text = t("vacancy.late_notice", village=village.full_name or village.name, since=fmt_date(vacancy.on),
                 due=fmt_date(by_election_due(vacancy)))
        for account_id in staff.get(village.id, []):
            queued += await enqueue(session, key=f"byelection_late:{village.code}:{vacancy.id}:a{account_id}",
                                    kind="escalation", account_id=account_id, text=text, now=now,
                                    village_id=village.id)
    return queued


async def vacancy_notes(session: AsyncSession, village_id: int) -> list[tuple[str, dict[str, Any]]]:
    """Beside the status (keys under ``statuscmd.record``): vacant since, or the interim head; the
    by-election's deadline."""
    vacancy = await open_vacancy(session, village_id)
    if vacancy is None:
        return []
    due = by_election_due(vacancy)
    if vacancy.interim_head:
        return [("interim", {"name": vacancy.interim_head, "since": vacancy.interim_appointed_on, "due": due})]
    return [("vacant", {"since": vacancy.on, "due": due})]
