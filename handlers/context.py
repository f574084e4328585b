"""What one step of a conversation sees: the session, the account, the time, the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.messages import Incoming, Reply
from models.accounts.tables import ChannelAccount, Person
from models.election.reports import Actor
from models.giaoban.rules import GiaobanRules
from models.reminders.rules import Rules
from models.units.tables import Unit

DEFAULT_ELECTION_DATE = date(2024, 12, 15)  # the campaign's, when the configuration names none


@dataclass(frozen=True, slots=True)
class Settings:
    """The parts of the configuration the conversations need (built by the composition root)."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))
    period: str = "post2025"
    conversation_timeout: timedelta = timedelta(days=3)
    max_message_chars: int = 4096  # Telegram's own limit: no message a head can send is refused
    campaign_election_date: date | None = None
    invite_valid_days: int = 30
    public_url: str | None = None  # where files can be downloaded from (links on Zalo)
    reminder_rules: Rules | None = None  # for /chamtre and /tonghop (late villages)
    giaoban: GiaobanRules = field(default_factory=GiaobanRules)  # /giaoban's report window
    reply_lease: timedelta = timedelta(seconds=60)  # a reply its channel did not confirm goes to the drain after
    term_months: int = 30  # a village head's term: 2.5 years (30 months) or 5 years (60), the province's choice
    offload_villages: int = 3000  # /xuatfile, /tonghop from this many villages up: built off the loop

    @property
    def rules(self) -> Rules:
        """The reminder rules (late villages for /chamtre, /tonghop and the pages): ``reminder_rules``
        when the composition root set them, else the defaults around the campaign's election date."""
        if self.reminder_rules is not None:
            return self.reminder_rules
        return Rules(election_date=self.campaign_election_date or DEFAULT_ELECTION_DATE)


@dataclass(slots=True)
class Context:
    session: AsyncSession
    incoming: Incoming
    account: ChannelAccount
    person: Person | None
    unit: Unit | None  # the bound village (heads) or scope unit (staff)
    now: datetime
    today: date
    settings: Settings
    replies: list[Reply] = field(default_factory=list)
    in_flow: bool = False  # a conversation is in progress (set by the engine)
    end_flow: bool = False  # a command asks the engine to drop the conversation in progress

    @property
    def actor(self) -> Actor:
        return Actor(account_id=self.account.id, channel=self.incoming.channel)

    @property
    def role(self) -> str | None:
        return self.person.role if self.person else None

    def say(self, text: str, **kwargs: Any) -> Reply:
        reply = Reply(text=text, **kwargs)
        self.replies.append(reply)
        return reply


@dataclass(slots=True)
class HeadContext(Context):
    """A village account's step: the village is known (the engine builds this for a bound head, and for
    a branch secretary who is not the head: the giao ban's commands are theirs)."""

    unit: Unit
    village_id: int = field(kw_only=True)


@dataclass(slots=True)
class StaffContext(Context):
    """A commune or province staff member's step: the scope unit is known."""

    unit: Unit
    scope_id: int = field(kw_only=True)


def context_for(*, session: AsyncSession, incoming: Incoming, account: ChannelAccount, person: Person | None,
                unit: Unit | None, now: datetime, today: date, settings: Settings) -> Context:
    """The context of a step, as narrow as the account's role allows: a village account's names the village,
    a staff member's the scope unit."""
    role = person.role if person is not None else None
    if unit is not None and unit.id is not None and role in ("village_head", "village_secretary"):
        return HeadContext(session, incoming, account, person, unit, now, today, settings, village_id=unit.id)
    if unit is not None and unit.id is not None and role in ("staff", "admin"):
        return StaffContext(session, incoming, account, person, unit, now, today, settings, scope_id=unit.id)
    return Context(session, incoming, account, person, unit, now, today, settings)


def as_head(ctx: Context) -> HeadContext | None:
    return ctx if isinstance(ctx, HeadContext) else None


def as_staff(ctx: Context) -> StaffContext | None:
    return ctx if isinstance(ctx, StaffContext) else None
