"""Read-only queries of the dashboard: units by code or id, the outbox and invites."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.accounts.tables import ChannelAccount, Invite, Person
from models.delivery.tables import OutboxMessage
from models.typed_sql import AnySelect
from models.units.tables import Unit, UnitAncestor

_Select = TypeVar("_Select", bound=AnySelect)


async def unit_by_code(session: AsyncSession, period: str, code: str) -> Unit | None:
    return (await session.execute(
        select(Unit).where(col(Unit.period) == period, col(Unit.code) == code))).scalar_one_or_none()


async def units_by_ids(session: AsyncSession, ids: list[int]) -> list[Unit]:
    if not ids:
        return []
    return list((await session.execute(select(Unit).where(col(Unit.id).in_(ids)))).scalars().all())


OUTBOX_GROUPS = {"sent": ("sent",), "waiting": ("pending", "sending"), "failed": ("failed", "dead"),
                 "skipped": ("skipped",)}


def _outbox_scope(stmt: _Select, scope: Unit) -> _Select:
    """Rows for people under ``scope`` (a root administrator also sees rows of unbound accounts)."""
    stmt = (stmt.join(ChannelAccount, col(ChannelAccount.id) == col(OutboxMessage.account_id))
            .outerjoin(Person, col(Person.id) == col(ChannelAccount.person_id))
            .outerjoin(UnitAncestor, and_(col(UnitAncestor.descendant_id) == col(Person.unit_id),
                                          col(UnitAncestor.ancestor_id) == scope.id)))
    if scope.parent_id is None:
        return stmt.where(or_(col(Person.id).is_(None), col(UnitAncestor.ancestor_id).is_not(None)))
    return stmt.where(col(UnitAncestor.ancestor_id).is_not(None))


async def outbox_counts(session: AsyncSession, scope: Unit) -> dict[str, int]:
    stmt = _outbox_scope(select(col(OutboxMessage.status), func.count()).select_from(OutboxMessage), scope)
    by_status = dict((await session.execute(stmt.group_by(col(OutboxMessage.status)))).all())
    return {group: sum(by_status.get(s, 0) for s in statuses) for group, statuses in OUTBOX_GROUPS.items()}


async def outbox_latest(session: AsyncSession, scope: Unit,
                        limit: int = 30) -> list[tuple[OutboxMessage, ChannelAccount]]:
    stmt = _outbox_scope(select(OutboxMessage, ChannelAccount).select_from(OutboxMessage), scope)
    rows = await session.execute(stmt.order_by(col(OutboxMessage.created_at).desc(), col(OutboxMessage.id).desc())
                                 .limit(limit))
    return [(m, a) for m, a in rows.all()]


async def recent_invites(session: AsyncSession, scope: Unit, limit: int = 20) -> list[tuple[Invite, Unit]]:
    rows = await session.execute(
        select(Invite, Unit).join(Unit, col(Unit.id) == col(Invite.unit_id))
        .join(UnitAncestor, and_(col(UnitAncestor.descendant_id) == col(Unit.id),
                                 col(UnitAncestor.ancestor_id) == scope.id))
        .order_by(col(Invite.created_at).desc(), col(Invite.id).desc()).limit(limit))
    return [(i, u) for i, u in rows.all()]
