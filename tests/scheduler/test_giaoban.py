"""The whole giao ban loop through the real engine and the scheduler's job, with injected time, on SQLite
and PostgreSQL: schedule → invitations → attendance replies → reports (field by field, one message,
"nothing new", photo) → reminders → pack (contents and order) → conclusions and tasks →
acknowledgement → done → overdue reminders and escalation; every key once, delivered once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import make_scheduler
from bot.config import Config
from handlers.engine import Engine
from handlers.messages import IncomingPhoto
from models.db import transaction
from models.delivery.tables import OutboxMessage
from models.election.reports import audit_trail
from models.giaoban.meetings import add_schedule, get_meeting
from models.giaoban.pack import build_pack
from models.giaoban.reports import get_report, report_revisions
from models.giaoban.tables import GiaobanDirective, GiaobanMeeting
from models.giaoban.tasks import add_conclusion
from models.photos.tables import ReportPhoto
from models.reminders.rules import Rules
from reports.giaoban_text import render_pack
from scheduler import Scheduler
from tests import images
from tests.conftest import Database
from tests.handlers.chat import Chat, Province, invite, make_engine, make_province
from tests.scheduler.fake_channel import FakeChannel
from texts.catalog import t

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
JPEG = images.jpeg()


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A local time in December 2024, as UTC."""
    return datetime(2024, 12, day, hour, minute, tzinfo=TZ).astimezone(UTC)


def _scheduler(db: Database, tmp_path: Path, fake: FakeChannel) -> Scheduler:
    config = Config.model_validate({
        "database": {"url": db.url}, "reminders": {"election_date": "2024-12-15"},
        "scheduler": {"files_dir": str(tmp_path / "outbox"), "rate_per_second": 1000, "per_chat_seconds": 0}})
    return make_scheduler(config, db.sessions, {"web": fake}, clock=lambda: at(31, 12))


async def _keys(db: Database) -> list[str]:
    async with db.sessions() as s:
        return sorted((await s.execute(select(OutboxMessage.key).where(
            OutboxMessage.key.startswith("giaoban:")))).scalars())  # type: ignore[attr-defined]


async def _new(db: Database, sched: Scheduler, when: datetime) -> list[str]:
    before = set(await _keys(db))
    stats = await sched.giaoban_job(when)
    assert (await sched.giaoban_job(when)).keys == []  # a second run (or scheduler) enqueues nothing
    assert sorted(stats.keys) == sorted(set(await _keys(db)) - before)
    return sorted(k.rsplit(":a", 1)[0] for k in stats.keys)


async def _people(db: Database, engine: Engine, p: Province) -> tuple[Chat, Chat, Chat]:
    v1, v2, staff = Chat(engine, "h1"), Chat(engine, "h2"), Chat(engine, "s1")
    await v1.send(f"/start {await invite(db.sessions, p.villages[0])}", at=at(19, 9))
    await v2.send(f"/start {await invite(db.sessions, p.villages[1])}", at=at(19, 9))
    await staff.send(f"/start {await invite(db.sessions, p.communes[0], 'staff')}", at=at(19, 9))
    return v1, v2, staff


