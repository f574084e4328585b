"""The scheduler's jobs with injected time: digests once per period and reader (also after a restart
that missed one), the drain through a fake channel, expiry, and the start/stop lifecycle."""

from __future__ import annotations

import argparse
import asyncio
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import make_scheduler
from bot.config import Config
from bot.core_cli import cmd_digest as digest_command
from models.db import transaction
from models.delivery.outbox import enqueue
from models.delivery.tables import OutboxMessage
from models.dialog.tables import ConversationState
from models.progress.tables import DigestSnapshot
from scheduler import Scheduler, previous_fire
from tests.conftest import Database
from tests.scheduler.fake_channel import FakeChannel
from tests.scheduler.province import TZ, Province, at, build_province, elect
from tests.waiting import until

MONDAY = date(2025, 1, 13)


def _config(db: Database, tmp_path: Path) -> Config:
    return Config.model_validate({
        "database": {"url": db.url},
        "reminders": {"election_date": "2025-01-05"},
        "scheduler": {"files_dir": str(tmp_path / "outbox"), "rate_per_second": 1000, "per_chat_seconds": 0},
    })


def _scheduler(db: Database, tmp_path: Path, fake: FakeChannel, now: datetime) -> Scheduler:
    return make_scheduler(_config(db, tmp_path), db.sessions, {"telegram": fake}, clock=lambda: now)


async def _setup(db: Database) -> Province:
    async with transaction(db.sessions) as s:
        p = await build_province(s)
        await elect(s, p, "V11", at(date(2025, 1, 5), 10))
    return p


async def _keys(db: Database, kind: str) -> list[str]:
    async with db.sessions() as s:
        return sorted((await s.execute(select(OutboxMessage.key).where(OutboxMessage.kind == kind))).scalars())


async def test_restart_after_missed_weekly_digest_sends_it_once(db: Database, tmp_path: Path) -> None:
    p = await _setup(db)
    fake = FakeChannel()
    now = at(MONDAY, 9, 30)  # the weekly digest (Monday 07:00) was missed: the bot was down
    for _ in range(2):  # started, then restarted: the second start-up finds nothing to do
        sched = _scheduler(db, tmp_path, fake, now)
        await sched.catch_up(now)
        await sched.drain_job()
    digests = await _keys(db, "digest")
    assert digests == sorted(f"digest:{u}:{p.accounts[a]}:2025-W03"
                             for u, a in (("C1", "staff_C1"), ("C2", "staff_C2"), ("P", "admin_P")))
    texts = fake.texts("ext-admin_P")
    assert len(texts) == 3  # the digest, the chart, the weekly XLSX
    assert texts[0].startswith("BÁO CÁO TỔNG HỢP TUẦN 03/2025 — Tỉnh Thử")  # not the meeting's name
    files = [r.attachment.filename for ext, r in fake.sent if ext == "ext-admin_P" and r.attachment]
    assert files == ["tien-do-P-2025-W03.png", "tien-do-P-2025-W03.xlsx"]
    # Monday is the weekly digest's day: no daily digest as well
    assert not [k for k in digests if k.endswith(MONDAY.isoformat())]
    # the regular job firing later the same week changes nothing either
    assert (await sched.digest_job(True, at(MONDAY, 10))).enqueued == 0


async def test_daily_digest_and_what_changed(db: Database, tmp_path: Path) -> None:
    p = await _setup(db)
    fake = FakeChannel()
    tuesday, wednesday = at(MONDAY + timedelta(days=1), 7, 30), at(MONDAY + timedelta(days=2), 7, 30)
    sched = _scheduler(db, tmp_path, fake, tuesday)
    assert (await sched.digest_job(False, tuesday)).enqueued == 3
    assert (await sched.digest_job(False, tuesday)).enqueued == 0
    async with transaction(db.sessions) as s:
        await elect(s, p, "V12", at(MONDAY + timedelta(days=1), 10), party="non_member")
    assert (await sched.digest_job(False, wednesday)).enqueued == 3
    sched.clock = lambda: wednesday
    await sched.drain_job()
    c1 = [x for x in fake.texts("ext-staff_C1") if x.startswith("BÁO CÁO")]
    c2 = [x for x in fake.texts("ext-staff_C2") if x.startswith("BÁO CÁO")]
    assert len(c1) == len(c2) == 2
    assert "Đây là báo cáo đầu tiên" in c1[0]
    assert "Thay đổi so với báo cáo trước (14/01/2025):" in c1[-1] and "+1 đã bầu trưởng thôn" in c1[-1]
    assert "Không có thay đổi so với báo cáo trước (14/01/2025)." in c2[-1]
    async with db.sessions() as s:
        assert len((await s.execute(select(DigestSnapshot))).scalars().all()) == 6


