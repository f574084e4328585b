"""Channel accounts and dashboard logins as the edges (channels, web) need them: plain functions
over a session, so that nothing under ``bot/`` queries tables itself."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.sql import text
from sqlmodel import col

from models.accounts.tables import ChannelAccount, Person, WebUser
from models.db import SessionFactory, transaction
from models.delivery import outbox
from models.units.tables import Unit


async def find_account(session: AsyncSession, channel: str, external_id: str) -> ChannelAccount | None:
    return (await session.execute(select(ChannelAccount).where(
        col(ChannelAccount.channel) == channel, col(ChannelAccount.external_id) == external_id))).scalar_one_or_none()


async def mark_blocked(session: AsyncSession, channel: str, external_id: str) -> None:
    """The user blocked the bot: nothing more is sent until they write again (``people.seen``)."""
    await session.execute(update(ChannelAccount).where(
        col(ChannelAccount.channel) == channel, col(ChannelAccount.external_id) == external_id).values(blocked=True))


async def count_accounts(session: AsyncSession, channel: str) -> int:
    return (await session.execute(select(func.count()).select_from(ChannelAccount)
                                  .where(col(ChannelAccount.channel) == channel))).scalar_one()


async def channel_accounts(session: AsyncSession, channel: str
                           ) -> list[tuple[str, str | None, str | None, str | None]]:
    """(external id, display name, bound unit's name, the person's role) of a channel's accounts, bound
    ones first."""
    rows = await session.execute(
        select(col(ChannelAccount.external_id), col(ChannelAccount.display_name), col(Unit.full_name),
               col(Person.role))
        .outerjoin(Person, col(Person.id) == col(ChannelAccount.person_id))
        .outerjoin(Unit, col(Unit.id) == col(Person.unit_id))
        .where(col(ChannelAccount.channel) == channel)
        .order_by(col(ChannelAccount.person_id).is_(None), col(ChannelAccount.id)))
    return [(ext, name, unit, role) for ext, name, unit, role in rows.all()]


async def web_user_with_unit(session: AsyncSession, user_id: int) -> tuple[WebUser | None, Unit | None]:
    user = await session.get(WebUser, user_id)
    unit = await session.get(Unit, user.unit_id) if user is not None else None
    return user, unit


async def web_user_for_login(session: AsyncSession, username: str) -> WebUser | None:
    """The login row, locked for the rest of the transaction (failure counts are written back)."""
    return (await session.execute(select(WebUser).where(col(WebUser.username) == username)
                                  .with_for_update())).scalar_one_or_none()


async def end_web_sessions(session: AsyncSession, user_id: int) -> None:
    """Every session cookie of this login stops working (logout, a new password): the epoch moves on."""
    await session.execute(update(WebUser).where(col(WebUser.id) == user_id)
                          .values(session_epoch=col(WebUser.session_epoch) + 1))


async def web_user(session: AsyncSession, username: str) -> WebUser | None:
    return (await session.execute(select(WebUser).where(col(WebUser.username) == username))).scalar_one_or_none()


async def ping(engine: AsyncEngine) -> None:
    """Raises when the database does not answer (``/healthz``)."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


class Accounts:
    """What a channel may do to accounts on its own, each in its own transaction."""

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    async def mark_blocked(self, channel: str, external_id: str) -> None:
        async with transaction(self.sessions) as session:
            await mark_blocked(session, channel, external_id)

    async def is_bound(self, channel: str, external_id: str) -> bool:
        """Whether the account is bound to a person (an invite was redeemed on it)."""
        async with self.sessions() as session:
            account = await find_account(session, channel, external_id)
            return account is not None and account.person_id is not None

    async def queue_replies(self, channel: str, external_id: str, key: str, texts: Sequence[str],
                            now: datetime) -> int:
        """Replies that could not be sent now go to the outbox (``{key}:{index}``); returns how many."""
        async with transaction(self.sessions) as session:
            account = await find_account(session, channel, external_id)
            if account is None or account.id is None:
                return 0
            queued = 0
            for index, text_ in enumerate(texts):
                queued += await outbox.enqueue(session, key=f"{key}:{index}", kind="reply", account_id=account.id,
                                               text=text_, now=now)
            return queued