async def test_the_whole_loop(db: Database, tmp_path: Path) -> None:
    p = await make_province(db.sessions)
    engine = make_engine(db.sessions)
    v1, v2, _ = await _people(db, engine, p)
    fake = FakeChannel("web")
    sched = _scheduler(db, tmp_path, fake)
    async with transaction(db.sessions) as s:  # the fourth Tuesday of each month at 08:00
        await add_schedule(s, p.communes[0], "monthly_nth", "08:00", "Hội trường xã", at(19, 9), weekday=1, nth=4)

    # Friday 20/12: the meeting of Tuesday 24/12 appears, both villages are invited (not V3 of C2)
    assert await _new(db, sched, at(20, 10)) == ["giaoban:invite:1:V1", "giaoban:invite:1:V2"]
    async with db.sessions() as s:
        meeting = (await s.execute(select(GiaobanMeeting))).scalar_one()
    assert meeting.starts_at == at(24, 8) and meeting.id == 1
    await v1.send("có", at=at(20, 11))
    assert v1.text == t("gb.attend.saved_yes", village="Thôn 1", when="08:00 24/12/2024")
    await v1.send("/giaoban", at=at(20, 11, 5))
    assert v1.text == t("gb.report.not_yet", when="08:00 24/12/2024", opens="08:00 21/12/2024")

    # Saturday: the report window opens; V1 reports field by field, then corrects one field
    assert await _new(db, sched, at(21, 9)) == ["giaoban:open:1:V1", "giaoban:open:1:V2"]
    await v1.send("/giaoban", at=at(21, 10))
    assert v1.choices == ["fields", "whole", "nothing"]
    await v1.send("1")
    for answer in ("Thu hoạch lúa xong 90%", None, "Ổn định", "bình thường", "Sạt lở đường liên thôn",
                   "Đề nghị hỗ trợ 20 tấn xi măng"):
        assert v1.choices == ["nothing"]
        await (v1.send(choice="nothing") if answer is None else v1.send(answer))
    assert "• Kinh tế: Thu hoạch lúa xong 90%" in v1.text and "• Văn hóa – xã hội: Không có gì mới" in v1.text
    summary = v1.text
    await v1.send(photo=IncomingPhoto(content=JPEG))  # a photo of the landslide, mid-report
    assert v1.text.startswith(t("photo.saved_giaoban", village="Thôn 1")) and v1.text.endswith(summary)  # asked again
    await v1.send("gửi báo cáo")
    assert v1.text.startswith("Đã nhận báo cáo giao ban của Thôn 1 (lần 1)")
    await v1.send("/giaoban", at=at(21, 15))
    assert t("gb.report.on_file", village="Thôn 1", revision=1) in v1.text and v1.choices == ["send", "fix"]
    await v1.send(choice="fix")
    await v1.send(choice="urgent")
    await v1.send("Sạt lở đường liên thôn đoạn km2, cần xử lý gấp")
    await v1.send(choice="send")
    assert "(lần 2)" in v1.text
    await v1.send(photo=IncomingPhoto(content=images.jpeg(shade=2)))  # right after the report: joins it
    assert v1.text == t("photo.saved_giaoban", village="Thôn 1")

    # Sunday: V2 has not reported: a reminder (once that day); V1 gets none
    assert await _new(db, sched, at(22, 9)) == ["giaoban:report_remind:1:V2:2024-12-22"]
    # Monday, the day before: V2 has neither answered nor reported: reminder, and staff are told
    assert await _new(db, sched, at(23, 9)) == [
        "giaoban:attend_remind:1:V2", "giaoban:late:1", "giaoban:report_remind:1:V2:2024-12-23"]
    await v2.send("không, bận việc gia đình", at=at(23, 9, 30))
    assert v2.text == t("gb.attend.saved_no", village="Thôn 2", when="08:00 24/12/2024", reason="bận việc gia đình")
    await v2.send("/giaoban", at=at(23, 10))
    await v2.send(choice="whole")
    long = "Kinh tế: ổn. Văn hóa: lễ hội cuối năm. An ninh: mất trộm 2 xe máy. Kiến nghị: lắp camera. " * 8
    await v2.send(long)
    await v2.send("1")
    assert "(lần 1)" in v2.text
    async with db.sessions() as s:
        report = await get_report(s, 1, p.village_ids[0])
    assert report is not None

    # Monday 18:00: the pack goes to the commune's staff
    assert await _new(db, sched, at(23, 18)) == ["giaoban:pack:1"]
    async with db.sessions() as s:
        pack_text = (await s.execute(select(OutboxMessage.text).where(
            OutboxMessage.key.startswith("giaoban:pack:")))).scalar_one()  # type: ignore[attr-defined]
        revs = await report_revisions(s, report.id)  # type: ignore[arg-type]
        audit = [e for e in await audit_trail(s, p.village_ids[0]) if e.action.startswith("giaoban")]
    assert [r.data["urgent"] for r in revs] == ["Sạt lở đường liên thôn",
                                                "Sạt lở đường liên thôn đoạn km2, cần xử lý gấp"]
    assert [(e.action, e.field) for e in audit][-1] == ("giaoban.update", "1:urgent")
    order = [pack_text.index(x) for x in ("Đã báo cáo: 2/2 thôn.", "VIỆC NỔI CỘM (1):", "km2", "/photo/1",
                                          "KIẾN NGHỊ (1):", "BÁO CÁO GỬI MỘT TIN NHẮN (1):",
                                          "THAM DỰ: có 1, vắng 1, chưa trả lời 0.", "Vắng: Thôn 2 — bận việc gia đình",
                                          "TIẾN ĐỘ BẦU CỬ", "BÁO CÁO THEO LĨNH VỰC:")]
    assert order == sorted(order) and len(pack_text) <= 4096
    assert "/giaoban/m/1" in pack_text  # the rest behind a link
    assert "[ảnh: http://127.0.0.1:8080/photo/1, http://127.0.0.1:8080/photo/2]" in pack_text
    await v2.send("/giaoban", at=at(24, 8, 1))
    assert v2.text == t("gb.report.no_meeting")  # the window closed with the meeting

    # after the meeting: a conclusion for all, a task for V2 due Friday
    async with transaction(db.sessions) as s:
        view = await get_meeting(s, 1)
        assert view is not None
        await add_conclusion(s, view.meeting, "Tăng cường tuần tra dịp Tết", due=None, village_ids=None, by="canbo1",
                             now=at(24, 10), today=date(2024, 12, 24))
        await add_conclusion(s, view.meeting, "Khắc phục sạt lở", due=date(2024, 12, 27),
                             village_ids=[p.village_ids[1]], by="canbo1", now=at(24, 10),
                             today=date(2024, 12, 24))
    assert await _new(db, sched, at(24, 11)) == [
        "giaoban:directive:1:V1", "giaoban:directive:1:V2", "giaoban:directive:2:V2"]
    await v1.send("đã nhận", at=at(24, 12))
    assert v1.text == t("gb.tasks.acked", village="Thôn 1", n=1)
    assert await _new(db, sched, at(25, 9)) == ["giaoban:ack_remind:1:V2:2024-12-25",
                                                 "giaoban:ack_remind:2:V2:2024-12-25"]
    await v2.send("/nhiemvu", at=at(25, 10))
    assert "1. Tăng cường tuần tra dịp Tết — chưa xác nhận" in v2.text and "(hạn 27/12/2024)" in v2.text
    await v2.send(choice="ack_all")
    assert v2.text == t("gb.tasks.acked", village="Thôn 2", n=2)
    assert await _new(db, sched, at(27, 9)) == []  # acknowledged; the task is not due yet
    assert await _new(db, sched, at(28, 9)) == ["giaoban:overdue:2:V2:2024-12-28"]
    assert await _new(db, sched, at(30, 9)) == ["giaoban:overdue:2:V2:2024-12-30", "giaoban:overdue_escalate:2:V2"]
    await v2.send("/nhiemvu", at=at(30, 10))
    assert t("gb.tasks.ask_pick_one") in v2.text and "ack_all" not in v2.choices  # all acknowledged: no such offer
    await v2.send("1")
    assert v2.choices == ["done", "back"]
    await v2.send(choice="done")
    await v2.send("Đã san gạt xong đoạn sạt lở")
    assert v2.text == t("gb.tasks.done_saved", text="Khắc phục sạt lở")
    await v2.send(photo=IncomingPhoto(content=images.jpeg(shade=3)))  # then the work photographed: joins the task
    assert v2.text == t("photo.saved_task", village="Thôn 2")
    assert await _new(db, sched, at(31, 9)) == []
    async with db.sessions() as s:
        rows = (await s.execute(select(GiaobanDirective).order_by(GiaobanDirective.id))).scalars().all()  # type: ignore[arg-type]
    assert [(r.acknowledged_at is not None, r.done_note) for r in rows] == [
        (True, None), (True, None), (True, "Đã san gạt xong đoạn sạt lở")]
    async with db.sessions() as s:
        photos = (await s.execute(select(ReportPhoto.kind, ReportPhoto.ref_id, ReportPhoto.village_id)
                                  .order_by(ReportPhoto.id))).all()  # type: ignore[arg-type]
    assert [tuple(r) for r in photos] == [("giaoban", 1, p.village_ids[0]), ("giaoban", 1, p.village_ids[0]),
                                          ("task", rows[2].id, p.village_ids[1])]

    # every message of the loop is delivered once
    await sched.drain_job()
    sent_keys = len(await _keys(db))
    assert len(fake.sent) == sent_keys
    assert any(x.startswith("Giấy mời họp giao ban") for x in fake.texts("h1"))
    assert any(x.startswith("TÀI LIỆU GIAO BAN") for x in fake.texts("s1"))
    assert (await sched.drain_job()).sent == 0


