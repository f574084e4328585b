"""The giao ban briefing pack for a commune of 60 villages (reports, attendance, the campaign figures,
the chat text and the full text) against the bare query of its villages' reports and attendance (the
floor), on SQLite and PostgreSQL. Target: well under a second.

    python -m bench giaoban
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from bench.common import analyze, scratch, timed_pair
from models.db import SessionFactory, transaction
from models.election.reports import Actor, ElectionData, record_election
from models.giaoban.meetings import get_meeting, record_attendance, schedule_meeting
from models.giaoban.pack import build_pack
from models.giaoban.reports import save_report
from models.giaoban.rules import GiaobanRules
from models.giaoban.tables import FIELDS
from models.reminders.rules import Rules
from models.units.tree import add_unit
from reports.giaoban_text import render_pack

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2025, 3, 3, 2, tzinfo=UTC)
TODAY = date(2025, 3, 3)
RULES = Rules(election_date=date(2024, 12, 15))
VILLAGES, COMMUNES = 60, 8
FLOOR_SQL = text("""
SELECT v.id, v.code, v.full_name, r.answers, r.revision, a.attending, a.reason
FROM unit v
LEFT JOIN giaoban_report r ON r.village_id = v.id AND r.meeting_id = :m
LEFT JOIN giaoban_attendance a ON a.village_id = v.id AND a.meeting_id = :m
WHERE v.parent_id = :c AND v.level = 'village'
ORDER BY v.code
""")


async def _load(sessions: SessionFactory) -> tuple[int, int]:
    """A province of 8 communes × 60 villages; the first commune's meeting with 45 reports (5 urgent,
    8 requests, 3 sent whole), 50 attendance answers and 40 elections."""
    actor = Actor(None, "bench")
    async with transaction(sessions) as s:
        p = await add_unit(s, period="post2025", code="P", level="province", name="Tỉnh", parent=None,
                           full_name="Tỉnh Thử")
        communes, villages = [], []
        for c in range(COMMUNES):
            commune = await add_unit(s, period="post2025", code=f"C{c}", level="commune", name=f"Xã {c}", parent=p,
                                     type="xã", full_name=f"Xã Thử {c}")
            communes.append(commune)
            for v in range(VILLAGES):
                village = await add_unit(s, period="post2025", code=f"C{c}.{v:02d}", level="village",
                                         name=f"Thôn {v}", parent=commune, type="thôn", full_name=f"Thôn {v}")
                if c == 0:
                    villages.append(village)
        meeting = await schedule_meeting(s, communes[0], NOW + timedelta(days=1), "Hội trường", NOW - timedelta(days=5))
        opened = NOW - timedelta(hours=12)
        for i, village in enumerate(villages):
            assert village.id is not None
            if i < 40:
                await record_election(s, village.id, ElectionData(date(2024, 12, 15), "Nguyễn Văn An", 300, 350, 400,
                                                                  "member"), actor, opened, TODAY)
            if i < 50:
                await record_attendance(s, meeting, village.id, i % 7 != 0, "bận công tác" if i % 7 == 0 else None,
                                        None, "bench", opened)
            if i < 45:
                answers: dict[str, str] = ({"whole": "Tình hình ổn định. " * 30} if i >= 42 else
                                           {k: f"{k}: tình hình thôn {i} " * 6 for k in FIELDS})
                if i >= 5 and i < 42:
                    answers["urgent"] = ""
                if i >= 8 and i < 42:
                    answers["requests"] = ""
                await save_report(s, meeting, village.id, answers, actor, opened, GiaobanRules())
    assert meeting.id is not None and communes[0].id is not None
    return meeting.id, communes[0].id


async def _measure(kind: str, sessions: SessionFactory) -> None:
    meeting_id, commune_id = await _load(sessions)
    await analyze(sessions)

    async def floor() -> object:
        async with sessions() as s:
            return (await s.execute(FLOOR_SQL, {"m": meeting_id, "c": commune_id})).all()

    async def pack() -> tuple[str, str]:
        async with sessions() as s:
            view = await get_meeting(s, meeting_id)
            assert view is not None
            built = await build_pack(s, view, RULES, TODAY)
            return render_pack(built, TZ), render_pack(built, TZ, limit=None)

    chat, full = await pack()
    floor_s, pack_s = await timed_pair(floor, pack, repeat=15)
    print(f"{kind}: commune of {VILLAGES} villages — pack {pack_s * 1000:.1f} ms "
          f"(chat {len(chat)} chars, full {len(full)} chars), bare query {floor_s * 1000:.1f} ms, "
          f"ratio {pack_s / floor_s:.1f}×")


async def main() -> None:
    for kind in ("sqlite", "postgres"):
        async with scratch(kind) as sessions:
            if sessions is None:
                print(f"{kind}: PostgreSQL does not answer, skipped")
                continue
            await _measure(kind, sessions)
