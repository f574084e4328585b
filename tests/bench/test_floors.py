"""The benchmarks' bare queries (their baselines) run against today's schema, on both databases: a
migration that drops or renames a column they read breaks this test instead of a bench run later.
Each floor is checked against what the project's own code counts on the same rows."""

from __future__ import annotations

from sqlalchemy import select

from bench.bench_digest import FLOOR_SQL as DIGEST_FLOOR
from bench.bench_giaoban import FLOOR_SQL as PACK_FLOOR
from models.db import transaction
from models.giaoban.meetings import schedule_meeting
from models.giaoban.pack import pack_lines
from models.units.tables import Unit
from tests.conftest import Database
from tests.handlers.chat import make_province
from tests.scheduler.test_giaoban import at


async def test_the_bench_floors_read_todays_schema(db: Database) -> None:
    p = await make_province(db.sessions)
    commune = p.communes[0]
    assert commune.id is not None
    async with transaction(db.sessions) as s:
        meeting = await schedule_meeting(s, commune, at(24, 8), "", at(20, 8))
        assert meeting.id is not None
        period = (await s.execute(select(Unit.period).where(Unit.id == commune.id))).scalar_one()
        pack_rows = (await s.execute(PACK_FLOOR, {"m": meeting.id, "c": commune.id})).all()
        lines = await pack_lines(s, meeting.id, commune.id)
        digest_rows = (await s.execute(DIGEST_FLOOR, {"period": period})).all()
    assert pack_rows and [r[1] for r in pack_rows] == [line.village.code for line in lines]
    assert sum(r[1] for r in digest_rows) == len(p.villages)  # every village counted once
