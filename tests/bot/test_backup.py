"""Backup while the bot writes, then restore into an empty database: the export is the same, every table
row for row when backed up again, every transaction whole or not at all, photos and files come back; a
non-empty database is refused before anything changes. On SQLite (the online backup API) and PostgreSQL
(one REPEATABLE READ transaction through the driver), and from one to the other. The scheduled backup."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bot import app as app_module
from bot.backup import BackupError, backup, read_manifest, restore
from bot.config import Config, DatabaseConfig, SchedulerConfig, ZaloConfig, load_config
from bot.dbadmin import upgrade
from bot.metrics import REGISTRY
from models.accounts.tables import ChannelAccount
from models.db import make_engine, make_session_factory, transaction
from models.delivery.outbox import enqueue
from models.delivery.tables import OutboxMessage
from models.election.tables import AuditEvent
from models.photos.image import CleanPhoto
from models.photos.store import save_photo
from models.photos.tables import ReportPhoto
from tests.conftest import PG_DSN, Database, _pg_admin, require_service
from tests.scheduler.province import at, build_province, elect, hold, plan

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


def config_for(url: str, files: Path) -> Config:
    return Config(database=DatabaseConfig(url=url), scheduler=SchedulerConfig(files_dir=str(files / "outbox")),
                  zalo=ZaloConfig(files_dir=str(files / "zalo")))


@asynccontextmanager
async def empty_database(kind: str, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database (no schema at all) of that kind."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / f'restored-{uuid.uuid4().hex[:6]}.sqlite3'}"
        return
    name = f"restore_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        await _pg_admin(f'CREATE DATABASE "{name}"')
    except (OSError, TimeoutError):
        require_service(False, f"PostgreSQL does not answer at {PG_DSN}")
    try:
        yield f"{PG_DSN.rsplit('/', 1)[0]}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def empty_url(db: Database, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of the same kind as ``db``."""
    async with empty_database(db.kind, tmp_path) as url:
        yield url


@pytest.fixture
async def other_url(db: Database, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of the other kind: PostgreSQL for a SQLite ``db``, SQLite for PostgreSQL."""
    async with empty_database("postgres" if db.kind == "sqlite" else "sqlite", tmp_path) as url:
        yield url


def table_files(archive: Path) -> dict[str, bytes]:
    """The backup's tables as written (one file each: the columns, then the rows in key order)."""
    with tarfile.open(archive) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.name.startswith("db/")}  # type: ignore[union-attr]


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
    assert archive.stat().st_mode & 0o777 == 0o600  # personal data: the owner alone reads it
    assert read_manifest(archive)["source"] == ("postgresql" if db.kind == "postgres" else "sqlite")

    restored_files = tmp_path / "restored-files"
    await restore(config_for(empty_url, restored_files), archive)
    assert export(empty_url, tmp_path / "after.csv") == before
    again = tmp_path / "again.tar.gz"  # the restored database backed up: every table, row for row
    await backup(config_for(empty_url, restored_files), again)
    tables = table_files(archive)
    assert table_files(again) == tables and len(tables) > 20
    assert any(b'"pair"' in rows for rows in tables.values())  # the writes that went on are in it
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


async def test_a_backup_moves_between_sqlite_and_postgresql(db: Database, other_url: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A SQLite backup restored into PostgreSQL, a PostgreSQL one into SQLite: the same export, the same
    tables row for row when backed up again there, the same files. (Rows go in batches of 7 here.)"""
    monkeypatch.setattr("bot.backup.BATCH", 7)
    files = tmp_path / "files"
    await _seed(db, files)
    archive = tmp_path / "backup.tar.gz"
    await backup(config_for(db.url, files), archive)
    moved = tmp_path / "moved-files"
    await restore(config_for(other_url, moved), archive)
    assert export(other_url, tmp_path / "after.csv") == export(db.url, tmp_path / "before.csv")
    again = tmp_path / "again.tar.gz"
    await backup(config_for(other_url, moved), again)
    assert table_files(again) == table_files(archive)
    assert read_manifest(again)["source"] != read_manifest(archive)["source"]
    assert (moved / "outbox" / "digest" / "chart.png").read_bytes() == PNG


async def test_a_database_in_use_is_refused_before_anything_changes(tmp_path: Path) -> None:
    """A database with rows at an older schema: the restore refuses it and does not upgrade it either."""
    source = f"sqlite+aiosqlite:///{tmp_path / 'source.sqlite3'}"
    engine = make_engine(source)
    await upgrade(engine)
    await engine.dispose()
    archive = tmp_path / "backup.tar.gz"
    await backup(config_for(source, tmp_path / "files"), archive)

    in_use = f"sqlite+aiosqlite:///{tmp_path / 'in-use.sqlite3'}"
    engine = make_engine(in_use)
    try:
        await upgrade(engine, "0012_giaoban_deputy")
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO unit (period, code, level, name, type, full_name, depth) "
                                    "VALUES ('post2025', '22', 'province', 'Quảng Ninh', 'tỉnh', '', 0)"))
        with pytest.raises(BackupError, match=r"not empty \(unit has 1 rows\)"):
            await restore(config_for(in_use, tmp_path / "files"), archive)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one().startswith("0012")
    finally:
        await engine.dispose()


async def test_the_scheduler_takes_the_backups_its_setting_asks_for(sqlite_db: Database, tmp_path: Path) -> None:
    """``[backup] cron`` (or BACKUP_CRON) adds a scheduler job at that time in bot.timezone; each run writes
    a backup into ``dir``, keeps the newest ``keep`` and counts as a run of the job ``backup``."""
    env = {"DATABASE_URL": sqlite_db.url, "BACKUP_CRON": "30 2 * * *", "BACKUP_DIR": str(tmp_path / "bk"),
           "BACKUP_KEEP": "2", "WEB_SECRET_KEY": "k"}
    config = load_config(None, env=env)
    config.scheduler.files_dir = str(tmp_path / "outbox")
    app = await app_module.build(config)
    try:
        scheduler = app.scheduler
        assert scheduler is not None
        _, trigger, _ = scheduler.jobs()["backup"]
        local_night = datetime(2026, 12, 8, 3, 0, tzinfo=config.tz)  # after tonight's 02:30
        assert trigger.get_next_fire_time(None, local_night) == datetime(2026, 12, 9, 2, 30, tzinfo=config.tz)
        runs = REGISTRY.get_sample_value("bot_scheduler_job_runs_total", {"job": "backup", "result": "ok"}) or 0
        made = []
        for day in (1, 2, 3):
            made.append(await scheduler.run_timed("backup", scheduler.backup_job,
                                                  datetime(2026, 12, day, 19, 30, tzinfo=UTC)))
        assert sorted(p.name for p in (tmp_path / "bk").iterdir()) == [made[1].name, made[2].name]
        assert read_manifest(made[2])["tables"]["unit"] == 0
        assert REGISTRY.get_sample_value("bot_scheduler_job_runs_total", {"job": "backup", "result": "ok"}) == runs + 3
    finally:
        await app_module.stop(app)
    without = await app_module.build(load_config(None, env={"DATABASE_URL": sqlite_db.url, "WEB_SECRET_KEY": "k"}))
    try:
        assert without.scheduler is not None and "backup" not in without.scheduler.jobs()
    finally:
        await app_module.stop(without)
