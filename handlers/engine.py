"""The dialog engine: one incoming message → one transaction → replies.

It loads the account's conversation state from the database, runs one step of the current
conversation (or a command), saves the new state in the same transaction as whatever the step
wrote, and returns the replies. A restart, a second worker or a switch of channel never strands a
user mid-report: the state is a row, keyed by person when the account is bound.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import IntegrityError, OperationalError

from handlers import binding, giaoban_replies
from handlers.commands import BY_NAME, FLOWS, parse_command, show_help
from handlers.context import Context, Settings
from handlers.flow import FlowState, run_step, start
from handlers.messages import Incoming, Reply
from handlers.parsing import nfc
from models.clock import local_date, utcnow
from models.conversations import (
    ENTRY_QUERY,
    StoredState,
    drop_state,
    expire_states,
    lock_state,
    save_state,
    state_from,
    state_key,
)
from models.db import SessionFactory, insert_ignore, is_postgres, transaction
from models.people import new_account, seen
from models.tables import ProcessedMessage
from texts.catalog import fold, t, words

log = logging.getLogger(__name__)


class Engine:
    def __init__(self, sessions: SessionFactory, settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings

    async def handle(self, incoming: Incoming, now: datetime | None = None) -> list[Reply]:
        now = now or utcnow()
        text = incoming.text or ""
        if len(text) > self.settings.max_message_chars:
            return [Reply(t("common.too_long", limit=self.settings.max_message_chars))]
        try:
            async with transaction(self.sessions) as session:
                if incoming.message_id and not await insert_ignore(
                        session, ProcessedMessage, channel=incoming.channel, message_id=incoming.message_id, at=now):
                    return []  # a redelivery: handled once already
                found = (await session.execute(ENTRY_QUERY, {"channel": incoming.channel,
                                                             "external_id": incoming.account_id})).first()
                if found is None:
                    account = await new_account(session, incoming.channel, incoming.account_id, now,
                                                incoming.display_name)
                    person = unit = state = None
                else:
                    account, person, unit, *rest = found
                    seen(account, now)
                    state = state_from(tuple(rest))
                    if state is not None and is_postgres(session):
                        state = await lock_state(session, state)  # two workers, one person: in turn
                ctx = Context(session=session, incoming=incoming, account=account, person=person, unit=unit,
                              now=now, today=local_date(now, self.settings.tz), settings=self.settings)
                await self._dispatch(ctx, state)
                return ctx.replies
        except IntegrityError:
            # a concurrent delivery of the same message won the race, or two writers collided
            log.info("conflict while handling %s/%s; nothing saved", incoming.channel, incoming.message_id)
            return [Reply(t("common.busy"))] if not incoming.message_id else []
        except OperationalError:
            log.exception("database error while handling a message")
            return [Reply(t("common.error"))]

    async def _dispatch(self, ctx: Context, state: StoredState | None) -> None:
        incoming = ctx.incoming
        text = nfc(incoming.text or "")
        command, arg = parse_command(text)
        if command is None and fold(text) in words("words.cancel"):
            command = "huy"
        row = await self._live(ctx, state)
        ctx.in_flow = row is not None
        if command is not None:
            await self._command(ctx, command, arg, row)
        elif row is not None:
            new = await run_step(ctx, FLOWS[row.flow], FlowState(row.step, dict(row.data), row.wrong_count))
            await self._save_state(ctx, row, row.flow, new)
        elif ctx.person is None:
            if await binding.unbound_message(ctx, text):
                show_help(ctx)
        elif incoming.phone:
            await binding.save_phone(ctx, incoming.phone)
        elif await giaoban_replies.free_reply(ctx, text):
            pass  # "có" / "không, lý do" to an invitation, "đã nhận" to directives
        else:
            ctx.say(t("common.not_understood"))
            show_help(ctx)

    async def _command(self, ctx: Context, name: str, arg: str, row: StoredState | None) -> None:
        """Run a command of the registry, if this account's role allows it."""
        command = BY_NAME.get(name)
        if command is None:
            ctx.say(t("common.unknown_command", command=name))
            show_help(ctx)
            return
        if not command.allows(ctx.role):
            ctx.say(command.refusal(ctx))
            return
        if command.flow is not None:
            if row is not None:
                ctx.say(t("common.previous_dropped"))
            new = await start(ctx, command.flow)
            await self._save_state(ctx, row, command.flow.name, new)
            return
        assert command.action is not None
        await command.action(ctx, arg)
        if ctx.end_flow and row is not None:
            await drop_state(ctx.session, row)

    async def _live(self, ctx: Context, row: StoredState | None) -> StoredState | None:
        """The conversation in progress, unless it has expired (then it is dropped, unsaved)."""
        if row is not None and row.expires_at <= ctx.now:
            await drop_state(ctx.session, row)
            ctx.say(t("common.expired"))
            return None
        return row

    async def _save_state(self, ctx: Context, row: StoredState | None, flow: str,
                          new: FlowState | None) -> None:
        if new is None:
            if row is not None:
                await drop_state(ctx.session, row)
            return
        key = state_key(ctx.person.id if ctx.person else None, ctx.account.id)
        await save_state(ctx.session, row, key=key, flow=flow, step=new.step, data=dict(new.data), wrong=new.wrong,
                         now=ctx.now, expires_at=ctx.now + ctx.settings.conversation_timeout)


async def expire_conversations(sessions: SessionFactory, now: datetime) -> int:
    """Drop conversations idle past their expiry (nothing half-done is ever saved)."""
    async with transaction(sessions) as session:
        return await expire_states(session, now)
