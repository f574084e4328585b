"""The reminder sweep: turn what is due today into outbox rows, repeat, escalate — idempotently.

Keys (one row per account):
- ``reminder:<rule>:<village_code>:<local date>:a<account_id>`` — at most one per rule, village and day;
- ``escalation:<commune_code>:<local date>:<digest>:a<account_id>`` — ONE message per commune and sweep,
  listing its villages escalated for the first time in their late episode (``digest``: of that list).
A village's episode is escalated once: an audit event (``escalation``, the village, the rule, the
episode's start) is written with the message and read back by later sweeps.
Running the sweep twice, or in two processes, enqueues nothing twice.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from models.accounts.tables import ChannelAccount, Person
from models.delivery.outbox import enqueue
from models.delivery.tables import OutboxMessage
from models.dialog.tables import ConversationState
from models.election.tables import AuditEvent
from models.reminders.rules import REPEATING, Due, Rules, due_today
from models.typed_sql import id_col
from models.units.tables import Unit, UnitAncestor

STAFF_ROLES = ("staff", "admin")


@dataclass(frozen=True, slots=True)
class Notice:
    """What to say: ``kind`` is ``reminder`` or ``escalation``; ``count`` the reminders sent so far,
    ``first`` the date of the first one (escalations say since when). An escalation lists the late
    villages of one commune (``unit``: its name) in ``villages``, each a Notice of its own."""

    kind: str
    due: Due
    count: int = 0
    first: date | None = None
    unit: str = ""
    villages: tuple[Notice, ...] = ()


Render = Callable[[Notice], str]


@dataclass(slots=True)
class SweepStats:
    quiet: bool = False
    due: int = 0
    reminders: int = 0
    escalations: int = 0
    busy: int = 0
    keys: list[str] = field(default_factory=list)


def episode_start(due: Due, rules: Rules) -> date:
    if due.rule == "probation":
        return due.since - timedelta(days=rules.probation_notice_days)
    return due.since


async def head_accounts(session: AsyncSession, period: str) -> dict[int, list[tuple[int, int]]]:
    """village id → [(person id, account id)] of its heads' reachable accounts."""
    rows = await session.execute(
        select(col(Person.unit_id), id_col(Person.id), id_col(ChannelAccount.id))
        .join(ChannelAccount, col(ChannelAccount.person_id) == Person.id).join(Unit, col(Unit.id) == Person.unit_id)
        .where(col(Person.role) == "village_head", col(Unit.period) == period, col(ChannelAccount.blocked).is_(False))
        .order_by(col(ChannelAccount.id)))
    out: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for village_id, person_id, account_id in rows.all():
        out[village_id].append((person_id, account_id))
    return out


async def busy_people(session: AsyncSession, now: datetime) -> set[int]:
    """People in the middle of a conversation (a live ``person:<id>`` state)."""
    rows = await session.execute(select(col(ConversationState.key)).where(
        col(ConversationState.key).like("person:%"), col(ConversationState.expires_at) > now))
    return {int(k.split(":", 1)[1]) for k in rows.scalars().all() if k.split(":", 1)[1].isdigit()}


async def reminder_history(session: AsyncSession, since: datetime) -> dict[tuple[int, str], set[date]]:
    """(village id, rule) → the local dates it was reminded on, from the outbox keys since ``since``."""
    rows = await session.execute(select(col(OutboxMessage.village_id), col(OutboxMessage.key)).where(
        col(OutboxMessage.kind) == "reminder", col(OutboxMessage.created_at) >= since))
    out: dict[tuple[int, str], set[date]] = defaultdict(set)
    for village_id, key in rows.all():
        parts = key.split(":")
        if village_id is not None and len(parts) >= 5:
            out[(village_id, parts[1])].add(date.fromisoformat(parts[-2]))
    return out


async def staff_accounts(session: AsyncSession, village_ids: Iterable[int]) -> dict[int, list[int]]:
    """village id → accounts of the staff of its nearest ancestor that has staff (the commune, usually)."""
    ids = list(village_ids)
    out: dict[int, list[int]] = {}
    for i in range(0, len(ids), 500):
        rows = await session.execute(
            select(col(UnitAncestor.descendant_id), col(UnitAncestor.distance), id_col(ChannelAccount.id))
            .join(Person, and_(col(Person.unit_id) == UnitAncestor.ancestor_id, col(Person.role).in_(STAFF_ROLES)))
            .join(ChannelAccount, col(ChannelAccount.person_id) == Person.id)
            .where(col(UnitAncestor.descendant_id).in_(ids[i:i + 500]), col(UnitAncestor.distance) > 0,
                   col(ChannelAccount.blocked).is_(False))
            .order_by(col(UnitAncestor.distance), col(ChannelAccount.id)))
        nearest: dict[int, int] = {}
        for vid, distance, account_id in rows.all():
            if nearest.setdefault(vid, distance) == distance:
                out.setdefault(vid, []).append(account_id)
    return out


def _utc_midnight(d: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, datetime.min.time(), tz)


