"""Sending a step's replies: each reply's parts, then the mark of its outbox row, as one unit a stop
does not cut (:func:`bot.pipeline.settle.finish`).

- A part is retried by the adapter's :class:`RetryPolicy` (a 429 waits its ``retry_after``).
- A refused part is dropped, the others go; a row none of whose parts went is marked dead.
- A blocked user: the account is marked, the row too, the rest released (the drain skips them).
- Out of tries: the row is left to the outbox (due at once for the drain) and the rest released; a
  reply without a row (an answer said without a step) is queued in the outbox, unless it was only a
  notice ("wait, please").

The outbox drain sends through here too (:meth:`Replies.push`): the same rendering, the same sends
and the same errors on every channel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Generic

from bot.pipeline.adapter import Adapter, C, Inbound, P
from bot.pipeline.backoff import Backoff
from bot.pipeline.errors import SendBlocked, SendError, SendRejected, SendRetryLater
from bot.pipeline.settle import Settle, finish
from handlers.engine import Sendable
from handlers.messages import Reply
from models.accounts.access import Accounts
from models.clock import utcnow

log = logging.getLogger(__name__)


class Replies(Generic[C, P]):
    def __init__(self, adapter: Adapter[C, P], settle: Settle, accounts: Accounts, *,
                 clock: Callable[[], datetime] = utcnow,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        self.adapter, self.settle, self.accounts, self.clock, self.sleep = adapter, settle, accounts, clock, sleep

    async def deliver(self, inbound: Inbound[C], replies: Sequence[Sendable], *, key: str = "",
                      notice: bool = False) -> None:
        """Send ``replies`` in order; ``key``: the inbox key, naming what is queued when it cannot go now."""
        rendered = await self.adapter.render([r.reply for r in replies], inbound)
        for index, (item, parts) in enumerate(zip(replies, rendered, strict=True)):
            if not await finish(self._send_row(inbound, item, parts, key, notice)):
                await self.settle.release([r.row for r in replies[index + 1:] if r.row is not None])
                return

    async def push(self, address: str, reply: Reply, *, booked: bool = False) -> None:
        """A message on the bot's own initiative (the outbox drain's ``Channel.send``). Its first part is
        tried once: on an error nothing went and the drain retries the whole row later. The later parts
        are retried by the adapter's policy, so that a 429 part-way does not make the drain send the
        first parts twice. ``booked``: the drain took the first part's slot in the channel's pace. Raises
        the pipeline's send errors."""
        [parts] = await self.adapter.render([reply], None)
        for index, part in enumerate(parts):
            await (self.adapter.send(address, part, booked=booked) if index == 0 else self.send_part(address, part))

    async def send_part(self, address: str, part: P) -> None:
        """One part, retried by the adapter's policy; raises the last error when out of tries."""
        policy = self.adapter.retry
        backoff = Backoff(policy.initial, policy.maximum)
        for attempt in range(1, policy.attempts + 1):
            try:
                await self.adapter.send(address, part)
                return
            except (SendBlocked, SendRejected):
                raise
            except SendError as exc:
                if attempt >= policy.attempts or not exc.retry_now:
                    raise
                delay = backoff.next(exc.retry_after if isinstance(exc, SendRetryLater) else 0.0)
                log.info("%s: sending to %s failed (%s); retry %d in %.1fs", self.adapter.name, address, exc,
                         attempt, delay)
                await self.sleep(delay)

    async def _send_row(self, inbound: Inbound[C], item: Sendable, parts: list[P], key: str, notice: bool) -> bool:
        """Send one reply and mark its row; False when the rest should not be tried now."""
        name, row, went = self.adapter.name, item.row, 0
        for index, part in enumerate(parts):
            try:
                await self.send_part(inbound.address, part)
                went += 1
            except SendBlocked as exc:
                log.info("%s: chat %s blocked the bot (%s); marked, its replies dropped", name, inbound.address, exc)
                if row is not None:
                    await self.settle.blocked(row, str(exc))
                await self.accounts.mark_blocked(name, inbound.account)
                return False
            except SendRejected as exc:  # this part is refused; the others may go through
                log.warning("%s: a message to chat %s was refused and dropped: %s", name, inbound.address, exc)
            except SendError as exc:
                log.warning("%s: a reply to chat %s not sent now (%s); left to the outbox", name, inbound.address, exc)
                if row is not None:
                    await self.settle.retry_later(row, str(exc), counted=False)  # due now for the drain
                elif not notice:
                    texts = [text for p in parts[index:] if (text := self.adapter.part_text(p))]
                    await self.accounts.queue_replies(name, inbound.account, f"reply:{name}:{key}:unsent", texts,
                                                      self.clock())
                return False
        if row is not None:
            if went or not parts:
                await self.settle.sent(row)
            else:
                await self.settle.dead(row, "refused by the platform")
        return True
