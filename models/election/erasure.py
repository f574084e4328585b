"""Personal data of a village head who left office (Nghị định 13/2023/NĐ-CP: kept no longer than its
purpose needs). When the post is vacant (``election_report.vacated_on``, recorded with /khuyet), the
former head's phone numbers are erased everywhere they are kept — the person, the election report, its
revisions and the audit trail — and the chat accounts bound to him are unbound (a new head is invited
with a new code). The election record itself (name, vote count, party status on the day) stays: it is
the commune's official record of the term. Plain functions; the caller's transaction commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.accounts.tables import ChannelAccount, Person
from models.dialog.state import state_key
from models.dialog.tables import ConversationState
from models.election.tables import AuditEvent, ElectionReport, ReportRevision

PHONE_FIELDS = ("head_phone", "phone")


class ErasureError(ValueError):
    """``in_office``: the village's head has not left office (record the vacancy first)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Erased:
    persons: int
    accounts: int
    revisions: int
    audit_events: int


async def erase_former_head(session: AsyncSession, village_id: int, now: datetime) -> Erased:
    report = (await session.execute(select(ElectionReport).where(col(ElectionReport.village_id) == village_id)
                                    .with_for_update())).scalar_one_or_none()
    if report is not None and report.vacated_on is None:
        raise ErasureError("in_office")
    if report is not None:
        report.head_phone = None
    persons = list((await session.execute(select(Person).where(
        col(Person.unit_id) == village_id, col(Person.role) == "village_head"))).scalars().all())
    person_ids = [p.id for p in persons if p.id is not None]
    accounts = list((await session.execute(select(ChannelAccount).where(
        col(ChannelAccount.person_id).in_(person_ids)))).scalars().all()) if person_ids else []
    for person in persons:
        person.phone, person.full_name = None, ""
    keys = [state_key(pid, None) for pid in person_ids] + [state_key(None, a.id) for a in accounts]
    if keys:
        await session.execute(delete(ConversationState).where(col(ConversationState.key).in_(keys)))
    for account in accounts:
        account.person_id, account.display_name = None, None
    revisions = 0
    for revision in (await session.execute(select(ReportRevision).where(
            col(ReportRevision.village_id) == village_id, col(ReportRevision.kind) == "election"))).scalars():
        if any(revision.data.get(f) for f in PHONE_FIELDS):
            revision.data = {k: (None if k in PHONE_FIELDS else v) for k, v in revision.data.items()}
            revisions += 1
    audit = await session.execute(update(AuditEvent).where(
        col(AuditEvent.village_id) == village_id, col(AuditEvent.field).in_(PHONE_FIELDS)).values(old=None, new=None))
    session.add(AuditEvent(at=now, action="personal_data.erased", village_id=village_id, field="head_phone"))
    await session.flush()
    return Erased(len(persons), len(accounts), revisions, int(getattr(audit, "rowcount", 0) or 0))