async def test_opted_out_and_quiet_hours(db: Database, tmp_path: Path) -> None:
    p = await _setup(db)
    from models.accounts.tables import ChannelAccount

    async with transaction(db.sessions) as s:
        (await s.get(ChannelAccount, p.accounts["staff_C2"])).digest_opt_out = True  # type: ignore[union-attr]
    fake = FakeChannel()
    night = at(MONDAY + timedelta(days=1), 22)
    sched = _scheduler(db, tmp_path, fake, night)
    assert (await sched.digest_job(False, at(MONDAY + timedelta(days=1), 7, 30))).enqueued == 2
    assert (await sched.drain_job()).sent == 0  # 22:00: held until morning
    sched.clock = lambda: at(MONDAY + timedelta(days=2), 7, 0)
    assert (await sched.drain_job()).sent == 2 + 2  # C1 and P: text and chart each


async def test_reminder_job_and_expiry(db: Database, tmp_path: Path) -> None:
    p = await _setup(db)
    now = at(date(2025, 1, 6), 8)
    async with transaction(db.sessions) as s:
        s.add(ConversationState(key=f"person:{p.heads['V13'].id}", flow="election", step="x", updated_at=now,
                                expires_at=now - timedelta(minutes=1)))
    fake = FakeChannel()
    sched = _scheduler(db, tmp_path, fake, now)
    assert await sched.expiry_job(now) == 1
    stats = await sched.reminder_job(now)
    assert stats.reminders == 4  # V12, V13, V21 ×2 (V11 reported; V22 votes on the 12th)
    await sched.drain_job()
    assert fake.texts("ext-V13")[0].startswith("Kính gửi trưởng thôn: đến nay Thôn V13 chưa báo cáo")  # spoken to


async def test_start_runs_the_jobs_and_stop_ends_them(db: Database, tmp_path: Path) -> None:
    p = await _setup(db)
    fake = FakeChannel()
    config = _config(db, tmp_path)
    config.scheduler.outbox_drain_seconds = 0.05
    now = at(MONDAY, 10)
    async with transaction(db.sessions) as s:
        await enqueue(s, key="test:started", kind="reminder", account_id=p.accounts["staff_C1"], text="hello",
                      now=now)
    sched = make_scheduler(config, db.sessions, {"telegram": fake}, clock=lambda: now)
    assert sched.next_runs() == {}
    await sched.start()
    runs = sched.next_runs()
    jobs = {"reminders", "digest_daily", "digest_weekly", "expiry", "giaoban", "outbox"}
    # on PostgreSQL (several workers may share it) a "leader" job renews the scheduler's lease
    assert set(runs) == (jobs if db.kind == "sqlite" else jobs | {"leader"})
    assert all(t is not None for t in runs.values())
    await until(lambda: fake.sent, "the outbox job sends the pending message")  # it really runs on its interval
    assert "hello" in fake.texts("ext-staff_C1")  # start-up catch-up may also send the missed weekly digest
    await sched.stop()
    assert sched.next_runs() == {}
    # the running drain ended with stop, deliveries and all: nothing is left to outlive the engine
    # (a delivery left unwinding once hung the loop's teardown under CI)
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


def test_previous_fire() -> None:
    now = at(MONDAY, 9)
    assert previous_fire("0 7 * * 1", now, TZ, timedelta(days=7)) == datetime(2025, 1, 13, 7, tzinfo=TZ)
    assert previous_fire("0 7 * * 1", at(MONDAY, 6), TZ, timedelta(days=7)) == datetime(2025, 1, 6, 7, tzinfo=TZ)
    assert previous_fire("30 7 * * *", at(MONDAY, 7), TZ, timedelta(days=1)) == datetime(2025, 1, 12, 7, 30, tzinfo=TZ)


async def test_digest_command_prints_and_enqueues(db: Database, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    await _setup(db)
    config = _config(db, tmp_path)
    assert await digest_command(config, argparse.Namespace(unit="C1", send=False)) == 0
    out = capsys.readouterr().out
    assert out.startswith("BÁO CÁO TỔNG HỢP — Xã C1") and "Thay đổi" not in out
    assert await digest_command(config, argparse.Namespace(unit="C1", send=True)) == 0
    assert "enqueued for 1 staff account(s) of C1" in capsys.readouterr().out
    assert len(await _keys(db, "digest")) == 1
    assert await digest_command(config, argparse.Namespace(unit="NOPE", send=False)) == 1


def test_cron_day_of_week_is_standard() -> None:
    from models.crontab import day_of_week

    assert day_of_week("1") == "mon" and day_of_week("0") == "sun" and day_of_week("7") == "sun"
    assert day_of_week("1-5") == "mon,tue,wed,thu,fri" and day_of_week("0,6") == "sun,sat"
    assert day_of_week("*") == "*" and day_of_week("MON") == "mon"
