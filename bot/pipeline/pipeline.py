"""One delivery pipeline for every channel: intake → durable step → replies → marks.

A channel hands :meth:`Pipeline.accept` the updates it received (key, account, payload) and
acknowledges them to its platform only once that returned; when it raises (the database is down),
the channel does not acknowledge and calls :meth:`Pipeline.tell_wait`. From the inbox each row is
read by the channel's :class:`~bot.pipeline.adapter.Adapter` and handled here:

- an answer said without a step (a sticker, a contact that is not one's own) is sent;
- a message for the dialog engine runs :meth:`Engine.step_durable`: its replies are outbox rows
  written with the step, and the inbox row is marked done in the same transaction;
- the database down (:class:`Transient`): the sender is told once to wait and the row is tried again
  (with backoff) until the database is back;
- a step that raises is logged and answered with the catalog's error text;
- the replies are sent and their rows marked (:class:`bot.pipeline.replies.Replies`).

The outbox drain sends a channel's messages through :meth:`Pipeline.send`: the adapter renders and
sends them as it does replies.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Generic

from bot.pipeline.adapter import Adapter, C, Inbound, P
from bot.pipeline.intake import MARKED, Intake, Item
from bot.pipeline.replies import Replies
from bot.pipeline.settle import Settle
from handlers.engine import Engine, Sendable, Transient
from handlers.messages import Reply
from models.accounts.access import Accounts
from models.delivery.inbox import Pending
from texts.catalog import t

log = logging.getLogger(__name__)


class Progress:
    """Updates fully handled, per account: something to wait on (tests, the benchmark)."""

    def __init__(self) -> None:
        self.total = 0
        self.by_account: dict[str, int] = {}
        self._changed = asyncio.Event()

    def done(self, account_id: str) -> None:
        self.total += 1
        self.by_account[account_id] = self.by_account.get(account_id, 0) + 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait(self, n: int, account_id: str | None = None) -> None:
        while (self.by_account.get(account_id, 0) if account_id else self.total) < n:
            await self._changed.wait()


class Pipeline(Generic[C, P]):
    def __init__(self, adapter: Adapter[C, P], engine: Engine, accounts: Accounts, *,
                 clock: Callable[[], datetime] | None = None, owner: str | None = None) -> None:
        self.adapter, self.engine, self.accounts = adapter, engine, accounts
        self.clock = clock  # None: the engine's own clock
        # owner: this worker's name (bot.pipeline.worker): its inbox rows are taken over if it dies
        self.intake = Intake(accounts.sessions, adapter.name, self._process, owner=owner)
        self.settle = Settle(accounts.sessions)
        self.replies = Replies(adapter, self.settle, accounts)
        self.progress = Progress()
        self._told: set[str] = set()  # inbox keys whose sender was told to wait (the database down)

    # --- intake ----------------------------------------------------------------------------------
    async def accept(self, items: Sequence[Item]) -> int:
        """Write the updates to the inbox, then queue them; raises when they could not be written
        (the channel must not acknowledge them then)."""
        return await self.intake.accept(items)

    async def tell_wait(self, key: str, address: str, account: str) -> None:
        """The database is down: tell the sender of ``key`` once that the message is kept and will be handled."""
        if key in self._told:
            return
        if len(self._told) > 10_000:
            self._told.clear()
        self._told.add(key)
        try:
            await self.replies.deliver(Inbound(address, account), [Sendable(Reply(t("intake.delayed")), None)],
                                       key=key, notice=True)
        except Exception as exc:  # the notice is a courtesy
            log.info("%s: could not tell chat %s to wait: %s", self.adapter.name, address, exc)

    # --- the outbox ------------------------------------------------------------------------------
    async def send(self, address: str, reply: Reply, *, booked: bool = False) -> None:
        """The outbox drain's send (``Channel.send``): rendered and sent by the adapter, raising the
        pipeline's send errors (:meth:`bot.pipeline.replies.Replies.push`); ``booked``: the drain took
        its slot in the channel's pace."""
        await self.replies.push(address, reply, booked=booked)

    async def recover(self) -> int:
        return await self.intake.recover()

    def resume(self) -> None:
        self.intake.stopping = False

    async def idle(self) -> None:
        await self.intake.idle()

    async def stop(self, grace: float = 10.0) -> None:
        await self.intake.stop(grace)

    # --- processing ------------------------------------------------------------------------------
    async def _process(self, row: Pending) -> bool | str:
        """One inbox row; False: the database was down, try again later; MARKED: the step marked it."""
        inbound = self.adapter.read(row.payload)
        if inbound is None:
            return True
        if inbound.incoming is None and inbound.answer is None:
            async with self.adapter.around(inbound):
                return True
        counted = True
        try:
            async with self.adapter.around(inbound):
                outcome = await self._handle(row.key, inbound)
                counted = outcome is not False
                return outcome
        finally:
            if counted:
                self.progress.done(inbound.account)

    async def _handle(self, key: str, inbound: Inbound[C]) -> bool | str:
        if inbound.incoming is None:
            assert inbound.answer is not None
            await self.replies.deliver(inbound, [Sendable(inbound.answer, None)], key=key)
            return True
        marked = False
        try:
            incoming = replace(await self.adapter.prepare(inbound), message_id=key)
            replies = await self.engine.step_durable(incoming, now=self.clock() if self.clock else None,
                                                     shape=self.adapter.shape)
            marked = True
        except Transient:  # nothing saved; the inbox row is tried again
            await self.tell_wait(key, inbound.address, inbound.account)
            return False
        except Exception:
            log.exception("%s: handling update %s failed", self.adapter.name, key)
            self.adapter.failed(inbound)
            replies = [Sendable(Reply(t("common.error")), None)]
        self._told.discard(key)
        await self.adapter.after_step(inbound, replies)
        await self.replies.deliver(inbound, replies, key=key)
        return MARKED if marked else True
