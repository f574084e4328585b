"""Who answers for a village in the giao ban loop (DESIGN §3–§4): the branch secretary.

Where the head is not the secretary, the secretary has an account of their own for the village
(``invite village CODE --role secretary``: a person of role ``village_secretary``). The invitations,
the report (``/giaoban``), attendance and the directives (``/nhiemvu``) go to:

- the head, where the head is the secretary (the branch chose the head: ``CongressReport.merged``, or the
  head was already secretary when elected) and the head has an account — addressed "bí thư chi bộ
  kiêm trưởng thôn";
- otherwise the secretary's accounts, where the village has any;
- otherwise the head (no secretary account yet), asked to pass the invitation on.

The election and vacancy reports stay with the head (``models.reminders.sweep.head_accounts``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.accounts.tables import VILLAGE_ROLES, ChannelAccount, Person
from models.election.tables import CongressReport, ElectionReport
from models.typed_sql import id_col

HEAD, SECRETARY = VILLAGE_ROLES
MEMBERS = ("member", "probationary")  # addressed "đồng chí"; others "ông/bà"


@dataclass(frozen=True, slots=True)
class GiaobanContact:
    """The role that answers for a village, how it is addressed, and its reachable accounts.
    ``as_``: ``head_secretary`` | ``secretary`` | ``head`` (the head standing in: no secretary account)."""

    role: str
    as_: str
    accounts: list[int] = field(default_factory=list)
    party_member: bool = True  # the head standing in: "đồng chí" if a member, else "ông/bà"


async def giaoban_contacts(session: AsyncSession, village_ids: Sequence[int]) -> dict[int, GiaobanContact]:
    """village id → who answers for it in the giao ban loop (every village given, accounts or not)."""
    ids = list(village_ids)
    if not ids:
        return {}
    accounts: dict[tuple[int, str], list[tuple[int, bool]]] = defaultdict(list)
    rows = await session.execute(
        select(col(Person.unit_id), col(Person.role), id_col(ChannelAccount.id), col(ChannelAccount.blocked))
        .join(ChannelAccount, col(ChannelAccount.person_id) == Person.id)
        .where(col(Person.role).in_(VILLAGE_ROLES), col(Person.unit_id).in_(ids)).order_by(col(ChannelAccount.id)))
    for vid, role, aid, blocked in rows.all():
        accounts[(vid, role)].append((aid, blocked))
    heads = await session.execute(
        select(col(ElectionReport.village_id), col(ElectionReport.party_status), col(CongressReport.merged))
        .outerjoin(CongressReport, col(CongressReport.village_id) == ElectionReport.village_id)
        .where(col(ElectionReport.village_id).in_(ids), col(ElectionReport.vacated_on).is_(None)))
    facts = {vid: (party, merged is True) for vid, party, merged in heads.all()}
    out: dict[int, GiaobanContact] = {}
    for vid in ids:
        party, head_is_secretary = facts.get(vid, (None, False))
        head, secretary = accounts.get((vid, HEAD), []), accounts.get((vid, SECRETARY), [])
        if head_is_secretary and head:
            role, as_, found = HEAD, "head_secretary", head
        elif secretary:
            role, as_, found = SECRETARY, "secretary", secretary
        else:
            role, as_, found = HEAD, "head", head
        out[vid] = GiaobanContact(role, as_, [aid for aid, blocked in found if not blocked],
                                  party_member=as_ != "head" or party in MEMBERS)
    return out


async def giaoban_contact(session: AsyncSession, village_id: int) -> GiaobanContact:
    return (await giaoban_contacts(session, [village_id]))[village_id]
