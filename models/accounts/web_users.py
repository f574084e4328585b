"""Dashboard logins and invite codes as an administrator manages them (``python -m bot webuser list``,
``invite list``, the admin page): list, disable and enable a login, list and revoke invites. Plain
functions over a session; they never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.accounts.people import normalise_code
from models.accounts.tables import Invite, WebUser
from models.units.tables import Unit, UnitAncestor


@dataclass(frozen=True, slots=True)
class WebUserRow:
    username: str
    role: str
    unit_code: str
    unit_name: str
    last_login_at: datetime | None
    disabled: bool


async def list_web_users(session: AsyncSession, scope_id: int | None = None) -> list[WebUserRow]:
    """Every login (under ``scope_id`` when given), by name."""
    stmt = select(WebUser, Unit).join(Unit, col(Unit.id) == col(WebUser.unit_id))
    if scope_id is not None:
        stmt = stmt.join(UnitAncestor, and_(col(UnitAncestor.descendant_id) == col(Unit.id),
                                            col(UnitAncestor.ancestor_id) == scope_id))
    rows = await session.execute(stmt.order_by(col(WebUser.username)))
    return [WebUserRow(u.username, u.role, unit.code, unit.full_name or unit.name, u.last_login_at, u.disabled)
            for u, unit in rows.all()]


async def set_disabled(session: AsyncSession, username: str, disabled: bool) -> bool:
    """Disable (or enable) a login; disabling ends every session of it. False: no such login."""
    values: dict[str, object] = {"disabled": disabled}
    if disabled:
        values["session_epoch"] = col(WebUser.session_epoch) + 1
    result = await session.execute(update(WebUser).where(col(WebUser.username) == username).values(**values))
    return bool(getattr(result, "rowcount", 0))


def invite_state(invite: Invite, now: datetime) -> str:
    """``used``, ``revoked``, ``expired`` or ``open`` (still redeemable)."""
    if invite.used_at is not None:
        return "used"
    if invite.revoked_at is not None:
        return "revoked"
    return "expired" if invite.expires_at < now else "open"


async def list_invites(session: AsyncSession, now: datetime, scope_id: int | None = None, open_only: bool = False,
                       limit: int = 200) -> list[tuple[Invite, Unit]]:
    """The newest invites first (under ``scope_id`` when given); ``open_only``: only redeemable ones."""
    stmt = select(Invite, Unit).join(Unit, col(Unit.id) == col(Invite.unit_id))
    if scope_id is not None:
        stmt = stmt.join(UnitAncestor, and_(col(UnitAncestor.descendant_id) == col(Unit.id),
                                            col(UnitAncestor.ancestor_id) == scope_id))
    if open_only:
        stmt = stmt.where(col(Invite.used_at).is_(None), col(Invite.revoked_at).is_(None),
                          col(Invite.expires_at) >= now)
    rows = await session.execute(stmt.order_by(col(Invite.created_at).desc(), col(Invite.id).desc()).limit(limit))
    return [(i, u) for i, u in rows.all()]


async def revoke_invite(session: AsyncSession, code: str, now: datetime,
                        scope_id: int | None = None) -> tuple[Invite, Unit] | str:
    """Revoke a code that is still open; otherwise why not: ``unknown``, ``used``, ``revoked``, ``expired``."""
    stmt = (select(Invite, Unit).join(Unit, col(Unit.id) == col(Invite.unit_id))
            .where(col(Invite.code) == normalise_code(code)))
    if scope_id is not None:
        stmt = stmt.join(UnitAncestor, and_(col(UnitAncestor.descendant_id) == col(Unit.id),
                                            col(UnitAncestor.ancestor_id) == scope_id))
    found = (await session.execute(stmt.with_for_update(of=Invite))).first()
    if found is None:
        return "unknown"
    invite, unit = found
    state = invite_state(invite, now)
    if state != "open":
        return state
    invite.revoked_at = now
    await session.flush()
    return invite, unit
