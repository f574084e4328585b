"""A digest run over many units: each unit's rows are written in a transaction of their own,
after its figures and chart are made, so the run never holds the database while it works — a village
head's message goes through while the run is drawing a chart, and what was enqueued before a crash
stays; the figures of large units are computed by the file builder, off the event loop, and every
unit's chart is drawn by its chart worker."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import reports.digest_send as digest_send
from bot.app import build_config, make_scheduler
from bot.config import Config
from bot.files import FileBuilder
from handlers.context import Settings
from handlers.engine import Engine
from handlers.messages import Incoming
from models.db import transaction
from models.delivery.tables import OutboxMessage
from tests.conftest import Database
from tests.scheduler.fake_channel import FakeChannel
from tests.scheduler.province import TZ, Province, at, build_province, elect
from tests.waiting import until

TUESDAY = date(2025, 1, 14)


def _config(db: Database, tmp_path: Path, offload_villages: int = 3000) -> Config:
    return Config.model_validate({
        "database": {"url": db.url}, "bot": {"offload_villages": offload_villages},
        "reminders": {"election_date": "2025-01-05"},
        "scheduler": {"files_dir": str(tmp_path / "outbox"), "rate_per_second": 1000, "per_chat_seconds": 0},
    })


async def _setup(db: Database) -> Province:
    async with transaction(db.sessions) as s:
        p = await build_province(s)
        await elect(s, p, "V11", at(date(2025, 1, 5), 10))
    return p


async def _rows(db: Database, kind: str) -> list[tuple[str, str | None]]:
    async with db.sessions() as s:
        o = OutboxMessage
        rows = await s.execute(select(o.key, o.attachment_path).where(o.kind == kind))
        return sorted((key, path) for key, path in rows.all())


async def test_a_head_is_answered_while_the_run_draws_and_earlier_units_are_saved(
        db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = await _setup(db)
    entered, release = threading.Event(), threading.Event()
    drawn: list[str] = []
    real = digest_send.progress_chart

    def slow_chart(name: str, children: Any) -> bytes:
        drawn.append(name)
        if len(drawn) == 2:  # the second unit's chart (C2; C1 came first): the run waits here
            entered.set()
            release.wait(60)
        return real(name, children)

    monkeypatch.setattr(digest_send, "progress_chart", slow_chart)
    now = at(TUESDAY, 7, 30)
    sched = make_scheduler(_config(db, tmp_path), db.sessions, {"telegram": FakeChannel()}, clock=lambda: now)
    run = asyncio.create_task(sched.digest_job(False, now))
    try:
        await until(entered.is_set, "the run reaches the second unit's chart")
        # the first unit's digest is written already: a crash now would keep it
        assert [k for k, _ in await _rows(db, "digest")] == [f"digest:C1:{p.accounts['staff_C1']}:2025-01-14"]
        # a village head's message needs the database's write lock (SQLite): the run does not hold it
        engine = Engine(db.sessions, Settings(campaign_election_date=date(2025, 1, 5), tz=TZ))
        step = asyncio.create_task(engine.step_for_web(Incoming(channel="telegram", account_id="ext-V12",
                                                          text="/trangthai", message_id="m1"), now))
        await until(step.done, "the head's step is handled while the digest run is drawing")
        [reply] = step.result()
        assert "Thôn V12" in reply.text and not run.done()
    finally:
        release.set()
    stats = await run
    assert stats.enqueued == 3 and drawn == ["Xã C1", "Xã C2", "Tỉnh Thử"]
    assert [k.split(":")[1] for k, _ in await _rows(db, "digest")] == ["C1", "C2", "P"]


async def test_large_units_are_computed_by_the_file_builder(db: Database, tmp_path: Path) -> None:
    p = await _setup(db)
    config = _config(db, tmp_path, offload_villages=3)  # C1 (3 villages) and P (5) are large, C2 (2) is not
    builder = FileBuilder(db.sessions, build_config(config), TZ, executor=ThreadPoolExecutor(2))
    drawn: list[str] = []
    chart = builder.chart

    async def counted(name: str, lines: Any) -> bytes:
        drawn.append(name)
        return await chart(name, lines)

    builder.chart = counted  # type: ignore[method-assign]
    monday = at(TUESDAY - timedelta(days=1), 7)
    sched = make_scheduler(config, db.sessions, {"telegram": FakeChannel()}, clock=lambda: monday, files=builder)
    stats = await sched.digest_job(True, monday)
    assert stats.enqueued == 3
    assert builder.builds == 2  # the figures and charts of C1 and P
    assert drawn == ["Xã C1", "Xã C2", "Tỉnh Thử"]  # every chart drawn by the builder's chart worker
    files = await _rows(db, "digest_file")
    charts = [(k.split(":")[1], Path(path)) for k, path in files if k.endswith(":chart") and path]
    assert [u for u, _ in charts] == ["C1", "C2", "P"]
    assert all(path.name == f"tien-do-{u}-2025-W03.png" and path.read_bytes().startswith(b"\x89PNG")
               for u, path in charts)
    # the weekly XLSX: written at once for the small unit, a request to the builder for the large ones
    xlsx = [k.split(":")[1] for k, path in files if k.endswith(":xlsx")]
    assert xlsx == ["C2"]
    async with db.sessions() as s:
        requests = (await s.execute(select(OutboxMessage.key).where(OutboxMessage.kind == "file"))).scalars().all()
    assert sorted(k.split(":")[1] for k in requests) == ["C1", "P"]
    readers = (("C1", "staff_C1"), ("C2", "staff_C2"), ("P", "admin_P"))
    assert [k for k, _ in await _rows(db, "digest")] == sorted(f"digest:{u}:{p.accounts[who]}:2025-W03"
                                                               for u, who in readers)
    await builder.stop()
