"""Large exports and digests built off the event loop: "đang chuẩn bị tệp…" at once, the file
after it through the outbox, one build for two requests of the same file in flight, other users served
while a build runs, a dead builder's request built again and sent once; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select
from sqlmodel import col

from bot.delivery import RateLimiter, drain_once
from bot.files import FileBuilder, process_pool, prune_built
from handlers.context import Settings
from handlers.engine import Engine
from handlers.messages import Incoming
from models.clock import utcnow
from models.db import transaction
from models.delivery.files import FILE
from models.delivery.tables import OutboxMessage
from models.progress.tallies import UnitProgress
from reports.chart import progress_chart
from reports.digest_send import enqueue_digests
from reports.files import BuildConfig
from tests.conftest import Database
from tests.scheduler.fake_channel import FakeChannel
from tests.scheduler.province import PERIOD, RULES, Province, at, build_province, elect

SETTINGS = Settings(campaign_election_date=date(2025, 1, 5), offload_villages=1)


class GatedExecutor(ThreadPoolExecutor):
    """Runs each build in a thread once ``gate`` is set: a build stays "in flight" as long as a test wants."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.gate = threading.Event()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        def gated() -> Any:
            self.gate.wait(timeout=60)
            return fn(*args, **kwargs)
        return super().submit(gated)


async def _setup(db: Database) -> Province:
    async with transaction(db.sessions) as s:
        p = await build_province(s)
        await elect(s, p, "V11", at(date(2025, 1, 5), 10))
    return p


def _builder(db: Database, tmp_path: Path, executor: Any = None, clock: Callable[[], datetime] = utcnow) -> FileBuilder:
    cfg = BuildConfig(url=db.url, period=PERIOD, rules=RULES, files_dir=str(tmp_path / "files"))
    return FileBuilder(db.sessions, cfg, SETTINGS.tz, executor=executor or ThreadPoolExecutor(2), clock=clock)


def _say(engine: Engine, who: str, text: str, message_id: str) -> Any:
    return engine.step_for_web(Incoming(channel="telegram", account_id=f"ext-{who}", text=text, message_id=message_id))


async def _drain(db: Database, channel: FakeChannel, clock: Callable[[], datetime] = utcnow) -> None:
    await drain_once(db.sessions, {"telegram": channel}, RateLimiter(1000, 0.0), clock=clock)


async def test_export_is_answered_at_once_and_the_file_follows(db: Database, tmp_path: Path) -> None:
    await _setup(db)
    engine, channel = Engine(db.sessions, SETTINGS), FakeChannel()
    replies = await _say(engine, "admin_P", "/xuatfile", "m1")
    assert [r.attachment for r in replies] == [None]
    assert replies[0].text.startswith("Đang chuẩn bị tệp tổng hợp tiến độ của Tỉnh Thử (5 thôn)…")
    await _drain(db, channel)
    assert channel.sent == []  # the request waits for its file: the drain leaves it alone

    builder = _builder(db, tmp_path)
    await asyncio.gather(*await builder.run_once())
    assert builder.builds == 1
    await _drain(db, channel)
    [(to, reply)] = channel.sent
    assert to == "ext-admin_P" and reply.attachment is not None
    assert reply.attachment.filename.startswith("tien-do-P-") and reply.attachment.filename.endswith(".xlsx")
    assert "(5 thôn)" in reply.text
    ws = load_workbook(io.BytesIO(reply.attachment.content)).active
    assert ws is not None
    rows = list(ws.iter_rows(values_only=True))
    assert [r[4] for r in rows[1:]] == ["V11", "V12", "V13", "V21", "V22"]
    v11 = dict(zip(rows[0], rows[1], strict=True))
    assert v11["Ngày bầu cử"] == datetime(2025, 1, 5) and v11["Số phiếu bầu"] == 80  # real dates, numbers
    await _drain(db, channel)
    assert len(channel.sent) == 1  # sent once
    await builder.stop()


async def test_two_requests_for_one_file_in_flight_build_it_once(db: Database, tmp_path: Path) -> None:
    await _setup(db)
    engine, channel = Engine(db.sessions, SETTINGS), FakeChannel()
    executor = GatedExecutor()
    builder = _builder(db, tmp_path, executor)
    await _say(engine, "admin_P", "/xuatfile", "m1")
    first = await builder.run_once()
    assert builder.builds == 1 and len(first) == 1
    # while it is being built: the same staff member again
    await _say(engine, "admin_P", "/xuatfile", "m2")
    assert await builder.run_once() == [] and builder.builds == 1  # waits for the build in flight
    executor.gate.set()
    await asyncio.gather(*first)  # whose hand-over answers it too
    assert builder.builds == 1
    await _drain(db, channel)
    assert len(channel.sent) == 2
    a, b = (r.attachment for _, r in channel.sent)
    assert a is not None and b is not None and a.content == b.content
    # once built, a new request builds anew (the data may have changed)
    await _say(engine, "admin_P", "/xuatfile", "m3")
    await asyncio.gather(*await builder.run_once())
    assert builder.builds == 2
    await builder.stop()


