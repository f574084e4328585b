"""Back up everything (the database, photos included, and the files the bot keeps) into one file while
the bot runs, and restore it into an empty database.

The file is a ``.tar.gz``: ``manifest.json`` (format, schema revision, tables and their row counts,
files), ``db/NNN_<table>.jsonl`` (a header line of column names, then one JSON array per row, in
primary-key order; bytes, dates and times tagged), ``files/outbox/…`` and ``files/zalo/…``.

Consistency: SQLite is copied first through its online backup API (one step, a read snapshot: writers
go on) and the copy is read; PostgreSQL is read in one REPEATABLE READ, READ ONLY transaction through
the driver (no ``pg_dump`` needed). Either way the rows are one moment's. The format is the same for
both, so a SQLite backup restores into PostgreSQL and back.

Restore refuses a database that holds any row (before changing anything), upgrades an empty one to the
schema, loads every table in one transaction (parents before children), sets PostgreSQL's id sequences
past the highest id, and puts the files back.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from itertools import islice
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Connection, MetaData, Table, func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Config
from bot.dbadmin import upgrade
from models.db import is_postgres, make_engine

log = logging.getLogger("bot.backup")
FORMAT = 1
BATCH = 500
SKIP_TABLES = frozenset({"alembic_version"})


class BackupError(Exception):
    """The backup cannot be made or restored; the message is one line."""


def app_metadata() -> MetaData:
    """Every table of the schema (models/schema.py registers them all)."""
    from models.schema import metadata

    return metadata


def _tables() -> list[Table]:
    return [t for t in app_metadata().sorted_tables if t.name not in SKIP_TABLES]


def head_revision(url: str) -> str:
    from alembic.script import ScriptDirectory

    from bot.dbadmin import alembic_config

    return str(ScriptDirectory.from_config(alembic_config(url)).get_current_head())


def _current_revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


# --- values: JSON with a few tags -------------------------------------------------------------------

def _encode(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$b": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, time):
        return {"$t": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$n": str(value)}
    raise TypeError(f"cannot back up a value of type {type(value).__name__}")


_DECODE = {"$b": lambda v: base64.b64decode(v), "$dt": datetime.fromisoformat, "$d": date.fromisoformat,
           "$t": time.fromisoformat, "$n": Decimal}


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        (key, value), = obj.items()
        if key in _DECODE and isinstance(value, str):
            return _DECODE[key](value)
    return obj


# --- back up ----------------------------------------------------------------------------------------

def _dump(conn: Connection, dest: Path) -> dict[str, Any]:
    """Every table into ``dest`` (one file each); returns the manifest's database part."""
    revision = _current_revision(conn)
    if revision is None:
        raise BackupError("the database has no schema yet (python -m bot db upgrade): nothing to back up")
    known = {t.name for t in _tables()} | SKIP_TABLES
    unknown = sorted(set(inspect(conn).get_table_names()) - known)
    if unknown:
        raise BackupError(f"the database has tables this version does not know: {', '.join(unknown)}")
    counts: dict[str, int] = {}
    for index, table in enumerate(_tables()):
        path = dest / f"{index:03d}_{table.name}.jsonl"
        columns = [c.name for c in table.columns]
        n = 0
        with path.open("w", encoding="utf-8") as out:
            out.write(json.dumps(columns) + "\n")
            result = conn.execution_options(yield_per=BATCH).execute(
                select(table).order_by(*table.primary_key.columns))
            for row in result:
                out.write(json.dumps(list(row), default=_encode, ensure_ascii=False) + "\n")
                n += 1
        counts[table.name] = n
    return {"revision": revision, "tables": counts}


def _sqlite_snapshot(source: str, target: Path) -> None:
    """The online backup API: one step, so the copy is a single moment of the database."""
    if not source or source == ":memory:" or not Path(source).exists():
        raise BackupError(f"no SQLite database at {source or '(no path)'} (python -m bot db upgrade makes one)")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()


async def _dump_database(config: Config, dest: Path, work: Path) -> dict[str, Any]:
    url = config.database.url
    if url.startswith("sqlite"):
        snapshot = work / "snapshot.sqlite3"
        await asyncio.to_thread(_sqlite_snapshot, url.split(":///", 1)[-1], snapshot)
        engine = make_engine(f"sqlite+aiosqlite:///{snapshot}", pool_size=1)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(_dump, dest)
        finally:
            await engine.dispose()
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            async with conn.begin():
                return await conn.run_sync(_dump, dest)
    finally:
        await engine.dispose()