async def test_pack_without_reports_and_the_cli_text(db: Database) -> None:
    p = await make_province(db.sessions)
    async with transaction(db.sessions) as s:
        from models.giaoban.meetings import schedule_meeting

        m = await schedule_meeting(s, p.communes[0], at(24, 8), "", at(20, 8))
        view = await get_meeting(s, m.id)  # type: ignore[arg-type]
        assert view is not None
        pack = await build_pack(s, view, Rules(election_date=date(2024, 12, 15)), date(2024, 12, 23))
    text = render_pack(pack, TZ, limit=None)
    assert "Đã báo cáo: 0/2 thôn." in text and "Chưa báo cáo (2): Thôn 1, Thôn 2" in text
    assert t("gb.pack.nothing_at_all") in text and "THAM DỰ: có 0, vắng 0, chưa trả lời 2." in text


async def test_wrong_answers_change_nothing(db: Database, tmp_path: Path) -> None:
    p = await make_province(db.sessions)
    engine = make_engine(db.sessions)
    v1, _, staff = await _people(db, engine, p)
    await v1.send("không", at=at(20, 10))  # no meeting yet: not an attendance answer
    assert t("common.not_understood") in v1.text
    await staff.send("/giaoban", at=at(20, 10))
    assert v1.text and t("auth.heads_only") in staff.text
    async with transaction(db.sessions) as s:
        from models.giaoban.meetings import schedule_meeting

        await schedule_meeting(s, p.communes[0], at(22, 8), "", at(20, 8))
    await v1.send("không", at=at(20, 10, 5))  # no reason: asked for one, nothing saved
    assert t("gb.attend.ask_reason") in v1.text
    await v1.send("/giaoban", at=at(20, 11))
    await v1.send("chưa biết")
    assert t("common.bad_yes_no") in v1.text
    await v1.send("có")
    await v1.send("2")
    await v1.send("ok")
    assert t("gb.report.too_short") in v1.text
    async with db.sessions() as s:
        assert await get_report(s, 1, p.village_ids[0]) is None
        assert timedelta(0) < (await s.get(GiaobanMeeting, 1)).starts_at - at(20, 11)  # type: ignore[union-attr]


