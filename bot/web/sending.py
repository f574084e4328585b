"""When what a page queued will go: every page that makes the bot send something says when.

The giao ban messages are queued by the scheduler's sweep (``[giaoban] cron``, every 15 minutes by
default; read as crontab reads it, by the same ``models.crontab`` the scheduler fires on) and nothing
unprompted leaves in quiet hours (``[reminders] quiet_start``–``quiet_end``): a meeting scheduled at
02:50 has its invitations go at the first sweep after the quiet hours end, and the page says so
instead of leaving the clerk to wonder why nothing came."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.web.guard import Ctx
from bot.web.html import Html, tag
from models.clock import utcnow
from models.crontab import cron_trigger
from texts.catalog import t
from texts.fmt import fmt_time_date

MAX_STEPS = 10


def _after_quiet(ctx: Ctx, when: datetime) -> datetime:
    """``when``, or the end of the quiet hours it falls in."""
    rules, tz = ctx.rules, ctx.config.tz
    local = when.astimezone(tz)
    if not rules.is_quiet(local):
        return when
    end = local.replace(hour=rules.quiet_end.hour, minute=rules.quiet_end.minute, second=0, microsecond=0)
    return end if end >= local else end + timedelta(days=1)


def send_time(ctx: Ctx, earliest: datetime | None = None, *, swept: bool = True) -> tuple[datetime, bool]:
    """(when messages queued now — or due from ``earliest`` — will go, whether quiet hours hold them).
    ``swept``: they wait for the scheduler's next giao ban sweep (else the outbox drains them at once)."""
    now = utcnow()
    when = max(now, earliest or now)
    quiet = ctx.rules.is_quiet(when.astimezone(ctx.config.tz))
    trigger = cron_trigger(ctx.config.giaoban.cron, ctx.config.tz) if swept else None  # as the scheduler reads it
    for _ in range(MAX_STEPS):  # the next sweep that is not in quiet hours
        when = _after_quiet(ctx, when)
        if trigger is None:
            break
        fire = trigger.get_next_fire_time(None, when.astimezone(ctx.config.tz))
        if fire is None or not ctx.rules.is_quiet(fire):
            when = fire or when
            break
        when = fire
    return when, quiet


def when_note(ctx: Ctx, kind: str, earliest: datetime | None = None, *, swept: bool = True) -> Html:
    """"… sẽ được gửi lúc 07:00 ngày 08/12/2026" (with why, in quiet hours), as a paragraph."""
    when, quiet = send_time(ctx, earliest, swept=swept)
    rules = ctx.rules
    key = f"gb.web.when_{kind}_quiet" if quiet else f"gb.web.when_{kind}"
    return tag("p", t(key, when=fmt_time_date(when, ctx.config.tz), start=rules.quiet_start.strftime("%H:%M"),
                      end=rules.quiet_end.strftime("%H:%M")), class_="when-sent", id=f"when-{kind}")
