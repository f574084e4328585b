"""The briefing pack of a giao ban meeting: who reported, urgent matters, requests, attendance, and the
campaign figures (the digest's). Two queries for the villages plus the digest's own."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.giaoban.meetings import MeetingView
from models.giaoban.reports import WHOLE
from models.giaoban.tables import GiaobanAttendance, GiaobanReport
from models.photos.store import photo_ids_by
from models.progress.digest import DigestFigures, compute
from models.reminders.rules import Rules
from models.units.tables import Unit
from texts.catalog import fold


@dataclass(frozen=True, slots=True)
class VillageLine:
    village: Unit
    report: GiaobanReport | None
    attendance: GiaobanAttendance | None
    photos: tuple[int, ...] = ()  # ids of report_photo rows sent with the report

    def answer(self, key: str) -> str:
        return str(self.report.answers.get(key) or "") if self.report else ""


# words that mark an urgent matter inside a report sent as one message (compared without diacritics;
# "gấp" with them, as "gặp" folds the same)
URGENT_MARKERS = ("khan", "noi com", "sat lo", "chay", "lu quet", "ngap", "dich benh", "tai nan",
                  "mat an ninh", "phuc tap", "tranh chap", "khieu kien")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


def urgent_in(text: str) -> list[str]:
    """The sentences of a one-message report that speak of an urgent matter ("Khẩn: …", a landslide, a
    fire, a flood …), in order; a "Khẩn:"/"Gấp:" label is left out of the sentence."""
    found = []
    for sentence in _SENTENCE.split(text):
        folded = fold(sentence)
        if any(re.search(rf"\b{m}\b", folded) for m in URGENT_MARKERS) or re.search(r"\bgấp\b", sentence.lower()):
            found.append(re.sub(r"^\s*(khẩn|gấp|việc nổi cộm)\s*:\s*", "", sentence.strip(), flags=re.I))
    return found


@dataclass(frozen=True, slots=True)
class UrgentItem:
    line: VillageLine
    text: str
    found: bool  # found inside a one-message report (not answered to the "urgent" question)


@dataclass(slots=True)
class Pack:
    view: MeetingView
    lines: list[VillageLine] = field(default_factory=list)
    figures: DigestFigures | None = None

    @property
    def reported(self) -> list[VillageLine]:
        return [v for v in self.lines if v.report is not None]

    @property
    def missing(self) -> list[VillageLine]:
        return [v for v in self.lines if v.report is None]

    @property
    def urgent(self) -> list[VillageLine]:
        return [v for v in self.lines if v.answer("urgent")]

    @property
    def urgent_items(self) -> list[UrgentItem]:
        """Every urgent matter: those reported as such, then those found in one-message reports."""
        asked = [UrgentItem(v, v.answer("urgent"), False) for v in self.urgent]
        return asked + [UrgentItem(v, s, True) for v in self.whole for s in urgent_in(v.answer(WHOLE))]

    @property
    def requests(self) -> list[VillageLine]:
        return [v for v in self.lines if v.answer("requests")]

    @property
    def whole(self) -> list[VillageLine]:
        return [v for v in self.lines if v.answer(WHOLE)]

    def attendance(self, attending: bool | None) -> list[VillageLine]:
        if attending is None:
            return [v for v in self.lines if v.attendance is None]
        return [v for v in self.lines if v.attendance is not None and v.attendance.attending == attending]


async def pack_lines(session: AsyncSession, meeting_id: int, commune_id: int) -> list[VillageLine]:
    """Every village of the commune with its report and attendance for the meeting, by code."""
    r, a = GiaobanReport, GiaobanAttendance
    rows = await session.execute(
        select(Unit, r, a).outerjoin(r, and_(col(r.village_id) == Unit.id, col(r.meeting_id) == meeting_id))
        .outerjoin(a, and_(col(a.village_id) == Unit.id, col(a.meeting_id) == meeting_id))
        .where(col(Unit.parent_id) == commune_id, col(Unit.level) == "village").order_by(col(Unit.code)))
    found = rows.all()
    photos = await photo_ids_by(session, "giaoban", [meeting_id], [u.id for u, _r, _a in found if u.id is not None])
    return [VillageLine(u, rep, att, tuple(photos.get((meeting_id, u.id or 0), ()))) for u, rep, att in found]


async def build_pack(session: AsyncSession, view: MeetingView, rules: Rules, today: date) -> Pack:
    assert view.meeting.id is not None and view.commune.id is not None
    lines = await pack_lines(session, view.meeting.id, view.commune.id)
    return Pack(view, lines, await compute(session, view.commune, rules, today, late_limit=5))