async def test_a_task_reported_done_with_a_photo_alone(db: Database) -> None:
    p = await make_province(db.sessions)
    engine = make_engine(db.sessions)
    v1, _, _ = await _people(db, engine, p)
    async with transaction(db.sessions) as s:
        from models.giaoban.meetings import schedule_meeting

        m = await schedule_meeting(s, p.communes[0], at(24, 8), "", at(20, 8))
        await add_conclusion(s, m, "Sửa cống thoát nước", due=date(2024, 12, 27), village_ids=[p.village_ids[0]],
                             by="canbo1", now=at(24, 10), today=date(2024, 12, 24))
    await v1.send("/nhiemvu", at=at(25, 10))
    await v1.send("1")
    await v1.send(choice="done")
    assert t("gb.tasks.ask_note") in v1.text
    await v1.send(photo=IncomingPhoto(content=b"GIF89a"))  # not a photo it takes: said, still asked
    assert v1.text == t("photo.bad_type", mb=10)
    await v1.send(photo=IncomingPhoto(content=JPEG))
    assert v1.text == "\n".join([t("photo.saved_task", village="Thôn 1"),
                                 t("gb.tasks.done_saved", text="Sửa cống thoát nước")])
    async with db.sessions() as s:
        directive = (await s.execute(select(GiaobanDirective))).scalar_one()
        photo = (await s.execute(select(ReportPhoto.kind, ReportPhoto.ref_id))).one()
    assert directive.done_at is not None and directive.done_note is None
    assert tuple(photo) == ("task", directive.id)
