"""A giao ban round in the demo, dated from today: the first demo commune meets on the first Monday of
each month; its meeting two weeks ago left conclusions and tasks (acknowledged, some done; the web chat's
demo heads' still open, to try ``/nhiemvu``), and the
next one, in two days, already has most villages' situation reports (one sent as a single message with
an urgent matter inside it), attendance answers and two photos.

Written through the domain functions (``add_schedule``, ``schedule_meeting``, ``save_report``,
``record_attendance``, ``add_conclusion``, ``acknowledge``, ``report_done``, ``save_photo``), so the
pages, the pack and the scheduler see it as they would see a real round. Deterministic.
"""

from __future__ import annotations

import struct
import zlib
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.election.reports import Actor
from models.giaoban.meetings import add_schedule, record_attendance, schedule_meeting
from models.giaoban.reports import WHOLE, save_report
from models.giaoban.rules import GiaobanRules
from models.giaoban.tables import GiaobanDirective
from models.giaoban.tasks import acknowledge, add_conclusion, report_done, villages_of
from models.photos.image import reencode
from models.photos.store import save_photo
from models.units.tables import Unit

PLACE = "Hội trường Đảng ủy xã"
URGENT_REPORTS = (  # the demo heads' villages: an urgent matter asked for, and one inside a single message
    {"economy": "Thu hoạch xong lúa mùa, năng suất khoảng 52 tạ/ha; 3 hộ đăng ký chuyển đổi sang trồng quế.",
     "culture": "Tổ chức ngày hội đại đoàn kết toàn dân tộc; 96% hộ đạt gia đình văn hóa.",
     "security": "Tình hình ổn định; tổ tự quản tuần tra đêm đủ quân số.",
     "party": "Chi bộ sinh hoạt định kỳ đúng kỳ; kết nạp 1 đảng viên mới.",
     "urgent": "Sạt lở taluy đường liên thôn đoạn qua nhà ông Lục Văn Sơn, khoảng 15 m³ đất đá, xe máy đi lại khó.",
     "requests": "Đề nghị xã hỗ trợ máy xúc san gạt và biển cảnh báo."},
    {WHOLE: "Kinh tế: đang chuẩn bị trồng rừng vụ xuân, đã ươm 12.000 cây keo. Văn hóa: nhà văn hóa thôn đã sửa "
            "xong mái. Khẩn: đêm 3 rạng sáng 4 có cháy rừng nhỏ ở khu đồi Khe Mọi, đã dập tắt, cần xã cử kiểm "
            "lâm xác minh. Chi bộ: họp đủ 14/15 đảng viên."},
)
REPORTS = (  # the other villages: ordinary reports, a few requests
    {"economy": "Mô hình nuôi gà đồi 5 hộ cho thu nhập ổn định.", "culture": "", "security": "",
     "party": "Chuẩn bị hồ sơ đề nghị công nhận đảng viên chính thức cho 1 đồng chí.",
     "urgent": "", "requests": "Xin 20 bao xi măng làm đoạn đường bê tông ngõ xóm."},
    {"economy": "", "culture": "Đội văn nghệ tập luyện chuẩn bị hội diễn của xã.", "security": "", "party": "",
     "urgent": "", "requests": ""},
    {"economy": "Trồng mới 4 ha rừng keo.", "culture": "", "security": "Ổn định.",
     "party": "Sinh hoạt chi bộ đúng kỳ.", "urgent": "", "requests": ""},
    {"economy": "", "culture": "", "security": "Tổ an ninh tự quản tuần tra 2 buổi/tuần.", "party": "",
     "urgent": "", "requests": "Đề nghị sửa đèn chiếu sáng đường trục thôn."},
    {"economy": "Hợp tác xã thu mua 6 tấn quế vỏ.", "culture": "Khai trương thư viện nhỏ tại nhà văn hóa.",
     "security": "", "party": "", "urgent": "", "requests": ""},
)
CONCLUSIONS = (
    ("Các chi bộ rà soát, cập nhật danh sách hộ nghèo, cận nghèo và báo cáo kết quả về Văn phòng Đảng ủy xã.", 10),
    ("Tăng cường tuần tra, canh gác phòng chống cháy rừng mùa hanh khô.", None),
    ("Thôn có đoạn đường sạt lở cắm biển cảnh báo và báo cáo khối lượng cần khắc phục.", 3),
)