async def sweep(session: AsyncSession, rules: Rules, *, period: str, now: datetime, tz: ZoneInfo,
                render: Render) -> SweepStats:
    """Enqueue today's reminders and escalations. Nothing in quiet hours; no reminder to a head who is
    in the middle of a conversation (the next sweep will find the village still due)."""
    local = now.astimezone(tz)
    today = local.date()
    stats = SweepStats()
    if rules.is_quiet(local):
        stats.quiet = True
        return stats
    dues = await due_today(session, rules, today, period=period)
    stats.due = len(dues)
    if not dues:
        return stats
    heads = await head_accounts(session, period)
    busy = await busy_people(session, now)
    start = min(episode_start(d, rules) for d in dues)
    history = await reminder_history(session, _utc_midnight(start, tz))
    escalate: list[tuple[Due, int, date | None]] = []
    for due in dues:
        dates = sorted(x for x in history.get((due.village_id, due.rule), ()) if x >= episode_start(due, rules))
        prior = [x for x in dates if x < today]
        accounts = heads.get(due.village_id, [])
        if due.rule in REPEATING:
            unreachable_for = (today - due.since).days >= rules.repeat_every_days * rules.escalate_after
            if len(prior) >= rules.escalate_after or (not accounts and unreachable_for):
                escalate.append((due, len(prior), dates[0] if dates else None))
            if dates and (today - dates[-1]).days < rules.repeat_every_days:
                continue
        if not accounts:
            continue
        if any(person_id in busy for person_id, _ in accounts):
            stats.busy += 1
            continue
        text = render(Notice("reminder", due, count=len(prior) + 1, first=dates[0] if dates else today))
        for _, account_id in accounts:
            key = f"reminder:{due.rule}:{due.village_code}:{today.isoformat()}:a{account_id}"
            if await enqueue(session, key=key, kind="reminder", account_id=account_id, text=text, now=now,
                             village_id=due.village_id):
                stats.reminders += 1
                stats.keys.append(key)
    if escalate:
        await _escalate(session, escalate, today, now, render, stats)
    return stats


async def _escalate(session: AsyncSession, escalate: list[tuple[Due, int, date | None]], today: date, now: datetime,
                    render: Render, stats: SweepStats) -> None:
    """One message per commune (and staff account) listing its villages not yet escalated in this episode;
    an audit event per village episode so that no later sweep lists it again."""
    ids = {d.village_id for d, _, _ in escalate}
    done = await escalated_episodes(session, ids)
    fresh = [(d, n, f) for d, n, f in escalate if (d.village_id, d.rule, d.since.isoformat()) not in done]
    if not fresh:
        return
    staff = await staff_accounts(session, ids)
    parents = await _parents(session, ids)
    groups: dict[tuple[int, int], list[Notice]] = defaultdict(list)
    for due, count, first in sorted(fresh, key=lambda x: (x[0].since, x[0].village_code)):
        for account_id in staff.get(due.village_id, []):
            groups[(parents[due.village_id][0], account_id)].append(Notice("escalation", due, count, first))
    told: set[tuple[int, str, date]] = set()
    for (_commune, account_id), notices in groups.items():
        _, code, name = parents[notices[0].due.village_id]
        listed = ",".join(f"{n.due.rule}:{n.due.village_code}:{n.due.since}" for n in notices)
        digest = hashlib.sha1(listed.encode()).hexdigest()[:10]
        key = f"escalation:{code}:{today.isoformat()}:{digest}:a{account_id}"
        text = render(Notice("escalation", notices[0].due, unit=name, villages=tuple(notices)))
        if await enqueue(session, key=key, kind="escalation", account_id=account_id, text=text, now=now):
            stats.escalations += 1
            stats.keys.append(key)
            told |= {(n.due.village_id, n.due.rule, n.due.since) for n in notices}
    await record_escalated(session, told, now)


ESCALATED = "escalation"  # the audit action of a village episode escalated to its commune


async def record_escalated(session: AsyncSession, told: Iterable[tuple[int, str, date]], now: datetime) -> None:
    """An audit event per (village, rule, episode date) escalated, read back by
    :func:`escalated_episodes` so that no later sweep escalates the episode again."""
    for village_id, rule, since in sorted(told, key=lambda x: (x[0], x[1], x[2])):
        session.add(AuditEvent(at=now, account_id=None, channel=None, action=ESCALATED, village_id=village_id,
                               field=rule, old=None, new=since.isoformat()))
    await session.flush()


async def escalated_episodes(session: AsyncSession, village_ids: Iterable[int]) -> set[tuple[int, str, str]]:
    """(village, rule, episode date as ISO text) already escalated."""
    ids = list(village_ids)
    out: set[tuple[int, str, str]] = set()
    for i in range(0, len(ids), 500):
        rows = await session.execute(select(col(AuditEvent.village_id), col(AuditEvent.field), col(AuditEvent.new))
                                     .where(col(AuditEvent.action) == ESCALATED,
                                            col(AuditEvent.village_id).in_(ids[i:i + 500])))
        out |= {(v, f or "", n or "") for v, f, n in rows.all() if v is not None}
    return out


async def _parents(session: AsyncSession, village_ids: Iterable[int]) -> dict[int, tuple[int, str, str]]:
    """village id → (its commune's id, code, full name)."""
    parent = aliased(Unit)
    ids = list(village_ids)
    out: dict[int, tuple[int, str, str]] = {}
    for i in range(0, len(ids), 500):
        rows = await session.execute(select(id_col(Unit.id), id_col(parent.id), col(parent.code),
                                            col(parent.full_name))
                                     .join(parent, col(parent.id) == Unit.parent_id)
                                     .where(col(Unit.id).in_(ids[i:i + 500])))
        out |= {vid: (pid, code, name) for vid, pid, code, name in rows.all()}
    return out
