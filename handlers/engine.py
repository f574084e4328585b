"""The dialog engine: one incoming message → one transaction → replies.

It loads the account's conversation state from the database, runs one step of the current
conversation (or a command), saves the new state in the same transaction as whatever the step
wrote, and returns the replies. A restart, a second worker or a switch of channel never strands a
user mid-report: the state is a row, keyed by person when the account is bound.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from time import perf_counter

from sqlalchemy.exc import DBAPIError, IntegrityError

from handlers import binding, giaoban_replies
from handlers.commands import BY_NAME, FLOWS, help_cmd, parse_command, show_help
from handlers.context import Context, Settings, context_for
from handlers.flow import FlowState, ask, resume, run_step, start
from handlers.messages import Incoming, Reply
from handlers.parsing import nfc
from handlers.photos import receive_photo
from handlers.reply_codec import decode, encode
from models.accounts.people import new_account, seen
from models.clock import local_date, utcnow
from models.db import DbSession, SessionFactory, insert_ignore, is_postgres, transaction, transient
from models.delivery import inbox, outbox
from models.delivery.tables import ProcessedMessage
from models.dialog.state import (
    ENTRY_QUERY,
    ENTRY_QUERY_LOCKED,
    StoredState,
    drop_state,
    expire_states,
    save_state,
    state_from,
    state_key,
)
from models.photos.store import discard_photos, held_photos, hold_photo
from texts.catalog import fold, t, words

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Sendable:
    """A reply and its outbox row (claimed for the channel; None for an answer not worth keeping)."""

    reply: Reply
    row: outbox.Claimed | None


class Transient(Exception):
    """The database is unreachable: nothing was saved; the update stays in the inbox for a later try."""


Shape = Callable[[list[Reply]], list[Reply]]
ATTEMPTS = 3  # a unique-key collision (a new user's two first messages on two workers) is tried again


class Engine:
    def __init__(self, sessions: SessionFactory, settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings
        self._pg: bool | None = None  # the database's kind: fixed for the process, read at the first step
        self.owner: str | None = None  # this worker's name: its claims of reply rows are taken over if it dies
        # (channel, outcome "ok" | "transient" | "error", seconds) after each step: the metrics' hook
        self.observe: Callable[[str, str, float], None] | None = None

    async def step_for_web(self, incoming: Incoming, now: datetime | None = None) -> list[Reply]:
        """One step whose replies are returned for the caller to show (the web chat); nothing is
        written to the outbox. A redelivered ``message_id`` returns no replies. Raises
        :class:`Transient` when the database is down (nothing was saved)."""
        now = now or utcnow()
        refused = self._refusal(incoming)
        if refused is not None:
            return [refused]
        return [s.reply for s in await self._run(lambda session: self._web_step(session, incoming, now), incoming)]

    async def step_durable(self, incoming: Incoming, now: datetime | None = None,
                           shape: Shape = list) -> list[Sendable]:
        """One step whose replies are written to the outbox (kind ``reply``) in its transaction, the
        inbox row of ``incoming.message_id`` marked done in the same one (whenever this returns, the
        row is marked: the channel need not mark it again). A redelivery of a handled message returns
        its replies not yet sent. ``shape`` joins or splits the replies before their rows are written
        (Telegram joins plain texts). Raises :class:`Transient` when the database is down."""
        now = now or utcnow()
        refused = self._refusal(incoming)
        sendables = ([Sendable(refused, None)] if refused is not None else
                     await self._run(lambda session: self._durable_step(session, incoming, now, shape), incoming))
        if sendables and sendables[0].row is None and incoming.message_id:  # refused before any step ran
            await self._mark_only(incoming.channel, incoming.message_id, now)
        return sendables

    def _refusal(self, incoming: Incoming) -> Reply | None:
        """The answer to a message refused before any step runs (too long), or None."""
        if len(incoming.text or "") > self.settings.max_message_chars:
            return Reply(t("common.too_long", limit=self.settings.max_message_chars))
        return None

    async def _mark_only(self, channel: str, message_id: str, now: datetime) -> None:
        try:
            async with transaction(self.sessions) as session:
                await inbox.mark_done(session, channel, message_id, now)
        except (DBAPIError, OSError, TimeoutError) as exc:
            if isinstance(exc, DBAPIError) and not transient(exc):
                raise
            raise Transient(str(exc)) from exc

    async def _run(self, step: Callable[[DbSession], Awaitable[list[Sendable]]],
                   incoming: Incoming) -> list[Sendable]:
        """:meth:`_attempts`, timed for ``observe`` (the composition root's metrics) when one is set."""
        if self.observe is None:
            return await self._attempts(step, incoming)
        started, outcome = perf_counter(), "error"
        try:
            sendables = await self._attempts(step, incoming)
            outcome = "ok"
            return sendables
        except Transient:
            outcome = "transient"
            raise
        finally:
            self.observe(incoming.channel, outcome, perf_counter() - started)

    async def _attempts(self, step: Callable[[DbSession], Awaitable[list[Sendable]]],
                        incoming: Incoming) -> list[Sendable]:
        """``step`` in a transaction of its own, tried again after a unique-key collision, and once at
        once after its connection was found lost (the pool has replaced it)."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with transaction(self.sessions) as session:
                    return await step(session)
            except IntegrityError:
                # two writers collided (e.g. a new user's first messages on two workers): the
                # other one's rows are committed now, so the step runs again and finds them
                log.info("conflict while handling %s/%s (try %d)", incoming.channel, incoming.message_id, attempt)
            except DBAPIError as exc:
                if not transient(exc):
                    raise
                if exc.connection_invalidated and attempt == 1:  # the pool has dropped its dead connections
                    log.info("a database connection was lost while handling %s/%s; trying again",
                             incoming.channel, incoming.message_id)
                    continue
                log.warning("database unavailable while handling a message: %s", exc)
                raise Transient(str(exc)) from exc
            except (OSError, TimeoutError) as exc:
                log.warning("database unavailable while handling a message: %s", exc)
                raise Transient(str(exc)) from exc
        return [Sendable(Reply(t("common.busy")), None)]

    async def _web_step(self, session: DbSession, incoming: Incoming, now: datetime) -> list[Sendable]:
        if incoming.message_id and not await insert_ignore(
                session, ProcessedMessage, channel=incoming.channel, message_id=incoming.message_id, at=now):
            return []  # a redelivery: handled once already
        ctx = await self._conduct(session, incoming, now)
        return [Sendable(r, None) for r in ctx.replies]

    async def _durable_step(self, session: DbSession, incoming: Incoming, now: datetime,
                            shape: Shape) -> list[Sendable]:
        channel, message_id = incoming.channel, incoming.message_id
        prefix = f"reply:{channel}:{message_id}:"
        if message_id and not await inbox.first_time(session, channel, message_id, now):
            # a redelivery (its inbox row marked): what a crash left unsent
            rows = await outbox.claim_replies(session, prefix, now, self.settings.reply_lease, self.owner)
            return [Sendable(decode(r.payload, r.text), r) for r in rows]
        ctx = await self._conduct(session, incoming, now)
        assert ctx.account.id is not None
        prefix = prefix if message_id else f"reply:{channel}:{secrets.token_hex(8)}:"
        return [Sendable(reply, await outbox.enqueue_reply(
                    session, key=f"{prefix}{index}", account_id=ctx.account.id, channel=channel,
                    external_id=incoming.account_id, text=reply.text, payload=encode(reply), now=now,
                    lease=self.settings.reply_lease, owner=self.owner))
                for index, reply in enumerate(shape(ctx.replies))]

    async def _conduct(self, session: DbSession, incoming: Incoming, now: datetime) -> Context:
        """Load the account and its conversation, run the step; the context holds its replies."""
        query = ENTRY_QUERY_LOCKED if self._is_pg(session) else ENTRY_QUERY  # (two workers, one person: in turn)
        found = (await session.execute(query, {"channel": incoming.channel,
                                               "external_id": incoming.account_id})).first()
        if found is None:
            account = await new_account(session, incoming.channel, incoming.account_id, now, incoming.display_name)
            person = unit = state = None
        else:
            account, person, unit, *rest = found
            seen(account, now)
            state = state_from(tuple(rest))
        ctx = context_for(session=session, incoming=incoming, account=account, person=person, unit=unit,
                          now=now, today=local_date(now, self.settings.tz), settings=self.settings)
        await self._dispatch(ctx, state)
        return ctx

    def _is_pg(self, session: DbSession) -> bool:
        return self._pg if self._pg is not None else self._kind(session)

    def _kind(self, session: DbSession) -> bool:
        self._pg = is_postgres(session)
        return self._pg

    async def _dispatch(self, ctx: Context, state: StoredState | None) -> None:
        incoming = ctx.incoming
        text = nfc(incoming.text or "")
        command, arg = parse_command(text)
        if command is None and fold(text) in words("words.cancel"):
            command = "huy"
        row = await self._live(ctx, state)
        resumed = None if row is None else resume(FLOWS, row)
        if row is not None and resumed is None:  # its flow or step is gone (renamed since): as expired
            await drop_state(ctx.session, row)
            ctx.say(t("common.flow_changed"))
            if command is None and incoming.photo is None:  # start over
                flow = FLOWS.get(row.flow)
                name = next((c.name for c in BY_NAME.values() if flow is not None and c.flow is flow), None)
                await (self._command(ctx, name, "", None) if name else help_cmd(ctx, ""))
                return
            row = None
        ctx.in_flow = row is not None
        if incoming.photo is not None and command is None:
            photo_id = await receive_photo(ctx, row)
            if photo_id is not None and row is not None and resumed is not None:
                flow, current = resumed
                if flow.steps[row.step].photo_answers:  # the photo is the answer (a task done, shown)
                    await self._save_state(ctx, row, row.flow, await run_step(ctx, flow, current))
                else:  # the question in progress again; the photo held until the report is saved
                    hold_photo(current.data, photo_id)
                    ask(ctx, flow, current)
                    await self._save_state(ctx, row, row.flow, current)
        elif command is not None:
            await self._command(ctx, command, arg, row)
        elif row is not None and resumed is not None:
            await self._save_state(ctx, row, row.flow, await run_step(ctx, *resumed))
        elif ctx.person is None:
            if await binding.unbound_message(ctx, text):
                show_help(ctx)
        elif incoming.phone:
            await binding.save_phone(ctx, incoming.phone)
        elif await giaoban_replies.free_reply(ctx, text):
            pass  # "có" / "không, lý do" to an invitation, "đã nhận" to directives
        elif incoming.choice and not text:  # a button of a conversation that is over
            ctx.say(t("common.stale_button_done"))
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
                await discard_photos(ctx.session, held_photos(row.data))
            new = await start(ctx, command.flow)
            await self._save_state(ctx, row, command.flow.name, new)
            return
        assert command.action is not None
        await command.action(ctx, arg)
        if ctx.end_flow and row is not None:
            await drop_state(ctx.session, row, abandoned=True)

    async def _live(self, ctx: Context, row: StoredState | None) -> StoredState | None:
        """The conversation in progress, unless it has expired (then it is dropped, unsaved)."""
        if row is not None and row.expires_at <= ctx.now:
            await drop_state(ctx.session, row, abandoned=True)
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
