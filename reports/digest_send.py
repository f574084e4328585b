"""Periodic digests: one per staff reader and period, through the outbox.

Keys: ``digest:<unit_code>:<account_id>:<period>`` for the text (``period`` is the local date for the
daily digest, the ISO week ``2025-W03`` for the weekly one), the same key plus ``:chart`` / ``:xlsx``
for the attachments. A rerun (a second scheduler, a restart that catches up a missed digest) finds
the keys taken and enqueues nothing; a reader's snapshot is saved only with a newly enqueued digest.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.accounts.tables import ChannelAccount, Person
from models.db import SessionFactory, transaction
from models.delivery.files import FileRequest, request_file
from models.delivery.outbox import enqueue
from models.delivery.tables import OutboxMessage
from models.progress.digest import DigestFigures, changes, compute, previous_snapshot, save_snapshot
from models.progress.tallies import UnitProgress
from models.reminders.rules import Rules
from models.typed_sql import id_col
from models.units.tables import Unit
from models.units.tree import village_count
from reports.chart import progress_chart
from reports.digest_text import render_digest
from reports.export import export_xlsx
from reports.files import Built
from texts.catalog import t
from texts.fmt import fmt_date as vn_date

STAFF_ROLES = ("staff", "admin")


def period_of(today: date, weekly: bool) -> str:
    if not weekly:
        return today.isoformat()
    year, week, _ = today.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(slots=True)
class DigestStats:
    readers: int = 0
    enqueued: int = 0
    already: int = 0
    units: int = 0
    keys: list[str] = field(default_factory=list)


async def digest_readers(session: AsyncSession, period: str, unit_id: int | None = None,
                         include_opted_out: bool = False) -> list[tuple[int, Unit]]:
    """(account id, scope unit) of every staff account that receives digests."""
    stmt = (select(id_col(ChannelAccount.id), Unit).join(Person, col(Person.id) == col(ChannelAccount.person_id))
            .join(Unit, col(Unit.id) == col(Person.unit_id))
            .where(col(Person.role).in_(STAFF_ROLES), col(Unit.period) == period,
                   col(ChannelAccount.blocked).is_(False))
            .order_by(col(Unit.code), col(ChannelAccount.id)))
    if not include_opted_out:
        stmt = stmt.where(col(ChannelAccount.digest_opt_out).is_(False))
    if unit_id is not None:
        stmt = stmt.where(col(Unit.id) == unit_id)
    return [(aid, unit) for aid, unit in (await session.execute(stmt)).all()]


def digest_key(unit_code: str, account_id: int, period: str) -> str:
    return f"digest:{unit_code}:{account_id}:{period}"


async def enqueue_digests(sessions: SessionFactory, *, rules: Rules, period: str, now: datetime, today: date,
                          weekly: bool, files_dir: Path, tz: ZoneInfo,
                          unit_id: int | None = None, period_key: str | None = None,
                          offload_villages: int | None = None, build: Build | None = None,
                          draw: Draw | None = None) -> DigestStats:
    """Enqueue this period's digest for every reader who has not got it yet (text, chart, weekly XLSX).

    One unit at a time, each in a transaction of its own that only writes the rows: the figures are
    computed and the chart drawn before it, so that a run over thousands of units never holds the
    database (on SQLite, its one write lock) while it works, and a crash part-way keeps what was
    enqueued (the rerun finds those keys taken). From ``offload_villages`` villages up, with ``build``
    (the file builder), the figures and the chart are made in its worker process, off the event loop,
    and the weekly XLSX is a file request (``models.delivery.files``) that the builder writes once for all the
    unit's readers; ``draw`` (the builder's too) draws the other units' charts in that process, so that
    hundreds of charts (0.2 s of CPU each) do not slow the replies of the event loop's process."""
    pkey = period_key or period_of(today, weekly)
    stats = DigestStats()
    async with sessions() as session:  # a plain read
        readers = await digest_readers(session, period, unit_id)
        taken = set((await session.execute(select(col(OutboxMessage.key)).where(
            col(OutboxMessage.kind) == "digest", col(OutboxMessage.key).like(f"digest:%:{pkey}")))).scalars().all())
    stats.readers = len(readers)
    by_unit: dict[int, tuple[Unit, list[int]]] = {}
    for account_id, unit in readers:
        if digest_key(unit.code, account_id, pkey) in taken:
            stats.already += 1
            continue
        assert unit.id is not None  # read back from its table
        by_unit.setdefault(unit.id, (unit, []))[1].append(account_id)
    await asyncio.to_thread(files_dir.mkdir, parents=True, exist_ok=True)
    for unit, accounts in by_unit.values():
        stats.units += 1
        prepared = await _prepare(sessions, unit, rules=rules, period=period, today=today, weekly=weekly,
                                  pkey=pkey, files_dir=files_dir, offload_villages=offload_villages, build=build,
                                  draw=draw or _draw_in_thread)
        async with transaction(sessions) as session:
            await _enqueue_unit(session, prepared, accounts, stats, now=now, today=today, tz=tz,
                                week=pkey.split("-W")[1] + "/" + pkey[:4] if weekly else None, pkey=pkey)
    return stats


