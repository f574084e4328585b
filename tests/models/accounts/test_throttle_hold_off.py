"""The login slow-down's hold-off rows (SQLite and PostgreSQL): set, moved, read back as aware UTC."""

from __future__ import annotations

from datetime import timedelta

from models.accounts.throttle import Limit, held_off_until, hold_off, record_failure
from models.clock import utcnow
from models.db import transaction
from tests.conftest import Database


async def test_hold_off_is_set_moved_and_read_back(db: Database) -> None:
    now = utcnow().replace(microsecond=0)
    async with transaction(db.sessions) as s:
        assert await held_off_until(s, "login_wait", "canbo1") is None
        await hold_off(s, "login_wait", "canbo1", now + timedelta(seconds=8))
    async with transaction(db.sessions) as s:
        assert await held_off_until(s, "login_wait", "canbo1") == now + timedelta(seconds=8)
        await hold_off(s, "login_wait", "canbo1", now)  # a success: no wait any more
        assert await held_off_until(s, "login_wait", "CANBO2") is None
        limit = Limit("login_user", 10**6, timedelta(hours=1))
        assert await record_failure(s, limit, "canbo1", now, count=1) == 1  # another scope, another row
    async with transaction(db.sessions) as s:
        assert await held_off_until(s, "login_wait", "canbo1") == now