def demo_photo(shade: int) -> bytes:
    """A small PNG (a slope under a sky), so the demo's reports carry real photos."""
    width, height = 160, 120
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            ground = y > height // 3 + (x * (shade % 3 + 1)) // 8
            row += bytes((120 + shade, 85, 40) if ground else (150, 190, 230))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows)))
            + chunk(b"IEND", b""))


async def seed_giaoban_demo(session: AsyncSession, commune: Unit, now: datetime, tz: ZoneInfo) -> int | None:
    """The round for ``commune``; returns the id of its next meeting (None when it has under 2 villages)."""
    villages = [v for v in await villages_of(session, commune.id or 0) if v.id is not None]
    if commune.id is None or len(villages) < 2:
        return None
    schedule = await add_schedule(session, commune, "monthly_nth", "08:00", PLACE, now, weekday=0, nth=1)
    today = now.astimezone(tz).date()
    past = await schedule_meeting(session, commune, datetime.combine(today - timedelta(days=14), time(8), tz),
                                  PLACE, now - timedelta(days=16), schedule_id=schedule.id)
    upcoming = await schedule_meeting(session, commune, datetime.combine(today + timedelta(days=2), time(8), tz),
                                      PLACE, now - timedelta(days=5))
    head = Actor(account_id=None, channel="zalo")
    for i, (text, due_days) in enumerate(CONCLUSIONS):
        targets = None if i < 2 else [v.id or 0 for v in villages[:1]]
        conclusion = await add_conclusion(
            session, past, text, due=today + timedelta(days=due_days) if due_days else None,
            village_ids=targets, by="canbo1", now=past.starts_at + timedelta(hours=3), today=today - timedelta(days=14))
        for n, village in enumerate(villages if targets is None else villages[:1]):
            if n < 2 or n % 3 == 2 or conclusion.id is None:
                continue  # every third village has not acknowledged yet, nor have the demo heads' (to try /nhiemvu)
            directive_id = await _directive_id(session, conclusion.id, village.id or 0)
            at = past.starts_at + timedelta(days=1, hours=n % 5)
            if conclusion.is_task and n % 2 == 0:
                await report_done(session, directive_id, village.id or 0, "Đã thực hiện xong.", head, at)
            else:
                await acknowledge(session, directive_id, village.id or 0, head, at)
    rules = GiaobanRules()
    for n, village in enumerate(villages):
        assert village.id is not None
        if n % 5 == 4:
            continue  # a few villages have not reported yet
        answers = URGENT_REPORTS[n] if n < len(URGENT_REPORTS) else REPORTS[n % len(REPORTS)]
        await save_report(session, upcoming, village.id, answers, head, now - timedelta(hours=n % 20 + 1), rules)
        if n in (0, 3):
            await save_photo(session, village.id, "giaoban", reencode(demo_photo(n)), None, "zalo",
                             now - timedelta(hours=n % 20 + 1), ref_id=upcoming.id)
    for n, village in enumerate(villages[:-1]):
        await record_attendance(session, upcoming, village.id or 0, n % 6 != 5,
                                None if n % 6 != 5 else "Bận đi tập huấn ở huyện", None, "zalo",
                                now - timedelta(hours=n % 10 + 1))
    return upcoming.id


async def _directive_id(session: AsyncSession, conclusion_id: int, village_id: int) -> int:
    found = (await session.execute(select(col(GiaobanDirective.id)).where(
        col(GiaobanDirective.conclusion_id) == conclusion_id, col(GiaobanDirective.village_id) == village_id))
    ).scalar_one()
    assert found is not None
    return found