Build = Callable[[FileRequest], Awaitable[Built]]
Draw = Callable[[str, list[UnitProgress]], Awaitable[bytes]]  # a chart: (unit name, lines) → PNG


async def _draw_in_thread(unit_name: str, lines: list[UnitProgress]) -> bytes:
    return await asyncio.to_thread(progress_chart, unit_name, lines)


@dataclass(slots=True)
class Prepared:
    """One unit's digest, ready to enqueue: its figures and files (kind, path, caption), and whether its
    weekly XLSX is left to the file builder."""

    unit: Unit
    figures: DigestFigures
    files: list[tuple[str, Path, str]]
    xlsx_request: bool


async def _prepare(sessions: SessionFactory, unit: Unit, *, rules: Rules, period: str, today: date, weekly: bool,
                   pkey: str, files_dir: Path, offload_villages: int | None, build: Build | None,
                   draw: Draw) -> Prepared:
    """The figures and the files of ``unit``'s digest: reads only, and no session held while the builder
    computes or a chart is drawn."""
    assert unit.id is not None
    chart = files_dir / f"tien-do-{unit.code}-{pkey}.png"
    files: list[tuple[str, Path, str]] = []
    drawn: str | None = None
    async with sessions() as session:
        large = offload_villages is not None and await village_count(session, unit.id) >= offload_villages
        computed = None if large and build is not None else await compute(session, unit, rules, today)
    if computed is None:  # computed in the builder's worker process, its chart drawn by the chart worker
        assert build is not None
        built = await build(FileRequest("digest", unit.id, today))
        assert built.figures is not None
        figures, drawn = built.figures, built.path
        if drawn is not None:
            await asyncio.to_thread(shutil.copyfile, drawn, chart)
    else:
        figures = computed
        if figures.villages and len(figures.children) > 1:
            png = await draw(figures.unit_name, figures.children)
            await asyncio.to_thread(chart.write_bytes, png)
            drawn = str(chart)
    if drawn is not None:
        files.append(("chart", chart, t("digest.chart_caption", unit=figures.unit_name)))
    if weekly and figures.villages and not large:
        xlsx = files_dir / f"tien-do-{unit.code}-{pkey}.xlsx"
        async with sessions() as session:
            data = await export_xlsx(session, period, today, unit.id, rules.congress_deadline)
        await asyncio.to_thread(xlsx.write_bytes, data)
        files.append(("xlsx", xlsx, _export_caption(figures, today)))
    return Prepared(unit, figures, files, xlsx_request=weekly and bool(figures.villages) and large)


def _export_caption(figures: DigestFigures, today: date) -> str:
    return t("digest.export_caption", unit=figures.unit_name, date=vn_date(today))


async def _enqueue_unit(session: AsyncSession, prepared: Prepared, accounts: list[int], stats: DigestStats, *,
                        now: datetime, today: date, tz: ZoneInfo, week: str | None, pkey: str) -> None:
    """The unit's rows for each of its readers (the text against the reader's previous snapshot, the
    snapshot, the files), in the caller's transaction; a key already taken is skipped."""
    unit, figures = prepared.unit, prepared.figures
    assert unit.id is not None
    for account_id in accounts:
        prev = await previous_snapshot(session, unit.id, account_id)
        prev_day = prev.created_at.astimezone(tz).date() if prev else None
        text = render_digest(figures, changes(figures, prev), prev_day, week=week)
        key = digest_key(unit.code, account_id, pkey)
        if not await enqueue(session, key=key, kind="digest", account_id=account_id, text=text, now=now):
            stats.already += 1
            continue
        stats.enqueued += 1
        stats.keys.append(key)
        await save_snapshot(session, figures, account_id, pkey, now)
        for suffix, path, caption in prepared.files:
            await enqueue(session, key=f"{key}:{suffix}", kind="digest_file", account_id=account_id,
                          text=caption, now=now, attachment_path=str(path))
        if prepared.xlsx_request:
            await request_file(session, key=f"{key}:xlsx", account_id=account_id,
                               request=FileRequest("xlsx", unit.id, today), caption=_export_caption(figures, today),
                               now=now)