async def test_a_file_in_flight_on_one_worker_answers_a_request_on_another(db: Database, tmp_path: Path) -> None:
    """Two workers, each with its builder: the second does not build what the first is building; the
    first's build answers both requests (cross-process, through the outbox rows' leases)."""
    await _setup(db)
    engine, channel = Engine(db.sessions, SETTINGS), FakeChannel()
    gated = GatedExecutor()
    one, two = _builder(db, tmp_path, gated), _builder(db, tmp_path)
    await _say(engine, "admin_P", "/xuatfile", "m1")
    [building] = await one.run_once()
    await _say(engine, "admin_P", "/xuatfile", "m2")
    await _say(engine, "staff_C1", "/xuatfile", "m3")  # another unit's file: built at once
    [other] = await two.run_once()
    await other
    assert await two.run_once() == [] and two.builds == 1
    gated.gate.set()
    await building
    assert one.builds == 1 and two.builds == 1
    await _drain(db, channel)
    sent = [(to, r.attachment) for to, r in channel.sent]
    assert sorted(to for to, _ in sent) == ["ext-admin_P", "ext-admin_P", "ext-staff_C1"]
    mine = [a for to, a in sent if to == "ext-admin_P"]
    assert all(a is not None for a in mine) and mine[0].content == mine[1].content  # type: ignore[union-attr]
    await _drain(db, channel)
    assert len(channel.sent) == 3  # each once
    async with db.sessions() as s:
        statuses = (await s.execute(select(col(OutboxMessage.status)).where(col(OutboxMessage.kind) == FILE))).all()
    assert statuses == [("sent",)] * 3
    for b in (one, two):
        await b.stop()


async def test_other_users_are_answered_while_an_export_is_built(db: Database, tmp_path: Path) -> None:
    await _setup(db)
    engine, channel = Engine(db.sessions, SETTINGS), FakeChannel()
    executor = GatedExecutor()
    builder = _builder(db, tmp_path, executor)
    await _say(engine, "admin_P", "/xuatfile", "m1")
    [task] = await builder.run_once()
    help_reply = await _say(engine, "V12", "/trogiup", "h1")  # a village head, while the file is built
    status = await _say(engine, "V11", "/trangthai", "h2")
    assert help_reply and status and not task.done()  # answered while the export is still in progress
    executor.gate.set()
    await task
    await _drain(db, channel)
    assert [to for to, _ in channel.sent] == ["ext-admin_P"]
    await builder.stop()


async def test_a_dead_builders_request_is_built_again_and_sent_once(db: Database, tmp_path: Path) -> None:
    await _setup(db)
    engine, channel = Engine(db.sessions, SETTINGS), FakeChannel()
    await _say(engine, "staff_C1", "/xuatfile", "m1")
    gated = GatedExecutor()
    dead = _builder(db, tmp_path, gated)  # claims, then "crashes": never hands over
    assert len(await dead.run_once()) == 1
    await dead.stop()
    gated.gate.set()
    again = _builder(db, tmp_path)
    assert await again.run_once() == []  # the dead builder's lease still holds
    later = lambda: utcnow() + timedelta(minutes=6)  # noqa: E731
    after = _builder(db, tmp_path, clock=later)
    await asyncio.gather(*await after.run_once())
    await _drain(db, channel, later)
    await _drain(db, channel, later)
    assert [to for to, _ in channel.sent] == ["ext-staff_C1"]
    async with db.sessions() as s:
        rows = (await s.execute(select(col(OutboxMessage.status)).where(col(OutboxMessage.kind) == FILE))).all()
    assert rows == [("sent",)]
    for b in (again, after):
        await b.stop()


