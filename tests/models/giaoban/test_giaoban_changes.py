"""Moving or cancelling a giao ban, and stopping a schedule: the villages are told through the outbox,
once; invitations not sent yet are withdrawn; a meeting that started or was cancelled is refused; the
delivery of the invitations reads back per village."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from models.accounts.tables import ChannelAccount, Person
from models.db import transaction
from models.delivery.outbox import SENT, SKIPPED
from models.delivery.tables import OutboxMessage
from models.giaoban.changes import cancel_meeting, move_meeting, stop_schedule
from models.giaoban.delivery import invitation_delivery
from models.giaoban.meetings import add_schedule, get_meeting, schedule_meeting
from models.giaoban.rules import GiaobanRules
from models.giaoban.sweep import sweep
from models.refusal import Refused
from reports.giaoban_text import renderer
from tests.conftest import Database
from tests.handlers.chat import make_province

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2024, 12, 20, 3, tzinfo=UTC)
RENDER = renderer(TZ)


async def _pack_text(*_: object) -> str:
    return "pack"


async def _rows(db: Database, prefix: str) -> list[OutboxMessage]:
    async with db.sessions() as s:
        stmt = select(OutboxMessage).where(OutboxMessage.key.startswith(prefix)).order_by(OutboxMessage.key)  # type: ignore[attr-defined]
        return list((await s.execute(stmt)).scalars().all())


async def test_cancel_and_move_tell_the_villages_once(db: Database) -> None:
    p = await make_province(db.sessions)
    async with transaction(db.sessions) as s:
        for i, village in enumerate(p.villages):
            person = Person(full_name="", role="village_head", unit_id=village.id, created_at=NOW)
            s.add(person)
            await s.flush()
            s.add(ChannelAccount(channel="zalo", external_id=f"z{i}", person_id=person.id, created_at=NOW))
        m = await schedule_meeting(s, p.communes[0], NOW + timedelta(days=3), "Hội trường", NOW)
        await sweep(s, GiaobanRules(), now=NOW, tz=TZ, render=RENDER, pack_text=_pack_text)
    assert m.id is not None
    invites = await _rows(db, f"giaoban:invite:{m.id}:")
    assert len(invites) == 2  # the commune's two villages, one head account each
    async with transaction(db.sessions) as s:  # one was sent
        row = await s.get(OutboxMessage, invites[0].id)
        assert row is not None
        row.status, row.sent_at = SENT, NOW + timedelta(minutes=1)
    async with db.sessions() as s:
        delivery = await invitation_delivery(s, m.id)
    assert sorted((d.queued, d.sent) for d in delivery.values()) == [(0, 1), (1, 0)]
    assert all("zalo" in d.channels for d in delivery.values() if d.sent)

    later = NOW + timedelta(hours=1)
    async with transaction(db.sessions) as s:
        _, told = await move_meeting(s, m.id, NOW + timedelta(days=4), "Nhà văn hóa", by="canbo1", channel="web",
                                     now=later, render=RENDER)
    assert told == 2
    moved = await _rows(db, f"giaoban:moved:{m.id}:")
    assert len(moved) == 2 and all("chuyển sang lúc" in r.text and "Nhà văn hóa" in r.text for r in moved)
    statuses = sorted(r.status for r in await _rows(db, f"giaoban:invite:{m.id}:"))
    assert statuses == sorted([SENT, SKIPPED])  # the stale invitation not sent is withdrawn

    async with transaction(db.sessions) as s:
        view, told = await cancel_meeting(s, m.id, by="canbo1", channel="cli", now=later, render=RENDER)
        assert view.meeting.cancelled and told == 2
    cancelled = await _rows(db, f"giaoban:cancel:{m.id}:")
    assert len(cancelled) == 2 and all("đã được hủy" in r.text for r in cancelled)
    async with transaction(db.sessions) as s:
        with pytest.raises(Refused, match="already_cancelled"):
            await cancel_meeting(s, m.id, by=None, channel="cli", now=later, render=RENDER)
        with pytest.raises(Refused, match="no_meeting"):
            await cancel_meeting(s, 999, by=None, channel="cli", now=later, render=RENDER)
    assert len(await _rows(db, f"giaoban:cancel:{m.id}:")) == 2  # nobody told twice


async def test_a_started_meeting_cannot_change_and_stopping_a_schedule_cancels_its_meetings(db: Database) -> None:
    p = await make_province(db.sessions)
    async with transaction(db.sessions) as s:
        schedule = await add_schedule(s, p.communes[0], "weekly", "08:00", "", NOW, weekday=0)
        past = await schedule_meeting(s, p.communes[0], NOW - timedelta(hours=1), "", NOW, schedule_id=schedule.id)
        future = await schedule_meeting(s, p.communes[0], NOW + timedelta(days=2), "", NOW, schedule_id=schedule.id)
        assert past.id is not None and future.id is not None and schedule.id is not None
        with pytest.raises(Refused, match="meeting_started"):
            await cancel_meeting(s, past.id, by=None, channel="web", now=NOW, render=RENDER)
        with pytest.raises(Refused, match="in_past"):
            await move_meeting(s, future.id, NOW - timedelta(days=1), "", by=None, channel="web", now=NOW,
                               render=RENDER)
        assert await stop_schedule(s, schedule.id, by="canbo1", channel="web", now=NOW, render=RENDER) == 1
        with pytest.raises(Refused, match="no_schedule"):
            await stop_schedule(s, schedule.id, by=None, channel="web", now=NOW, render=RENDER)
    async with db.sessions() as s:
        kept, gone = await get_meeting(s, past.id), await get_meeting(s, future.id)
    assert kept is not None and not kept.meeting.cancelled  # what was held stays on record
    assert gone is not None and gone.meeting.cancelled
