"""Read-only queries of the dashboard: units by code or id, the outbox and invites."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import ChannelAccount, Invite, OutboxMessage, Person, Unit, UnitAncestor


async def unit_by_code(session: AsyncSession, period: str, code: str) -> Unit | None:
    return (await session.execute(select(Unit).where(Unit.period == period, Unit.code == code))).scalar_one_or_none()


async def units_by_ids(session: AsyncSession, ids: list[int]) -> list[Unit]:
    if not ids:
        return []
    return list((await session.execute(select(Unit).where(Unit.id.in_(ids)))).scalars().all())  # type: ignore[union-attr]  # SQLModel column


OUTBOX_GROUPS = {"sent": ("sent",), "waiting": ("pending", "sending"), "failed": ("failed", "dead"),
                 "skipped": ("skipped",)}


def _outbox_scope(stmt, scope: Unit):  # type: ignore[no-untyped-def]
    """Rows for people under ``scope`` (a root administrator also sees rows of unbound accounts)."""
    stmt = (stmt.join(ChannelAccount, ChannelAccount.id == OutboxMessage.account_id)
            .outerjoin(Person, Person.id == ChannelAccount.person_id)
            .outerjoin(UnitAncestor, and_(UnitAncestor.descendant_id == Person.unit_id,
                                          UnitAncestor.ancestor_id == scope.id)))
    if scope.parent_id is None:
        return stmt.where(or_(Person.id.is_(None), UnitAncestor.ancestor_id.is_not(None)))  # type: ignore[union-attr]
    return stmt.where(UnitAncestor.ancestor_id.is_not(None))  # type: ignore[union-attr]


async def outbox_counts(session: AsyncSession, scope: Unit) -> dict[str, int]:
    stmt = _outbox_scope(select(OutboxMessage.status, func.count()).select_from(OutboxMessage), scope)
    by_status = dict((await session.execute(stmt.group_by(OutboxMessage.status))).all())
    return {group: sum(by_status.get(s, 0) for s in statuses) for group, statuses in OUTBOX_GROUPS.items()}


async def outbox_latest(session: AsyncSession, scope: Unit,
                        limit: int = 30) -> list[tuple[OutboxMessage, ChannelAccount]]:
    stmt = _outbox_scope(select(OutboxMessage, ChannelAccount).select_from(OutboxMessage), scope)
    rows = await session.execute(stmt.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())  # type: ignore[union-attr]
                                 .limit(limit))
    return [(m, a) for m, a in rows.all()]


async def recent_invites(session: AsyncSession, scope: Unit, limit: int = 20) -> list[tuple[Invite, Unit]]:
    rows = await session.execute(
        select(Invite, Unit).join(Unit, Unit.id == Invite.unit_id)
        .join(UnitAncestor, and_(UnitAncestor.descendant_id == Unit.id, UnitAncestor.ancestor_id == scope.id))
        .order_by(Invite.created_at.desc(), Invite.id.desc()).limit(limit))  # type: ignore[union-attr]
    return [(i, u) for i, u in rows.all()]