def file_dirs(config: Config) -> dict[str, Path]:
    """The folders of files the bot keeps beside the database, by their name in the backup."""
    return {"outbox": Path(config.scheduler.files_dir), "zalo": Path(config.zalo.files_dir)}


def _files(config: Config) -> Iterator[tuple[str, Path]]:
    for name, folder in file_dirs(config).items():
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.name.endswith(".part"):
                    yield f"files/{name}/{path.relative_to(folder).as_posix()}", path


async def backup(config: Config, out: Path) -> str:
    """Write the backup to ``out`` (beside it first, renamed into place when whole); returns a summary."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".backup-") as tmp:
        work = Path(tmp)
        dest = work / "db"
        dest.mkdir()
        database = await _dump_database(config, dest, work)
        files = list(_files(config))
        manifest = {"format": FORMAT, "created_at": datetime.now().astimezone().isoformat(timespec="seconds"),
                    "source": "postgresql" if config.database.url.startswith("postgresql") else "sqlite",
                    **database, "files": len(files)}
        part = out.with_name(out.name + ".part")
        await asyncio.to_thread(_write_archive, part, manifest, dest, files)
        part.replace(out)
    rows = sum(database["tables"].values())
    return f"{len(database['tables'])} tables, {rows} rows, {len(files)} files, schema {database['revision']}"


def _write_archive(part: Path, manifest: dict[str, Any], dest: Path, files: list[tuple[str, Path]]) -> None:
    part.touch(mode=0o600)  # personal data inside (phones, party status): the owner alone reads it
    part.chmod(0o600)
    with tarfile.open(part, "w:gz") as tar:
        raw = json.dumps(manifest, indent=1).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
        for path in sorted(dest.iterdir()):
            tar.add(path, arcname=f"db/{path.name}")
        for name, path in files:
            try:
                tar.add(path, arcname=name)
            except FileNotFoundError:  # sent and cleaned up while we were copying: not needed any more
                continue


# --- restore ----------------------------------------------------------------------------------------

def _read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    member = tar.next()
    if member is None or member.name != "manifest.json":
        raise BackupError("not a backup of this bot (no manifest.json first)")
    raw = tar.extractfile(member)
    manifest = json.loads(raw.read()) if raw is not None else None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format') if isinstance(manifest, dict) else '?'} "
                          f"is not {FORMAT}")
    return manifest


def read_manifest(archive: Path) -> dict[str, Any]:
    if not archive.is_file():
        raise BackupError(f"{archive}: no such backup file")
    try:
        with tarfile.open(archive, "r:*") as tar:
            return _read_manifest(tar)
    except (tarfile.TarError, OSError, ValueError, EOFError):
        raise BackupError(f"{archive}: not a backup file (not a tar.gz archive)") from None


def _nonempty(conn: Connection) -> tuple[str, int] | None:
    """The first table that holds a row (and how many), among those the database has; None: empty."""
    present = set(inspect(conn).get_table_names())
    for table in _tables():
        if table.name in present:
            n = conn.execute(select(func.count()).select_from(table)).scalar_one()
            if n:
                return table.name, int(n)
    return None


def _refuse_nonempty(found: tuple[str, int] | None) -> None:
    if found is not None:
        raise BackupError(f"the database is not empty ({found[0]} has {found[1]} rows): a backup is restored only "
                          "into an empty database")


def _parents_first(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of a table that refers to itself (a unit's parent), ordered so a parent comes before its rows."""
    refs = [(fk.parent.name, fk.column.name) for fk in table.foreign_keys if fk.column.table is table]
    if not refs:
        return rows
    child, key = refs[0]
    placed: set[Any] = set()
    ordered: list[dict[str, Any]] = []
    waiting = rows
    while waiting:
        ready: list[dict[str, Any]] = []
        later: list[dict[str, Any]] = []
        for r in waiting:
            (ready if r[child] is None or r[child] in placed else later).append(r)
        if not ready:
            raise BackupError(f"{table.name}: rows refer to rows that are not in the backup")
        ordered.extend(ready)
        placed.update(r[key] for r in ready)
        waiting = later
    return ordered


def _load(conn: Connection, archive: Path, config: Config) -> dict[str, int]:
    tables = {t.name: t for t in _tables()}
    counts: dict[str, int] = {}
    with tarfile.open(archive, "r:*") as tar:
        _read_manifest(tar)
        for member in tar:
            name = PurePosixPath(member.name)
            if name.parts[0] == "db" and member.isfile():
                table = tables.get(name.stem.split("_", 1)[1])
                if table is None:
                    raise BackupError(f"the backup has a table this version does not know: {name.stem}")
                stream = tar.extractfile(member)
                assert stream is not None  # a regular file
                counts[table.name] = _load_table(conn, table, io.TextIOWrapper(stream, encoding="utf-8"))
            elif name.parts[0] == "files" and member.isfile():
                _restore_file(tar, member, name, config)
    if is_postgres_conn(conn):
        for table in tables.values():
            if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement in (True, "auto"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                                  f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM \"{table.name}\""))
    return counts


