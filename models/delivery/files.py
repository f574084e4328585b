"""Files built off the event loop: a request is an outbox row that waits for its file.

``/xuatfile`` (and ``/tonghop``) at a large scope answer "đang chuẩn bị tệp…" at once and, in the same
transaction, write an outbox row of kind :data:`FILE` whose payload says what to build. The row is
pending but due only far ahead (:data:`HOLD`), so the drain leaves it alone; a builder claims it with a
lease (``locked_until``), builds the file in another process and, in one transaction, attaches it and
makes the row due now: the drain sends it like any other outbox message, once, under its unique key. A
builder that dies leaves the lease to expire and the next one builds again; nothing is lost or doubled.

Plain functions over a session; they never commit (the caller's transaction does).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from models.delivery.outbox import PENDING, enqueue
from models.delivery.tables import OutboxMessage
from models.typed_sql import id_col, rowcount

FILE = "file"  # an outbox row that carries (or waits for) a built file or digest
HOLD = timedelta(days=1)  # how far ahead an unbuilt row is due: the drain never sees it before it is built
BUILD_LEASE = timedelta(minutes=5)
MAX_BUILDS = 3  # tries before the requester is told it failed


@dataclass(frozen=True, slots=True)
class FileRequest:
    """What to build: ``what`` is ``xlsx``, ``csv`` or ``digest``, for the villages under ``unit_id`` as of
    ``today``."""

    what: str
    unit_id: int
    today: date

    @property
    def same_file(self) -> tuple[str, int, date]:
        """Requests with the same key are answered by one build."""
        return (self.what, self.unit_id, self.today)

    def dump(self) -> str:
        return json.dumps({"build": self.what, "unit": self.unit_id, "today": self.today.isoformat()})

    @staticmethod
    def load(payload: str) -> FileRequest:
        data: dict[str, Any] = json.loads(payload)
        return FileRequest(str(data["build"]), int(data["unit"]), date.fromisoformat(str(data["today"])))


def is_request(kind: str, payload: str | None) -> bool:
    """An outbox row still waiting for its file (the drain must not send it as it is)."""
    return kind == FILE and payload is not None and payload.startswith('{"build"')


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    key: str
    account_id: int
    request: FileRequest
    attempts: int


async def request_file(session: AsyncSession, *, key: str, account_id: int, request: FileRequest, caption: str,
                       now: datetime) -> bool:
    """Ask for a file to be built and sent to ``account_id`` with ``caption``; False when ``key`` is taken."""
    return await enqueue(session, key=key, kind=FILE, account_id=account_id, text=caption, now=now,
                         not_before=now + HOLD, payload=request.dump())


def _waiting(now: datetime) -> Any:
    o = OutboxMessage
    return and_(col(o.kind) == FILE, col(o.status) == PENDING, col(o.attachment_path).is_(None),
                col(o.payload).startswith('{"build"'), or_(col(o.locked_until).is_(None), col(o.locked_until) < now))


async def any_waiting(session: AsyncSession, now: datetime) -> bool:
    """Whether a request waits for a builder (a plain read: on SQLite the idle poll takes no write lock)."""
    o = OutboxMessage
    return (await session.execute(select(id_col(o.id)).where(_waiting(now)).limit(1))).first() is not None


def _built_elsewhere(now: datetime) -> Any:
    """The same file is being built under a lease (by this worker or another): a request for it waits, and
    the build in flight answers it too (:func:`claim_siblings`)."""
    o, other = OutboxMessage, aliased(OutboxMessage)
    return exists().where(col(other.kind) == FILE, col(other.status) == PENDING, col(other.attachment_path).is_(None),
                          col(other.payload) == col(o.payload), col(other.locked_until) >= now)


async def claim_requests(session: AsyncSession, now: datetime, lease: timedelta = BUILD_LEASE,
                         limit: int = 20) -> list[Claimed]:
    """The requests no builder holds (new, or their builder's lease expired), now held by this one; not
    those whose file some builder is building already (its build answers them)."""
    o = OutboxMessage
    stmt = select(id_col(o.id)).where(_waiting(now), ~_built_elsewhere(now)).order_by(col(o.id)).limit(limit)
    return await _claim(session, stmt, now, lease)


async def claim_siblings(session: AsyncSession, claimed: Claimed, now: datetime,
                         lease: timedelta = BUILD_LEASE) -> list[Claimed]:
    """The other requests for ``claimed``'s file that are waiting (asked while it was being built, on any
    worker), now held by this builder, to be answered with the same build."""
    o = OutboxMessage
    stmt = select(id_col(o.id)).where(_waiting(now), col(o.payload) == claimed.request.dump(),
                                      col(o.id) != claimed.id).order_by(col(o.id))
    return await _claim(session, stmt, now, lease, counted=False)


async def _claim(session: AsyncSession, stmt: Any, now: datetime, lease: timedelta,
                 counted: bool = True) -> list[Claimed]:
    """Hold the rows ``stmt`` selects (a lease; ``counted``: one more build tried for them)."""
    o = OutboxMessage
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    ids = list((await session.execute(stmt)).scalars().all())
    if not ids:
        return []
    await session.execute(update(o).where(col(o.id).in_(ids), _waiting(now))
                          .values(locked_until=now + lease, attempts=col(o.attempts) + int(counted))
                          .execution_options(synchronize_session=False))
    rows = (await session.execute(select(id_col(o.id), col(o.key), col(o.account_id), col(o.payload),
                                         col(o.attempts)).where(col(o.id).in_(ids)))).all()
    return [Claimed(i, key, account_id, FileRequest.load(payload or ""), attempts)
            for i, key, account_id, payload, attempts in rows]


async def deliver_built(session: AsyncSession, claimed: Claimed, now: datetime, *, path: str | None = None,
                        text: str | None = None) -> bool:
    """The file is built: attach it (and set the text, for a digest) and make the row due now."""
    values: dict[str, Any] = {"payload": None, "next_attempt_at": now, "locked_until": None, "attempts": 0,
                              "attachment_path": path}
    if text is not None:
        values["text"] = text
    o = OutboxMessage
    result = await session.execute(update(o).where(col(o.id) == claimed.id, col(o.status) == PENDING,
                                                   col(o.payload).is_not(None))
                                   .values(**values).execution_options(synchronize_session=False))
    return bool(rowcount(result))
