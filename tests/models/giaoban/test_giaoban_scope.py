"""A village sees and answers only its own directives; conclusions only reach the meeting's commune."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from models.db import transaction
from models.election.reports import Actor
from models.giaoban.meetings import schedule_meeting
from models.giaoban.tasks import acknowledge, add_conclusion, open_items, report_done
from models.refusal import Refused
from tests.conftest import Database
from tests.handlers.chat import make_province

NOW = datetime(2024, 12, 20, 3, tzinfo=UTC)
AFTER = datetime(2024, 12, 24, 3, tzinfo=UTC)  # the meeting has begun
ACTOR = Actor(None, "web")


async def test_directives_are_scoped_to_the_village(db: Database) -> None:
    p = await make_province(db.sessions)
    v1, v2, v3 = (v.id for v in p.villages)
    assert v1 and v2 and v3
    async with transaction(db.sessions) as s:
        m = await schedule_meeting(s, p.communes[0], datetime(2024, 12, 24, 1, tzinfo=UTC), "", NOW)
        with pytest.raises(Refused, match="not_started"):  # before the meeting: no conclusions yet
            await add_conclusion(s, m, "Rà soát hộ nghèo", due=None, village_ids=None, by=None, now=NOW,
                                 today=date(2024, 12, 20))
        c = await add_conclusion(s, m, "Rà soát hộ nghèo", due=date(2024, 12, 30), village_ids=[v2, v3], by=None,
                                 now=AFTER, today=date(2024, 12, 24))  # V3 is of another commune: left out
        with pytest.raises(Refused, match="no_villages"):
            await add_conclusion(s, m, "Việc của xã khác", due=None, village_ids=[v3], by=None, now=AFTER,
                                 today=date(2024, 12, 24))
        with pytest.raises(Refused, match="not_commune"):
            await schedule_meeting(s, p.villages[0], datetime(2024, 12, 24, 1, tzinfo=UTC), "", NOW)
    async with transaction(db.sessions) as s:
        assert await open_items(s, v1) == [] and await open_items(s, v3) == []
        (item,) = await open_items(s, v2)
        assert item.conclusion.id == c.id
        directive = item.directive.id
        assert directive is not None
        with pytest.raises(Refused, match="not_yours"):
            await acknowledge(s, directive, v1, ACTOR, NOW)
        with pytest.raises(Refused, match="not_yours"):
            await report_done(s, directive, v1, "xong", ACTOR, NOW)
        assert await acknowledge(s, directive, v2, ACTOR, NOW) is True
        assert await acknowledge(s, directive, v2, ACTOR, NOW) is False  # once
    async with db.sessions() as s:
        (item,) = await open_items(s, v2)  # acknowledged, the task not done: still open
        assert item.directive.acknowledged_at is not None and item.directive.done_at is None
