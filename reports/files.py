"""The files of a large scope built off the event loop (``models.delivery.files``), and handed to the outbox.

:func:`build` runs in a worker process (or a thread): its own event loop and database engine, the
export streamed from the database into the file (``reports.export``), a digest computed there (its
chart is drawn by the caller's chart worker). What comes back is small: the file's path, or a digest's
figures. :func:`hand_over` then
writes the outcome onto the request's outbox row in the caller's transaction — for a digest, the text
rendered for that reader against their previous snapshot, the snapshot saved, the chart a second row.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from models.delivery.files import FILE, Claimed, FileRequest, deliver_built
from models.delivery.outbox import enqueue
from models.progress.digest import DigestFigures, changes, compute, previous_snapshot, save_snapshot
from models.reminders.rules import Rules
from models.units.tables import Unit
from reports.digest_text import render_digest
from reports.export import write_csv, write_xlsx
from texts.catalog import t


@dataclass(frozen=True, slots=True)
class BuildConfig:
    """What a worker needs (picklable): where the database is, the period and rules, where files go."""

    url: str
    period: str
    rules: Rules
    files_dir: str


@dataclass(frozen=True, slots=True)
class Built:
    path: str | None  # the file; a digest's chart (None without one)
    villages: int
    figures: DigestFigures | None = None


def build(cfg: BuildConfig, request: FileRequest) -> Built:
    """Build ``request`` (in a worker process or thread: this runs an event loop of its own). A digest
    comes back as its figures and the path its chart goes to: the chart is drawn by the caller's chart
    worker (``bot.files``), so that matplotlib never weighs on the process that writes the big files."""
    return asyncio.run(build_async(cfg, request))


async def build_async(cfg: BuildConfig, request: FileRequest) -> Built:
    from models.db import make_engine, make_session_factory

    engine = make_engine(cfg.url)
    try:
        async with make_session_factory(engine)() as session:
            unit = await session.get(Unit, request.unit_id)
            if unit is None:
                raise LookupError(f"no unit {request.unit_id}")
            # a directory of its own: the name the reader sees stays tien-do-<code>-<date>.<ext>
            folder = Path(cfg.files_dir) / f"{request.today.isoformat()}-{secrets.token_hex(6)}"
            folder.mkdir(parents=True, exist_ok=True)
            stem = f"tien-do-{unit.code}-{request.today.isoformat()}"
            if request.what == "digest":
                return await _digest(session, unit, cfg.rules, request, folder / f"{stem}.png")
            path = folder / f"{stem}.{request.what}"
            part = path.with_suffix(".part")
            if request.what == "xlsx":
                n = await write_xlsx(session, str(part), cfg.period, request.today, unit.id,
                                     cfg.rules.congress_deadline)
            else:
                with part.open("w", encoding="utf-8-sig", newline="") as out:
                    n = await write_csv(session, out, cfg.period, request.today, unit.id,
                                        cfg.rules.congress_deadline)
            os.replace(part, path)
            return Built(str(path), n)
    finally:
        await engine.dispose()


async def _digest(session: AsyncSession, unit: Unit, rules: Rules, request: FileRequest, chart: Path) -> Built:
    """The figures, and where their chart goes (drawn by the caller) when there is one."""
    figures = await compute(session, unit, rules, request.today)
    has_chart = figures.villages and len(figures.children) > 1
    return Built(str(chart) if has_chart else None, figures.villages, figures)


async def hand_over(session: AsyncSession, claimed: Claimed, built: Built, tz: ZoneInfo, now: datetime) -> bool:
    """Put what was built on the request's outbox row (due now); False when the row was already handed
    over (another builder was faster)."""
    figures = built.figures
    if figures is None:
        return await deliver_built(session, claimed, now, path=built.path)
    prev = await previous_snapshot(session, figures.unit_id, claimed.account_id)
    prev_day = prev.created_at.astimezone(tz).date() if prev else None
    if not await deliver_built(session, claimed, now, text=render_digest(figures, changes(figures, prev), prev_day)):
        return False
    await save_snapshot(session, figures, claimed.account_id, f"cmd:{now.isoformat(timespec='seconds')}", now)
    if built.path is not None:
        await enqueue(session, key=f"{claimed.key}:chart", kind=FILE, account_id=claimed.account_id,
                      text=t("digest.chart_caption", unit=figures.unit_name), now=now, attachment_path=built.path)
    return True


async def give_up(session: AsyncSession, claimed: Claimed, now: datetime) -> bool:
    """The build failed every time: tell the reader instead of sending a file."""
    return await deliver_built(session, claimed, now, text=t("files.failed"))
