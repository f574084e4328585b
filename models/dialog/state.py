"""Conversation-state rows, read and written with prepared Core statements (every message does).

A state is keyed ``person:<id>`` for a bound account (so one person can continue on another
channel) and ``account:<id>`` before binding. It is read in the same query as the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, case, cast, delete, literal, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.accounts.people import account_query
from models.accounts.tables import ChannelAccount, Person
from models.dialog.tables import ConversationState
from models.driver import driver
from models.photos.store import discard_photos, held_photos
from models.typed_sql import rowcount, table_of

_T = table_of(ConversationState)
_COLUMNS = (_T.c.id, _T.c.flow, _T.c.step, _T.c.data, _T.c.wrong_count, _T.c.expires_at)
# the key, in Python and in SQL (the two must agree)
def state_key(person_id: int | None, account_id: int | None) -> str:
    return f"person:{person_id}" if person_id is not None else f"account:{account_id}"


_KEY = case((col(Person.id).is_not(None), literal("person:") + cast(Person.id, String)),
            else_=literal("account:") + cast(ChannelAccount.id, String))
# the account, its person, unit and conversation state: one query, built once
ENTRY_QUERY = account_query(*_COLUMNS).outerjoin(_T, _T.c.key == _KEY)
# PostgreSQL: the same, the state row read under its row lock (two workers take one person's messages in
# turn) in the same round trip: a LATERAL sub-select FOR UPDATE (not a second query that reads it again)
_LOCKED_STATE = select(*_COLUMNS).where(_T.c.key == _KEY).with_for_update().lateral("state")
ENTRY_QUERY_LOCKED = account_query(*_LOCKED_STATE.c).outerjoin(_LOCKED_STATE, true())
# through the driver (models.driver): nearly every step writes its state
_INSERT = ("INSERT INTO conversation_state (flow, step, data, wrong_count, updated_at, expires_at, key) "
           "VALUES (?, ?, ?, ?, ?, ?, ?)")
_UPDATE = ("UPDATE conversation_state SET flow = ?, step = ?, data = ?, wrong_count = ?, updated_at = ?, "
           "expires_at = ? WHERE id = ?")
_DELETE = "DELETE FROM conversation_state WHERE id = ?"


@dataclass(slots=True)
class StoredState:
    id: int
    flow: str
    step: str
    data: dict[str, Any]
    wrong_count: int
    expires_at: datetime


def state_from(values: tuple[Any, ...]) -> StoredState | None:
    """The state part of an ENTRY_QUERY row (its last six values), or None."""
    return None if values[0] is None else StoredState(*values)


async def save_state(session: AsyncSession, state: StoredState | None, *, key: str, flow: str, step: str,
                     data: dict[str, Any], wrong: int, now: datetime, expires_at: datetime) -> None:
    db = await driver(session)
    if state is None:
        await db.execute(_INSERT, flow, step, data, wrong, now, expires_at, key)
    else:
        await db.execute(_UPDATE, flow, step, data, wrong, now, expires_at, state.id)


async def drop_state(session: AsyncSession, state: StoredState, *, abandoned: bool = False) -> None:
    """End a conversation; ``abandoned`` (``/huy``, expired, replaced): the photos it held go with it."""
    if abandoned:
        await discard_photos(session, held_photos(state.data))
    await (await driver(session)).execute(_DELETE, state.id)


async def expire_states(session: AsyncSession, now: datetime) -> int:
    """Drop conversations idle past their expiry (nothing half-done is ever saved, photos included)."""
    expired = col(ConversationState.expires_at) <= now
    datas = (await session.execute(select(_T.c.data).where(expired))).scalars().all()
    await discard_photos(session, [i for data in datas if isinstance(data, dict) for i in held_photos(data)])
    result = await session.execute(delete(ConversationState).where(expired))
    return rowcount(result) or 0
