"""Binding an account with a one-time invite: ``/start CODE`` or the code typed as a first message.

Guessing is slowed where it cannot hurt the real holder of a code (DESIGN §3: a head binds with the
code read to him over the phone):
- per account: a few wrong codes, then this account waits (the right code too: guessing gains nothing);
- per code prefix (its first characters): once many wrong codes began alike, every account that sends
  one more wrong code with that prefix waits the whole window at once. Fresh accounts cost an attacker
  nothing, so this makes each of them worth one guess in a crowded prefix instead of several.
A real code is always looked up first and binds: nobody else's guessing can block it (there is no
province-wide bucket; a code is one of 31⁸ ≈ 8.5·10¹¹, a staff code 31¹², so guesses spread over
many accounts still find nothing in practice).
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from handlers.context import Context
from handlers.parsing import parse_phone
from models.accounts.people import CODE_ALPHABET, CODE_LENGTHS, InviteError, normalise_code, redeem_invite
from models.accounts.throttle import Limit, record_failure, wait_left
from models.units.tables import Unit
from texts.catalog import t

log = logging.getLogger(__name__)
CODE_RE = re.compile(rf"^[{CODE_ALPHABET}]{{{min(CODE_LENGTHS)},{max(CODE_LENGTHS)}}}$")
# wrong codes: per account, and per prefix of the code tried (web-chat accounts cost nothing to make)
INVITE_PER_ACCOUNT = Limit("invite", 5, timedelta(minutes=15))
INVITE_PER_PREFIX = Limit("invite_prefix", 20, timedelta(hours=1))
PREFIX_CHARS = 3  # 31³ = 29,791 prefixes


def looks_like_code(text: str) -> bool:
    return bool(CODE_RE.match(normalise_code(text)))


def _account_key(ctx: Context) -> str:
    return f"{ctx.incoming.channel}:{ctx.account.id}"


def code_prefix(code: str) -> str:
    return normalise_code(code)[:PREFIX_CHARS]


async def _throttled(ctx: Context) -> bool:
    """This account sent too many wrong codes lately: say so and try nothing."""
    left = await wait_left(ctx.session, INVITE_PER_ACCOUNT, _account_key(ctx), ctx.now)
    if left is None:
        return False
    ctx.say(t("bind.throttled", minutes=max(1, -(-int(left.total_seconds()) // 60))))
    return True


async def _count_wrong(ctx: Context, code: str) -> None:
    """A wrong code: counted for this account and for the code's prefix; in a crowded prefix the
    account is made to wait at once."""
    key = _account_key(ctx)
    await record_failure(ctx.session, INVITE_PER_ACCOUNT, key, ctx.now)
    prefix = code_prefix(code)
    if await record_failure(ctx.session, INVITE_PER_PREFIX, prefix, ctx.now) > INVITE_PER_PREFIX.max_failures:
        log.warning("invite codes: many wrong codes starting %r lately; account %s made to wait", prefix, key)
        await record_failure(ctx.session, INVITE_PER_ACCOUNT, key, ctx.now,
                             count=INVITE_PER_ACCOUNT.max_failures)


async def redeem(ctx: Context, code: str) -> bool:
    """Bind the account with ``code``; False (and the reason said) when the code is refused.
    Wrong codes are counted in the database (so the count holds across workers and restarts)."""
    if await _throttled(ctx):
        return False
    try:
        person = await redeem_invite(ctx.session, ctx.account, code, ctx.now)
    except InviteError as exc:
        await _count_wrong(ctx, code)
        ctx.say(t(f"bind.error_{exc.reason}"))
        return False
    unit = await ctx.session.get(Unit, person.unit_id)
    ctx.person, ctx.unit = person, unit
    name = unit.full_name if unit is not None else ""  # (a person's unit is a foreign key: always found)
    if person.role == "village_head":
        ctx.say(t("bind.ok_head", village=name))
    elif person.role == "village_secretary":
        ctx.say(t("bind.ok_secretary", village=name))
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
