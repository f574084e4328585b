"""Vacancies (DESIGN §3): a head resigns, is dismissed or recalled (date, reason); the commune may
appoint an interim head (name, appointed on); a by-election is due within 6 months. Recorded by
commune staff; the election report's ``vacated_on`` says the post is vacant until a by-election (a new
election in the same term, handlers/election_new.py). The head who left is no longer the village's head:
their accounts are unbound (the person is kept, as ``former_head``, for the history), and the notice goes
to the commune staff and the branch secretary, not to them. A village new from a merger or split, with
no election yet, may get an interim head too (a vacancy of ``election_no`` 0, kind ``new_village``).
Plain functions over a session; no commits.

Outbox key: ``vacancy:<village>:<election no>:a<account>`` (the vacancy, to staff and secretary). When the
6 months are over without a by-election, the staff are told once, with the other late decisions
(models/election/escalation.py).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.accounts.tables import ChannelAccount, Person
from models.delivery.outbox import enqueue
from models.election.head import open_vacancy_clause
from models.election.record import BY_ELECTION_MONTHS
from models.election.reports import Actor, get_election, write_revision
from models.election.tables import AuditEvent, ElectionReport, Vacancy
from models.merger.rules import add_months
from models.refusal import Refused
from models.reminders.sweep import staff_accounts
from models.typed_sql import id_col
from models.units.tables import Unit, UnitLineage

VACANCY_KINDS = ("resignation", "dismissal", "recall")
NEW_VILLAGE = "new_village"  # a village new from a merger or split: no head elected yet
FORMER_HEAD = "former_head"  # the role of a person who left the head's post


def by_election_due(vacancy: Vacancy) -> date:
    return add_months(vacancy.on, BY_ELECTION_MONTHS)


async def open_vacancy(session: AsyncSession, village_id: int) -> Vacancy | None:
    """The vacancy of the current election, while the post is vacant (a new village's, before its
    first election): the rule of models.election.head."""
    return (await session.execute(
        select(Vacancy).select_from(Unit).outerjoin(ElectionReport, col(ElectionReport.village_id) == Unit.id)
        .join(Vacancy, open_vacancy_clause()).where(col(Unit.id) == village_id)
        .order_by(col(Vacancy.id).desc()))).scalars().first()


async def _is_new_village(session: AsyncSession, village_id: int) -> bool:

    return (await session.execute(select(col(UnitLineage.id)).where(col(UnitLineage.new_id) == village_id)
                                  .limit(1))).first() is not None


async def unbind_heads(session: AsyncSession, village_id: int, actor: Actor, now: datetime) -> list[int]:
    """The village's head left: their accounts are unbound (the person stays, as ``former_head``);
    returns the accounts unbound. A new head binds with a new invite."""
    heads = (await session.execute(select(Person).where(col(Person.unit_id) == village_id,
                                                        col(Person.role) == "village_head"))).scalars().all()
    unbound: list[int] = []
    for person in heads:
        person.role = FORMER_HEAD
        session.add(person)
        for account in (await session.execute(select(ChannelAccount).where(
                col(ChannelAccount.person_id) == person.id))).scalars().all():
            account.person_id = None
            session.add(account)
            if account.id is not None:
                unbound.append(account.id)
        session.add(AuditEvent(at=now, account_id=actor.account_id, channel=actor.channel, action="account.unbound",
                               village_id=village_id, field="village_head", old=str(person.id), new=FORMER_HEAD))
    await session.flush()
    return unbound


async def tell_vacancy(session: AsyncSession, village: Unit, vacancy: Vacancy, text_staff: str, text_secretary: str,
                       now: datetime, skip_account: int | None = None) -> int:
    """The vacancy, to the commune staff (but ``skip_account``, who recorded it) and the branch secretary."""
    assert village.id is not None
    key = f"vacancy:{village.code}:{vacancy.election_no}"
    staff = [a for a in (await staff_accounts(session, [village.id])).get(village.id, []) if a != skip_account]
    secretaries = (await session.execute(
        select(id_col(ChannelAccount.id)).join(Person, col(Person.id) == ChannelAccount.person_id)
        .where(col(Person.unit_id) == village.id, col(Person.role) == "village_secretary",
               col(ChannelAccount.blocked).is_(False)).order_by(col(ChannelAccount.id)))).scalars().all()
    queued = 0
    for accounts, text in ((staff, text_staff), (list(secretaries), text_secretary)):
        for account_id in accounts:
            queued += await enqueue(session, key=f"{key}:a{account_id}", kind="notice", account_id=account_id,
                                    text=text, now=now, village_id=village.id)
    return queued


async def record_vacancy(session: AsyncSession, village_id: int, *, kind: str, on: date, reason: str, actor: Actor,
                         now: datetime, today: date) -> Vacancy:
    """The head left office: the post is vacant from ``on`` (a revision of the report, audited), and
    the head's accounts are unbound from it (:func:`unbind_heads`)."""
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
    await unbind_heads(session, village_id, actor, now)
    return vacancy


async def appoint_interim(session: AsyncSession, village_id: int, *, name: str, on: date, actor: Actor,
                          now: datetime, today: date) -> Vacancy:
    """An interim head while the post is vacant, or for a village new from a merger or split that has
    not elected its head yet (its vacancy opens on the appointment)."""
    vacancy = await open_vacancy(session, village_id)
    report = await get_election(session, village_id)
    if vacancy is None and report is None and await _is_new_village(session, village_id):
        if on > today:
            raise Refused("interim_date")
        vacancy = Vacancy(village_id=village_id, election_no=0, kind=NEW_VILLAGE, on=on, created_at=now)
    if vacancy is None:
        raise Refused("not_vacant")
    if on > today or on < vacancy.on:
        raise Refused("interim_date")
    vacancy.interim_head, vacancy.interim_appointed_on = name, on
    session.add(vacancy)
    if report is None:  # a new village: the appointment is its record until the first election
        session.add(AuditEvent(at=now, account_id=actor.account_id, channel=actor.channel, action="election.interim",
                               village_id=village_id, field="interim_head", new=f"{name} ({on.isoformat()})"))
        await session.flush()
        return vacancy
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
