"""Backup while the bot writes, then restore into an empty database: the export is the same, every
transaction is there whole or not at all, photos and files come back; a non-empty database is refused.
On SQLite (the online backup API) and PostgreSQL (one REPEATABLE READ transaction through the driver)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.backup import BackupError, backup, read_manifest, restore
from bot.config import Config, DatabaseConfig, SchedulerConfig, ZaloConfig
from models.accounts.tables import ChannelAccount
from models.db import make_engine, make_session_factory, transaction
from models.delivery.outbox import enqueue
from models.delivery.tables import OutboxMessage
from models.election.tables import AuditEvent
from models.photos.image import CleanPhoto
from models.photos.store import save_photo
from models.photos.tables import ReportPhoto
from tests.conftest import PG_DSN, Database, _pg_admin
from tests.scheduler.province import at, build_province, elect, hold, plan

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


def config_for(url: str, files: Path) -> Config:
    return Config(database=DatabaseConfig(url=url), scheduler=SchedulerConfig(files_dir=str(files / "outbox")),
                  zalo=ZaloConfig(files_dir=str(files / "zalo")))


@pytest.fixture
async def empty_url(db: Database, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of the same kind as ``db`` (no schema at all)."""
    if db.kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"restore_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_DSN.rsplit('/', 1)[0]}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def export(url: str, out: Path) -> bytes:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "bot", "export", "--format", "csv", "--out", str(out)], cwd=ROOT,
                          env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return out.read_bytes()


async def _seed(db: Database, files: Path) -> None:
    async with transaction(db.sessions) as s:
        p = await build_province(s)
        await elect(s, p, "V11", at(date(2025, 1, 5), 10))
        await plan(s, p, "V11", at(date(2025, 1, 8), 10), date(2025, 1, 20))
        await hold(s, p, "V11", at(date(2025, 1, 20), 15), date(2025, 1, 20))
        await elect(s, p, "V12", at(date(2025, 1, 6), 10), party="probationary", party_date=date(2024, 2, 1))
        await save_photo(s, p.id("V11"), "election", CleanPhoto(PNG, "image/png", 64, 40), None, "test",
                         at(date(2025, 1, 5), 10))
    (files / "outbox" / "digest").mkdir(parents=True)
    (files / "outbox" / "digest" / "chart.png").write_bytes(PNG)
    (files / "zalo").mkdir()
    (files / "zalo" / "export.xlsx").write_bytes(b"PK\x03\x04 an export")


async def _write_pairs(db: Database, stop: asyncio.Event, started: asyncio.Event, written: list[int]) -> None:
    """The bot at work: each transaction writes an outbox row and an audit event together."""
    n = 0
    account = await _scalar(db, select(func.min(ChannelAccount.id)))
    assert isinstance(account, int)
    while not stop.is_set() or n < 20:
        n += 1
        now = datetime.now(UTC)
        async with transaction(db.sessions) as s:
            await enqueue(s, key=f"pair:{n}", kind="pair", account_id=account, text=f"message {n}", now=now)
            s.add(AuditEvent(at=now, action="pair", field=str(n)))
        written.append(n)
        if n == 5:
            started.set()
        await asyncio.sleep(0)


async def _scalar(db: Database, stmt: object) -> object:
    async with db.sessions() as s:
        return (await s.execute(stmt)).scalar()  # type: ignore[call-overload]


async def test_backup_while_writing_then_restore(db: Database, empty_url: str, tmp_path: Path) -> None:
    files = tmp_path / "files"
    await _seed(db, files)
    before = export(db.url, tmp_path / "before.csv")
    stop, started, written = asyncio.Event(), asyncio.Event(), []
    writer = asyncio.create_task(_write_pairs(db, stop, started, written))
    await started.wait()  # five transactions written
    archive = tmp_path / "backup.tar.gz"
    summary = await backup(config_for(db.url, files), archive)
    during = len(written)
    stop.set()
    await writer
    assert "files" in summary and archive.exists() and not archive.with_name("backup.tar.gz.part").exists()
    assert read_manifest(archive)["source"] == ("postgresql" if db.kind == "postgres" else "sqlite")

    restored_files = tmp_path / "restored-files"
    await restore(config_for(empty_url, restored_files), archive)
    assert export(empty_url, tmp_path / "after.csv") == before
    engine = make_engine(empty_url)
    try:
        sessions = make_session_factory(engine)
        async with sessions() as s:
            pairs_out = (await s.execute(select(func.count()).where(OutboxMessage.kind == "pair"))).scalar_one()
            pairs_audit = (await s.execute(select(func.count()).where(AuditEvent.action == "pair"))).scalar_one()
            photo = (await s.execute(select(ReportPhoto))).scalar_one()
        assert pairs_out == pairs_audit  # each transaction whole, or not at all
        assert 5 <= pairs_out <= during + 1  # what had been written when the backup began, at least
        assert photo.content == PNG
        async with transaction(sessions) as s:  # the ids go on after the restored ones
            account = (await s.execute(select(func.min(ChannelAccount.id)))).scalar_one()
            assert await enqueue(s, key="after-restore", kind="pair", account_id=account, text="x",
                                 now=datetime.now(UTC))
    finally:
        await engine.dispose()
    assert (restored_files / "outbox" / "digest" / "chart.png").read_bytes() == PNG
    assert (restored_files / "zalo" / "export.xlsx").read_bytes() == b"PK\x03\x04 an export"

    with pytest.raises(BackupError, match="not empty"):
        await restore(config_for(empty_url, restored_files), archive)
    with pytest.raises(BackupError, match="not empty"):  # the source, written to since, likewise
        await restore(config_for(db.url, files), archive)


async def test_a_file_that_is_no_backup_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not a tar file")
    with pytest.raises(BackupError, match="not a backup file"):
        await restore(config_for(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}", tmp_path), bogus)
    with pytest.raises(BackupError, match="no such backup file"):
        await restore(config_for(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}", tmp_path), tmp_path / "none")
