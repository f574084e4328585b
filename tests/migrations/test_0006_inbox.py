"""Migration 0006 on a database holding today's rows: the outbox keeps its rows (no payload: sent as
their text), the inbox starts empty and takes updates, and a downgrade gives the old schema back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from bot.dbadmin import downgrade, upgrade
from models.db import make_engine, make_session_factory, transaction
from models.delivery import inbox, outbox

NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


async def test_upgrade_keeps_outbox_rows_and_adds_the_inbox(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        await upgrade(engine, "0002")
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO channel_account (id, channel, external_id, blocked, digest_opt_out, created_at) "
                "VALUES (1, 'zalo', 'u1', 0, 0, '2026-12-01 00:00:00')"))
            await conn.execute(text(
                "INSERT INTO outbox_message (key, kind, account_id, text, status, attempts, next_attempt_at, "
                "created_at) VALUES ('digest:x', 'digest', 1, 'Báo cáo', 'pending', 0, '2026-12-01 00:00:00', "
                "'2026-12-01 00:00:00')"))
        await upgrade(engine)
        sessions = make_session_factory(engine)
        async with transaction(sessions) as s:
            rows = await outbox.claim_due(s, NOW, channels=["zalo"])
            assert [(r.key, r.text, r.payload) for r in rows] == [("digest:x", "Báo cáo", None)]
            assert await inbox.record(s, "zalo", "m1", "u1", {"a": 1}, NOW) is not None
            assert await inbox.record(s, "zalo", "m1", "u1", {"a": 1}, NOW + timedelta(seconds=1)) is None
            assert [p.key for p in await inbox.pending(s, "zalo")] == ["m1"]

        await downgrade(engine, "0002")
        async with engine.connect() as conn:
            tables = (await conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))).scalars().all()
            keys = (await conn.execute(text("SELECT key FROM outbox_message"))).scalars().all()
        assert "inbox_message" not in tables and keys == ["digest:x"]
    finally:
        await engine.dispose()
