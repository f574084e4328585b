"""The giao ban sweep: derive from the data what the loop must send now, and enqueue it — idempotently.

Village notices go to whoever answers for the village in the loop: the branch secretary
(``models.giaoban.people``).

Keys (one row per account; ``<m>`` meeting id, ``<v>`` village code, ``<c>`` conclusion id):
``giaoban:invite:<m>:<v>:a<acc>``, ``giaoban:attend_remind:<m>:<v>:a<acc>`` (the day before, unanswered),
``giaoban:open:<m>:<v>:a<acc>`` (the report window opened), ``giaoban:report_remind:<m>:<v>:<date>:a<acc>``,
``giaoban:late:<m>:a<staff>`` (who has not reported, the day before), ``giaoban:pack:<m>:a<staff>``,
``giaoban:directive:<c>:<v>:a<acc>``, ``giaoban:ack_remind:<c>:<v>:<date>:a<acc>``,
``giaoban:ack_escalate:<c>:<v>:a<staff>``, ``giaoban:overdue:<c>:<v>:<date>:a<acc>``,
``giaoban:overdue_escalate:<c>:<v>:a<staff>``. Two schedulers or a rerun enqueue nothing twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.accounts.tables import ChannelAccount, Person
from models.delivery.outbox import enqueue
from models.giaoban.meetings import MeetingView, materialise
from models.giaoban.pack import VillageLine, pack_lines
from models.giaoban.people import GiaobanContact, giaoban_contacts
from models.giaoban.rules import GiaobanRules
from models.giaoban.tables import GiaobanConclusion, GiaobanDirective, GiaobanMeeting
from models.typed_sql import id_col
from models.units.tables import Unit, UnitAncestor

HEAD_KIND, STAFF_KIND = "giaoban", "giaoban_staff"  # outbox kinds (held in quiet hours)


@dataclass(frozen=True, slots=True)
class GbNotice:
    """What to say: ``kind`` (the key's second part), about a meeting or a conclusion, to a village or staff."""

    kind: str
    commune: Unit
    meeting: GiaobanMeeting
    village: Unit | None = None
    conclusion: GiaobanConclusion | None = None
    villages: Sequence[Unit] = ()  # the villages a staff notice lists
    contact: GiaobanContact | None = None  # who a village notice goes to (models/giaoban/people.py)


Render = Callable[[GbNotice], str]
PackText = Callable[[AsyncSession, MeetingView], Awaitable[str]]


@dataclass(slots=True)
class GbStats:
    keys: list[str] = field(default_factory=list)
    meetings: int = 0
    created: int = 0


async def commune_staff(session: AsyncSession, commune_id: int) -> list[int]:
    """The accounts of the commune's staff, or of the nearest unit above it that has staff."""
    rows = await session.execute(
        select(col(UnitAncestor.distance), id_col(ChannelAccount.id))
        .join(Person, and_(col(Person.unit_id) == UnitAncestor.ancestor_id, col(Person.role).in_(("staff", "admin"))))
        .join(ChannelAccount, col(ChannelAccount.person_id) == Person.id)
        .where(col(UnitAncestor.descendant_id) == commune_id, col(ChannelAccount.blocked).is_(False))
        .order_by(col(UnitAncestor.distance), col(ChannelAccount.id)))
    found = rows.all()
    return [aid for distance, aid in found if distance == found[0][0]] if found else []


class _Out:
    def __init__(self, session: AsyncSession, now: datetime, stats: GbStats) -> None:
        self.session, self.now, self.stats = session, now, stats

    async def send(self, key: str, kind: str, accounts: Sequence[int], text: Callable[[], str],
                   village_id: int | None = None) -> None:
        body: str | None = None
        for aid in accounts:
            body = body if body is not None else text()
            if await enqueue(self.session, key=f"{key}:a{aid}", kind=kind, account_id=aid, text=body, now=self.now,
                             village_id=village_id):
                self.stats.keys.append(f"{key}:a{aid}")


async def sweep(session: AsyncSession, rules: GiaobanRules, *, now: datetime, tz: ZoneInfo, render: Render,
                pack_text: PackText, quiet: bool = False) -> GbStats:
    """Enqueue everything of the loop that is due at ``now`` (nothing in quiet hours)."""
    stats = GbStats()
    stats.created = await materialise(session, rules, now, tz)
    if quiet:
        return stats
    out = _Out(session, now, stats)
    meetings = (await session.execute(
        select(GiaobanMeeting, Unit).join(Unit, col(Unit.id) == GiaobanMeeting.commune_id)
        .where(col(GiaobanMeeting.starts_at) > now, col(GiaobanMeeting.cancelled).is_(False),
               col(GiaobanMeeting.starts_at) <= now + timedelta(days=rules.invite_days_before))
        .order_by(col(GiaobanMeeting.starts_at)))).all()
    for meeting, commune in meetings:
        stats.meetings += 1
        await _meeting(session, out, rules, MeetingView(meeting, commune), now, tz, render, pack_text)
    await _directives(session, out, rules, now.astimezone(tz).date(), tz, render)
    return stats


async def _meeting(session: AsyncSession, out: _Out, rules: GiaobanRules, view: MeetingView, now: datetime,
                   tz: ZoneInfo, render: Render, pack_text: PackText) -> None:
    m, commune = view.meeting, view.commune
    assert m.id is not None and commune.id is not None
    lines = await pack_lines(session, m.id, commune.id)
    contacts = await giaoban_contacts(session, [ln.village.id for ln in lines if ln.village.id is not None])
    today = now.astimezone(tz).date()
    day_before = m.starts_at.astimezone(tz).date() - timedelta(days=1)
    opened = max(rules.window_opens(m.starts_at), m.created_at)
    in_window = rules.window_opens(m.starts_at) <= now

    def notice(kind: str, line: VillageLine | None = None, villages: Sequence[Unit] = ()) -> Callable[[], str]:
        contact = contacts.get(line.village.id or 0) if line else None
        return lambda: render(GbNotice(kind, commune, m, line.village if line else None, villages=villages,
                                       contact=contact))

    for line in lines:
        v = line.village
        found = contacts.get(v.id or 0)
        accounts = found.accounts if found else []
        if not accounts:
            continue
        base = f"{m.id}:{v.code}"
        await out.send(f"giaoban:invite:{base}", HEAD_KIND, accounts, notice("invite", line), v.id)
        if line.attendance is None and today == day_before and m.created_at.astimezone(tz).date() < day_before:
            await out.send(f"giaoban:attend_remind:{base}", HEAD_KIND, accounts, notice("attend_remind", line), v.id)
        if in_window and line.report is None:
            await out.send(f"giaoban:open:{base}", HEAD_KIND, accounts, notice("open", line), v.id)
            if today > opened.astimezone(tz).date():
                await out.send(f"giaoban:report_remind:{base}:{today.isoformat()}", HEAD_KIND, accounts,
                               notice("report_remind", line), v.id)
    missing = [ln.village for ln in lines if ln.report is None]
    staff: list[int] | None = None
    if missing and today >= day_before:
        staff = await commune_staff(session, commune.id)
        await out.send(f"giaoban:late:{m.id}", STAFF_KIND, staff, notice("late", villages=missing))
    if now >= rules.pack_at(m.starts_at, tz):
        staff = staff if staff is not None else await commune_staff(session, commune.id)
        text: str | None = await pack_text(session, view) if staff else None
        await out.send(f"giaoban:pack:{m.id}", STAFF_KIND, staff, lambda: text or "")


async def _directives(session: AsyncSession, out: _Out, rules: GiaobanRules, today: date, tz: ZoneInfo,
                      render: Render) -> None:
    d, c = GiaobanDirective, GiaobanConclusion
    rows = (await session.execute(
        select(d, c, GiaobanMeeting, Unit).join(c, col(c.id) == d.conclusion_id)
        .join(GiaobanMeeting, col(GiaobanMeeting.id) == c.meeting_id).join(Unit, col(Unit.id) == d.village_id)
        .where((col(d.acknowledged_at).is_(None)) | (col(c.is_task) & col(d.done_at).is_(None)))
        .order_by(col(d.id)))).all()
    if not rows:
        return
    contacts = await giaoban_contacts(session, sorted({v.id for *_, v in rows if v.id is not None}))
    communes: dict[int, Unit | None] = {}
    staff: dict[int, list[int]] = {}
    for directive, conclusion, meeting, village in rows:
        if meeting.commune_id not in communes:
            communes[meeting.commune_id] = await session.get(Unit, meeting.commune_id)
            staff[meeting.commune_id] = await commune_staff(session, meeting.commune_id)
        commune = communes[meeting.commune_id]
        assert commune is not None

        def say(kind: str, commune: Unit = commune, meeting: GiaobanMeeting = meeting, village: Unit = village,
                conclusion: GiaobanConclusion = conclusion) -> Callable[[], str]:
            return partial(render, GbNotice(kind, commune, meeting, village, conclusion))

        contact = contacts.get(village.id or 0)
        accounts, to_staff = contact.accounts if contact else [], staff[meeting.commune_id]
        base = f"{conclusion.id}:{village.code}"
        await out.send(f"giaoban:directive:{base}", HEAD_KIND, accounts, say("directive"), village.id)
        age = (today - conclusion.created_at.astimezone(tz).date()).days
        if directive.acknowledged_at is None and age >= rules.ack_remind_days:
            if (age - rules.ack_remind_days) % rules.repeat_every_days == 0:
                await out.send(f"giaoban:ack_remind:{base}:{today.isoformat()}", HEAD_KIND, accounts,
                               say("ack_remind"), village.id)
            if age >= rules.escalate_after_days:
                await out.send(f"giaoban:ack_escalate:{base}", STAFF_KIND, to_staff, say("ack_escalate"), village.id)
        due = conclusion.due_date
        if conclusion.is_task and directive.done_at is None and due is not None and today > due:
            over = (today - due).days
            if (over - 1) % rules.repeat_every_days == 0:
                await out.send(f"giaoban:overdue:{base}:{today.isoformat()}", HEAD_KIND, accounts, say("overdue"),
                               village.id)
            if over >= rules.escalate_after_days:
                await out.send(f"giaoban:overdue_escalate:{base}", STAFF_KIND, to_staff, say("overdue_escalate"),
                               village.id)
