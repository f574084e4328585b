"""The giao ban loop's texts: the scheduler's notices and the briefing pack (chat message, CLI, web).

The pack as a chat message fits one Telegram message (4,096 characters; Zalo splits at 2,000 on line
boundaries itself): urgent matters first, then requests, attendance, the campaign figures, then the
field-by-field reports while room is left, and a link to the whole pack.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from models.giaoban.meetings import MeetingView
from models.giaoban.pack import Pack, VillageLine, build_pack
from models.giaoban.reports import WHOLE
from models.giaoban.sweep import GbNotice, PackText, Render
from models.giaoban.tables import FIELDS, GiaobanMeeting
from models.reminders.rules import Rules
from reports.digest_text import TELEGRAM_LIMIT
from texts.catalog import t
from texts.fmt import fmt_date, fmt_time_date, pct

FIELD_LIMIT = 300  # characters of one answer in the chat pack (the page and the XLSX show all)


def when(meeting: GiaobanMeeting, tz: ZoneInfo) -> str:
    return fmt_time_date(meeting.starts_at, tz)


def place(meeting: GiaobanMeeting) -> str:
    return t("gb.notice.place", place=meeting.place) if meeting.place else ""


def render_notice(n: GbNotice, tz: ZoneInfo) -> str:
    fill = {"commune": n.commune.full_name or n.commune.name, "when": when(n.meeting, tz), "place": place(n.meeting),
            "village": n.village.full_name if n.village else ""}
    if n.kind == "invite":
        contact = n.contact
        addr = t("gb.address.member" if contact is None or contact.party_member else "gb.address.non_member")
        fill["invited"] = t(f"gb.invited.{contact.as_ if contact else 'secretary'}", addr=addr, **fill)
    if n.kind == "late":
        names = ", ".join(t("gb.notice.village_code", village=v.full_name or v.name, code=v.code) for v in n.villages)
        return t("gb.notice.late", n=len(n.villages), villages=names, **fill)
    c = n.conclusion
    if c is not None:
        fill |= {"text": c.text, "date": fmt_date(n.meeting.starts_at.astimezone(tz).date()),
                 "due": fmt_date(c.due_date)}
        if n.kind == "directive":
            head = t("gb.notice.directive_task" if c.is_task else "gb.notice.directive", **fill)
            return head + "\n" + t("gb.notice.directive_ask")
    return t(f"gb.notice.{n.kind}", **fill)


def renderer(tz: ZoneInfo) -> Render:
    return lambda notice: render_notice(notice, tz)


def _short(text: str, limit: int | None) -> str:
    text = " ".join(text.split())
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def _name(line: VillageLine) -> str:
    return line.village.full_name or line.village.name


def _photos(line: VillageLine, link: str | None) -> str:
    refs = line.photos
    if not refs:
        return ""
    base = (link or "").split("/giaoban/m/", 1)[0]  # the server, from the pack's own link
    return t("gb.pack.photos", links=", ".join(f"{base}/photo/{r}" for r in refs))


def pack_blocks(pack: Pack, tz: ZoneInfo, clip: int | None = FIELD_LIMIT, link: str | None = None) -> list[list[str]]:
    """The pack as blocks of lines, most important first."""
    m, commune = pack.view.meeting, pack.view.commune
    head = [t("gb.pack.title", commune=commune.full_name or commune.name),
            t("gb.pack.when", when=when(m, tz), place=place(m)),
            t("gb.pack.reported", n=len(pack.reported), total=len(pack.lines))]
    if pack.missing:
        head.append(t("gb.pack.missing", n=len(pack.missing), villages=", ".join(_name(v) for v in pack.missing)))
    blocks = [head]
    if pack.urgent:
        blocks.append([t("gb.pack.urgent_head", n=len(pack.urgent)), *(
            t("gb.pack.urgent_line", village=_name(v), text=_short(v.answer("urgent"), clip)) + _photos(v, link)
            for v in pack.urgent)])
    if pack.requests:
        blocks.append([t("gb.pack.requests_head", n=len(pack.requests)), *(
            t("gb.pack.requests_line", village=_name(v), text=_short(v.answer("requests"), clip))
            for v in pack.requests)])
    if not pack.urgent and not pack.requests:
        blocks.append([t("gb.pack.nothing_at_all")])
    if pack.whole:
        blocks.append([t("gb.pack.whole_head", n=len(pack.whole)), *(
            t("gb.pack.urgent_line", village=_name(v), text=_short(v.answer(WHOLE), clip)) for v in pack.whole)])
    absent = pack.attendance(False)
    blocks.append([t("gb.pack.attendance_head", yes=len(pack.attendance(True)), no=len(absent),
                     none=len(pack.attendance(None))),
                   *(t("gb.pack.absent_line", village=_name(v), reason=v.attendance.reason or "")
                     for v in absent if v.attendance is not None),
                   *(t("gb.deputy.pack_line", village=_name(v), deputy=v.attendance.deputy)
                     for v in pack.attendance(True) if v.attendance is not None and v.attendance.deputy)])
    f = pack.figures
    if f is not None and f.villages:
        blocks.append([t("gb.pack.campaign_head"),
                       t("digest.elected", n=f.elected, total=f.villages, pct=pct(f.elected, f.villages)),
                       t("digest.congress", planned=f.planned, held=f.held, overdue=f.overdue),
                       t("digest.merged", n=f.merged, total=f.villages, pct=pct(f.merged, f.villages))])
    detail = [t("gb.pack.fields_head")]
    for v in pack.reported:
        if v.answer(WHOLE):
            continue
        detail.append(t("gb.pack.village_head", village=_name(v)))
        detail += [t("gb.pack.field_line", field=t(f"gb.field.{k}"),
                     text=_short(v.answer(k), clip) or t("gb.report.nothing_shown"))
                   for k in FIELDS if k not in ("urgent", "requests")]
    if len(detail) > 1:
        blocks.append(detail)
    return blocks


def render_pack(pack: Pack, tz: ZoneInfo, *, limit: int | None = TELEGRAM_LIMIT, link: str | None = None) -> str:
    """The pack as text; with ``limit``, as many lines as fit, then a link to the whole pack."""
    blocks = pack_blocks(pack, tz, clip=FIELD_LIMIT if limit else None, link=link)
    if limit is None:
        return "\n\n".join("\n".join(b) for b in blocks)
    more = t("gb.pack.more", link=link) if link else t("gb.pack.more_no_link")
    page = "\n\n" + t("gb.pack.page", link=link) if link else ""
    room = max(len(more), len(page))  # kept for the last line: "… the rest", or the page's link
    out: list[str] = []
    used = 0
    for block in blocks:
        for i, line in enumerate(block):
            sep = 2 if i == 0 and out else 1
            if used + sep + len(line) + 1 + room > limit:
                return ("\n".join(out) + "\n" + more)[:limit]
            out.append(("\n" if i == 0 and out else "") + line)
            used += sep + len(line)
    return "\n".join(out) + page


def pack_texter(rules: Rules, tz: ZoneInfo, today: date, base_url: str | None) -> PackText:
    """The sweep's ``pack_text`` callback: the chat pack, with a link to the page when the server is known."""
    async def text(session: AsyncSession, view: MeetingView) -> str:
        pack = await build_pack(session, view, rules, today)
        link = f"{base_url.rstrip('/')}/giaoban/m/{view.meeting.id}" if base_url else None
        return render_pack(pack, tz, link=link)

    return text