async def test_large_digest_follows_and_counts_a_report_saved_since(db: Database, tmp_path: Path) -> None:
    p = await _setup(db)
    engine, channel = Engine(db.sessions, SETTINGS), FakeChannel()
    builder = _builder(db, tmp_path)
    replies = await _say(engine, "admin_P", "/tonghop", "d1")
    assert replies[0].text.startswith("Đang chuẩn bị báo cáo tổng hợp của Tỉnh Thử (5 thôn)…")
    await asyncio.gather(*await builder.run_once())
    await _drain(db, channel)
    digest, chart = (r for _, r in channel.sent)
    assert digest.text.startswith("BÁO CÁO TỔNG HỢP — Tỉnh Thử") and "1/5" in digest.text
    assert chart.attachment is not None and chart.attachment.content[:4] == b"\x89PNG"
    async with transaction(db.sessions) as s:  # a report saved after the first digest
        await elect(s, p, "V12", at(date(2025, 1, 6), 10))
    await _say(engine, "admin_P", "/tonghop", "d2")
    await asyncio.gather(*await builder.run_once())
    await _drain(db, channel)
    again = channel.sent[2][1].text
    assert "2/5" in again and "+1" in again  # the new figures, and the change since the first digest
    await builder.stop()


async def test_the_worker_process_builds_the_file(sqlite_db: Database, tmp_path: Path) -> None:
    await _setup(sqlite_db)
    engine, channel = Engine(sqlite_db.sessions, SETTINGS), FakeChannel()
    builder = _builder(sqlite_db, tmp_path, process_pool())
    await _say(engine, "staff_C2", "/xuatfile", "m1")
    await asyncio.gather(*await builder.run_once())
    await _drain(sqlite_db, channel)
    [(_, reply)] = channel.sent
    assert reply.attachment is not None
    rows = list(load_workbook(io.BytesIO(reply.attachment.content)).active.iter_rows(values_only=True))
    assert [r[4] for r in rows[1:]] == ["V21", "V22"]
    await builder.stop()


async def test_charts_are_drawn_in_a_worker_process_of_their_own(sqlite_db: Database, tmp_path: Path) -> None:
    cfg = BuildConfig(url=sqlite_db.url, period=PERIOD, rules=RULES, files_dir=str(tmp_path / "files"))
    builder = FileBuilder(sqlite_db.sessions, cfg, SETTINGS.tz)  # the real pools, started on first use
    lines = [UnitProgress(unit_id=i, code=f"V{i}", name=f"Thôn {i}", villages=1, by_status={"merged": i % 2})
             for i in range(5)]
    png = await builder.chart("Xã Thử", lines)
    assert png.startswith(b"\x89PNG") and png == progress_chart("Xã Thử", lines)  # the same chart, drawn there
    assert isinstance(builder.charts, ProcessPoolExecutor) and builder.charts is not builder.executor
    await builder.stop()


async def test_a_large_weekly_digest_sends_its_xlsx_through_the_builder(db: Database, tmp_path: Path) -> None:
    await _setup(db)
    channel = FakeChannel()
    now = at(date(2025, 1, 13), 7)
    stats = await enqueue_digests(db.sessions, rules=RULES, period=PERIOD, now=now, today=date(2025, 1, 13),
                                  weekly=True, files_dir=tmp_path / "outbox", tz=SETTINGS.tz, offload_villages=1)
    assert stats.enqueued == 3
    async with db.sessions() as s:
        waiting = (await s.execute(select(col(OutboxMessage.key)).where(col(OutboxMessage.kind) == FILE))).scalars()
        assert sorted(k.rsplit(":", 1)[1] for k in waiting) == ["xlsx"] * 3  # requests, not files built on the loop
    builder = _builder(db, tmp_path, clock=lambda: now)
    await asyncio.gather(*await builder.run_once())
    assert builder.builds == 3  # one per unit
    await _drain(db, channel, lambda: now)
    files = sorted(r.attachment.filename for _, r in channel.sent if r.attachment)
    assert [f for f in files if f.endswith(".xlsx")] == [f"tien-do-{u}-2025-01-13.xlsx" for u in ("C1", "C2", "P")]
    await builder.stop()


def test_built_files_are_pruned_after_some_days(tmp_path: Path) -> None:
    old, new, other = tmp_path / "2025-01-01-abc123", tmp_path / "2025-01-09-def456", tmp_path / "notes"
    for folder in (old, new, other):
        folder.mkdir()
        (folder / "f.xlsx").write_bytes(b"x")
    (tmp_path / "tien-do-P-2025-W01.png").write_bytes(b"x")  # the scheduler's files are not its to prune
    assert prune_built(tmp_path, datetime(2025, 1, 10, tzinfo=UTC)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-01-09-def456", "notes", "tien-do-P-2025-W01.png"]
