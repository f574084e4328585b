"""Periodic digests: one per staff reader and period, through the outbox.

Keys: ``digest:<unit_code>:<account_id>:<period>`` for the text (``period`` is the local date for the
daily digest, the ISO week ``2025-W03`` for the weekly one), the same key plus ``:chart`` / ``:xlsx``
for the attachments. A rerun (a second scheduler, a restart that catches up a missed digest) finds
the keys taken and enqueues nothing; a reader's snapshot is saved only with a newly enqueued digest.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.digest import changes, compute, previous_snapshot, save_snapshot
from models.files import FileRequest, request_file
from models.outbox import enqueue
from models.reminders import Rules
from models.tables import ChannelAccount, OutboxMessage, Person, Unit
from models.typed_sql import id_col
from reports.chart import progress_chart
from reports.digest_text import render_digest
from reports.export import export_xlsx
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


async def enqueue_digests(session: AsyncSession, *, rules: Rules, period: str, now: datetime, today: date,
                          weekly: bool, files_dir: Path, tz: ZoneInfo,
                          unit_id: int | None = None, period_key: str | None = None,
                          offload_villages: int | None = None) -> DigestStats:
    """Enqueue this period's digest for every reader who has not got it yet (text, chart, weekly XLSX).
    From ``offload_villages`` villages up the weekly XLSX is a file request (``models.files``): the file
    builder writes it in its worker process, once for all the unit's readers, and the outbox sends it."""
    pkey = period_key or period_of(today, weekly)
    week = pkey.split("-W")[1] + "/" + pkey[:4] if weekly else None
    stats = DigestStats()
    readers = await digest_readers(session, period, unit_id)
    stats.readers = len(readers)
    taken = set((await session.execute(select(col(OutboxMessage.key)).where(
        col(OutboxMessage.kind) == "digest", col(OutboxMessage.key).like(f"digest:%:{pkey}")))).scalars().all())
    by_unit: dict[int, tuple[Unit, list[int]]] = {}
    for account_id, unit in readers:
        if digest_key(unit.code, account_id, pkey) in taken:
            stats.already += 1
            continue
        assert unit.id is not None  # read back from its table
        by_unit.setdefault(unit.id, (unit, []))[1].append(account_id)
    await asyncio.to_thread(files_dir.mkdir, parents=True, exist_ok=True)
    for scope_id, (unit, accounts) in by_unit.items():
        stats.units += 1
        figures = await compute(session, unit, rules, today)
        files: list[tuple[str, Path, str]] = []
        if figures.villages and len(figures.children) > 1:
            chart = files_dir / f"tien-do-{unit.code}-{pkey}.png"
            png = await asyncio.to_thread(progress_chart, figures.unit_name, figures.children)
            await asyncio.to_thread(chart.write_bytes, png)
            files.append(("chart", chart, t("digest.chart_caption", unit=figures.unit_name)))
        offload = offload_villages is not None and figures.villages >= offload_villages
        export_caption = t("digest.export_caption", unit=figures.unit_name, date=vn_date(today))
        if weekly and figures.villages and not offload:
            xlsx = files_dir / f"tien-do-{unit.code}-{pkey}.xlsx"
            data = await export_xlsx(session, period, today, scope_id, rules.congress_deadline)
            await asyncio.to_thread(xlsx.write_bytes, data)
            files.append(("xlsx", xlsx, export_caption))
        for account_id in accounts:
            prev = await previous_snapshot(session, scope_id, account_id)
            prev_day = prev.created_at.astimezone(tz).date() if prev else None
            text = render_digest(figures, changes(figures, prev), prev_day, week=week)
            key = digest_key(unit.code, account_id, pkey)
            if not await enqueue(session, key=key, kind="digest", account_id=account_id, text=text, now=now):
                stats.already += 1
                continue
            stats.enqueued += 1
            stats.keys.append(key)
            await save_snapshot(session, figures, account_id, pkey, now)
            for suffix, path, caption in files:
                await enqueue(session, key=f"{key}:{suffix}", kind="digest_file", account_id=account_id,
                              text=caption, now=now, attachment_path=str(path))
            if weekly and figures.villages and offload:
                await request_file(session, key=f"{key}:xlsx", account_id=account_id,
                                   request=FileRequest("xlsx", scope_id, today), caption=export_caption, now=now)
    return stats

