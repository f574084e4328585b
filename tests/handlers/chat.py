"""A driver for engine-level tests: a small province, invites, and a user who types."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from handlers.context import Settings
from handlers.engine import Engine
from handlers.messages import Incoming, IncomingPhoto, Reply
from models.accounts.people import create_invite
from models.db import SessionFactory, transaction
from models.units.tables import Unit
from models.units.tree import add_unit

# 10:00 in Hà Nội on 2024-12-20
NOW = datetime(2024, 12, 20, 3, 0, tzinfo=UTC)
TODAY = date(2024, 12, 20)
_ids = itertools.count(1)


@dataclass
class Province:
    province: Unit
    communes: list[Unit]
    villages: list[Unit]  # villages[0..1] under communes[0], villages[2] under communes[1]
    village_ids: list[int]  # the villages' ids, in the same order


def unit_id(unit: Unit) -> int:
    """The id of a unit already added."""
    assert unit.id is not None
    return unit.id


async def make_province(sessions: SessionFactory) -> Province:
    async with transaction(sessions) as s:
        p = await add_unit(s, period="post2025", code="22", level="province", name="Quảng Ninh", parent=None,
                           full_name="Tỉnh Quảng Ninh")
        c1 = await add_unit(s, period="post2025", code="C1", level="commune", name="Hà Tu", parent=p,
                            type="phường", full_name="Phường Hà Tu")
        c2 = await add_unit(s, period="post2025", code="C2", level="commune", name="Bình Liêu", parent=p,
                            type="xã", full_name="Xã Bình Liêu")
        v = [await add_unit(s, period="post2025", code=f"V{i}", level="village", name=str(i), parent=c,
                            type="thôn", full_name=f"Thôn {i}") for i, c in ((1, c1), (2, c1), (3, c2))]
    return Province(p, [c1, c2], v, [unit_id(u) for u in v])


async def invite(sessions: SessionFactory, unit: Unit, role: str = "village_head") -> str:
    async with transaction(sessions) as s:
        return (await create_invite(s, unit, role, NOW)).code


class Chat:
    """One user on one channel; ``now`` advances a minute per message unless given."""

    def __init__(self, engine: Engine, account: str = "u1", channel: str = "web") -> None:
        self.engine, self.account, self.channel = engine, account, channel
        self.now = NOW
        self.replies: list[Reply] = []

    async def send(self, text: str | None = None, *, choice: str | None = None, phone: str | None = None,
                   at: datetime | None = None, message_id: str | None = None,
                   photo: IncomingPhoto | None = None) -> list[Reply]:
        self.now = at or (self.now + timedelta(minutes=1))
        incoming = Incoming(channel=self.channel, account_id=self.account, text=text, choice=choice, phone=phone,
                            message_id=message_id or f"m{next(_ids)}", photo=photo)
        self.replies = await self.engine.step_for_web(incoming, self.now)
        return self.replies

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)

    @property
    def choices(self) -> list[str]:
        return [c.value for r in self.replies for c in r.choices]


def make_engine(sessions: SessionFactory, **overrides: object) -> Engine:
    return Engine(sessions, Settings(**overrides))  # type: ignore[arg-type]