def is_postgres_conn(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _load_table(conn: Connection, table: Table, lines: io.TextIOWrapper) -> int:
    columns = json.loads(lines.readline())
    missing = [c for c in columns if c not in table.c]
    if missing:
        raise BackupError(f"{table.name}: the backup has columns this version does not know: {', '.join(missing)}")
    rows = (dict(zip(columns, json.loads(line, object_hook=_decode), strict=True)) for line in lines if line.strip())
    if any(fk.column.table is table for fk in table.foreign_keys):  # a unit's parent first: all rows at once
        ordered = _parents_first(table, list(rows))
        for start in range(0, len(ordered), BATCH):
            conn.execute(table.insert(), ordered[start:start + BATCH])
        return len(ordered)
    n = 0  # the others a batch at a time (the photos' table holds megabytes a row)
    for batch in iter(lambda: list(islice(rows, BATCH)), []):
        conn.execute(table.insert(), batch)
        n += len(batch)
    return n


def _restore_file(tar: tarfile.TarFile, member: tarfile.TarInfo, name: PurePosixPath, config: Config) -> None:
    if len(name.parts) < 3 or ".." in name.parts:
        raise BackupError(f"a file of the backup has an unsafe name: {member.name}")
    folder = file_dirs(config).get(name.parts[1])
    if folder is None:
        return
    target = folder.joinpath(*name.parts[2:])
    target.parent.mkdir(parents=True, exist_ok=True)
    stream = tar.extractfile(member)
    if stream is not None:
        target.write_bytes(stream.read())


async def restore(config: Config, archive: Path) -> str:
    manifest = await asyncio.to_thread(read_manifest, archive)
    head = head_revision(config.database.url)
    if manifest.get("revision") != head:
        raise BackupError(f"the backup's schema is {manifest.get('revision')}, this version's is {head}: restore it "
                          "with the version that made it, then upgrade (python -m bot db upgrade)")
    engine = make_engine(config.database.url, pool_size=1)
    try:
        async with engine.connect() as conn:  # refused before anything is changed (no upgrade of a database in use)
            _refuse_nonempty(await conn.run_sync(_nonempty))
        await upgrade(engine)
        counts = await _restore_into(engine, archive, config)
    finally:
        await engine.dispose()
    return f"{len(counts)} tables, {sum(counts.values())} rows, {manifest.get('files', 0)} files"


async def _restore_into(engine: AsyncEngine, archive: Path, config: Config) -> dict[str, int]:
    async with engine.begin() as conn:
        if is_postgres(engine):  # nobody else writes while the tables fill
            await conn.execute(text("LOCK TABLE " + ", ".join(f'"{t.name}"' for t in _tables())
                                    + " IN EXCLUSIVE MODE"))
        _refuse_nonempty(await conn.run_sync(_nonempty))  # again, under the lock: nobody wrote in between
        return await conn.run_sync(_load, archive, config)


# --- scheduled ----------------------------------------------------------------------------------------

BACKUP_GLOB = "bot-*.tar.gz"


async def scheduled_backup(config: Config, now: datetime) -> Path:
    """One backup into ``[backup] dir`` named for its time, then only the newest ``keep`` are kept."""
    folder = Path(config.backup.dir)
    out = folder / f"bot-{now.astimezone(config.tz).strftime('%Y%m%d-%H%M%S')}.tar.gz"
    summary = await backup(config, out)
    removed = await asyncio.to_thread(prune_backups, folder, config.backup.keep)
    log.info("scheduled backup: %s (%s); %d older backup(s) removed", out, summary, len(removed))
    return out


def newest_backup(folder: Path) -> tuple[float, int] | None:
    """When the newest scheduled backup of the folder was written (its mtime) and its size; None: none yet."""
    newest = max(folder.glob(BACKUP_GLOB), default=None)  # named by time: the last name is the newest
    if newest is None:
        return None
    try:
        stat = newest.stat()
    except FileNotFoundError:  # pruned meanwhile
        return None
    return stat.st_mtime, stat.st_size


def prune_backups(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups of the folder (by name: they are named by time)."""
    found = sorted(folder.glob(BACKUP_GLOB))
    old = found[:-keep] if keep > 0 else found
    for path in old:
        path.unlink(missing_ok=True)
    return old
