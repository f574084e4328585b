"""Sending rendered messages to Zalo: backoff with jitter, retries, the mapping to the outbox's
errors (replies that could not be sent now are handed to the outbox by ``Accounts.queue_replies``).

Error mapping for ``Channel.send`` (the outbox):
- ``ZaloRetryAfter`` (429) → ``SendRetryLater(retry_after)``;
- ``ZaloBadRequest`` (400) → ``SendRejected`` (this message will never pass as it is);
- ``ZaloChatGone`` (410, "The chat_id is invaild") → ``SendBlocked`` (the account is marked);
- anything else — 5xx, 403 "internal error", 401 (a reset token: fixable, so not final), network →
  ``SendError`` (retried with the outbox's backoff).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.channels.zalo_client import ZaloBadRequest, ZaloChatGone, ZaloClient, ZaloError, ZaloRetryAfter
from bot.channels.zalo_render import Outgoing
from bot.pipeline.backoff import Backoff
from bot.pipeline.errors import SendBlocked, SendError, SendRejected, SendRetryLater

log = logging.getLogger(__name__)


def as_send_error(exc: ZaloError) -> SendError:
    if isinstance(exc, ZaloRetryAfter):
        return SendRetryLater(exc.retry_after, str(exc))
    if isinstance(exc, ZaloBadRequest):
        return SendRejected(str(exc))
    if isinstance(exc, ZaloChatGone):
        return SendBlocked(str(exc))
    return SendError(str(exc))


class Sender:
    def __init__(self, client: ZaloClient, *, attempts: int = 5, backoff_initial: float = 1.0,
                 backoff_max: float = 60.0, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.client = client
        self.attempts = attempts
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self.sleep = sleep

    async def one(self, chat_id: str, item: Outgoing) -> None:
        """One try. A photo the server refuses (400) is replaced by its link text."""
        if item.photo is None:
            await self.client.send_message(chat_id, item.text)
            return
        try:
            await self.client.send_photo(chat_id, item.photo, item.caption)
        except ZaloBadRequest as exc:
            log.info("zalo: photo refused (%s); sending the link instead", exc.description)
            await self.client.send_message(chat_id, item.text)

    async def with_retry(self, chat_id: str, item: Outgoing) -> None:
        """Retry 429, 5xx and network errors with backoff; raises the last error when out of tries."""
        backoff = Backoff(self.backoff_initial, self.backoff_max)
        for attempt in range(1, self.attempts + 1):
            try:
                await self.one(chat_id, item)
                return
            except ZaloError as exc:
                if not exc.retryable or attempt == self.attempts:
                    raise
                floor = exc.retry_after if isinstance(exc, ZaloRetryAfter) else 0.0
                delay = backoff.next(floor)
                log.info("zalo: sending to a chat failed (%s); retry %d in %.1fs", exc, attempt, delay)
                await self.sleep(delay)

    async def for_outbox(self, chat_id: str, items: Sequence[Outgoing]) -> None:
        """``Channel.send``: the first part once (the outbox retries it); later parts with retries,
        so that a 429 in the middle does not make the outbox send the first parts twice."""
        for index, item in enumerate(items):
            try:
                await (self.one(chat_id, item) if index == 0 else self.with_retry(chat_id, item))
            except ZaloError as exc:
                raise as_send_error(exc) from None

    async def typing(self, chat_id: str, every: float = 4.0) -> None:
        """Keep "typing…" shown until cancelled; failures are not worth a retry."""
        while True:
            try:
                await self.client.send_chat_action(chat_id)
            except ZaloError as exc:
                log.debug("zalo: typing action failed: %s", exc)
            await asyncio.sleep(every)
