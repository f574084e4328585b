"""Binding an account with a one-time invite: ``/start CODE`` or the code typed as a first message."""

from __future__ import annotations

import re
from datetime import timedelta

from handlers.context import Context
from handlers.parsing import parse_phone
from models.accounts.people import CODE_ALPHABET, CODE_LENGTHS, InviteError, normalise_code, redeem_invite
from models.accounts.throttle import Limit, record_failure, wait_left
from models.units.tables import Unit
from texts.catalog import t

CODE_RE = re.compile(rf"^[{CODE_ALPHABET}]{{{min(CODE_LENGTHS)},{max(CODE_LENGTHS)}}}$")
# wrong codes: per account, and all accounts together (web-chat accounts cost nothing to make)
INVITE_PER_ACCOUNT = Limit("invite", 5, timedelta(minutes=15))
INVITE_OVERALL = Limit("invite_all", 100, timedelta(hours=1))
OVERALL_KEY = "all"


def looks_like_code(text: str) -> bool:
    return bool(CODE_RE.match(normalise_code(text)))


async def _throttled(ctx: Context) -> bool:
    """Too many wrong codes lately (this account's, or everybody's): say so and try nothing."""
    account_key = f"{ctx.incoming.channel}:{ctx.account.id}"
    waits = [await wait_left(ctx.session, INVITE_PER_ACCOUNT, account_key, ctx.now),
             await wait_left(ctx.session, INVITE_OVERALL, OVERALL_KEY, ctx.now)]
    longest = max((w for w in waits if w is not None), default=None)
    if longest is None:
        return False
    ctx.say(t("bind.throttled", minutes=max(1, -(-int(longest.total_seconds()) // 60))))
    return True


async def redeem(ctx: Context, code: str) -> bool:
    """Bind the account with ``code``; False (and the reason said) when the code is refused.
    Wrong codes are counted in the database (so the count holds across workers and restarts)."""
    if await _throttled(ctx):
        return False
    try:
        person = await redeem_invite(ctx.session, ctx.account, code, ctx.now)
    except InviteError as exc:
        await record_failure(ctx.session, INVITE_PER_ACCOUNT, f"{ctx.incoming.channel}:{ctx.account.id}", ctx.now)
        await record_failure(ctx.session, INVITE_OVERALL, OVERALL_KEY, ctx.now)
        ctx.say(t(f"bind.error_{exc.reason}"))
        return False
    unit = await ctx.session.get(Unit, person.unit_id)
    ctx.person, ctx.unit = person, unit
    name = unit.full_name if unit is not None else ""  # (a person's unit is a foreign key: always found)
    if person.role == "village_head":
        ctx.say(t("bind.ok_head", village=name))
    else:
        ctx.say(t("bind.ok_staff", unit=name))
    return True


def welcome(ctx: Context) -> None:
    if ctx.person is None or ctx.unit is None:
        ctx.say(t("bind.welcome_unbound"))
    else:
        ctx.say(t("bind.welcome_back", unit=ctx.unit.full_name))


async def unbound_message(ctx: Context, text: str) -> bool:
    """An unbound account wrote something: a code binds it (True), anything else gets the how-to."""
    if looks_like_code(text):
        return await redeem(ctx, text)
    ctx.say(t("bind.how_to"))
    return False


async def save_phone(ctx: Context, raw: str) -> None:
    phone = parse_phone(raw)
    if ctx.person is None or phone is None:
        ctx.say(t("bind.phone_invalid"))
        return
    ctx.person.phone = phone
    ctx.say(t("bind.phone_saved", phone=phone))
