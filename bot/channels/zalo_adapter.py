"""The Zalo adapter of the delivery pipeline (:mod:`bot.pipeline`): an update, as the inbox keeps it,
read into an :class:`Inbound`; replies rendered as plain text with numbered choices, split under
2,000 characters, files as signed links (:mod:`zalo_render`); one message sent with our aiohttp
client, its errors mapped to the pipeline's.

- Text (and a photo, fetched when the row is processed) goes to the dialog engine; images it cannot
  use, stickers, voice and withheld content get a polite fallback without a step — the "cannot read
  this" one at most once per chat every few minutes.
- "typing…" is shown while an update is handled.
- A 429, 5xx or network error is retried by the pipeline; a 410 ("the chat_id is invalid") marks the
  account blocked; a 400 drops the part (a photo refused is sent as its link first); a 401 (a reset
  token) or a code Zalo does not document is left to the outbox at once (tried again later).
- The outbox drain sends through this adapter too (:meth:`bot.pipeline.pipeline.Pipeline.send`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from bot.channels.zalo_client import ZaloBadRequest, ZaloChatGone, ZaloError, ZaloRetryAfter, ZaloUnauthorized
from bot.channels.zalo_delivery import Sender
from bot.channels.zalo_files import FileStore
from bot.channels.zalo_photos import PhotoFetcher
from bot.channels.zalo_render import Outgoing, render
from bot.channels.zalo_updates import UNKNOWN_FALLBACK, RecentIds, ZaloUpdate, parse_update
from bot.pipeline.adapter import AdapterBase, Inbound, RetryPolicy
from bot.pipeline.errors import SendBlocked, SendError, SendRejected, SendRetryLater
from handlers.messages import Incoming, IncomingPhoto, Reply
from texts.catalog import t

log = logging.getLogger(__name__)

CHANNEL = "zalo"
UNSUPPORTED_EVERY_SECONDS = 300.0  # the "cannot read this" answer, at most this often per chat


class ZaloAdapter(AdapterBase[ZaloUpdate, Outgoing]):
    name = CHANNEL

    def __init__(self, sender: Sender, files: FileStore, tz: ZoneInfo, fetcher: PhotoFetcher,
                 is_bound: Callable[[str], Awaitable[bool]], recent: RecentIds, *, photos: bool,
                 retry: RetryPolicy) -> None:
        self.sender, self.files, self.tz, self.fetcher, self.recent = sender, files, tz, fetcher, recent
        self.is_bound = is_bound  # an account id -> bound to a person (only their photos are fetched)
        self.photos, self.retry = photos, retry
        self._unsupported_said: dict[str, float] = {}  # chat -> when the fallback was last sent

    # --- reading ---------------------------------------------------------------------------------
    def read(self, payload: dict[str, Any]) -> Inbound[ZaloUpdate] | None:
        update = parse_update(payload)
        if update is None:
            return None
        if update.fallback_key is not None:
            answer = Reply(t(update.fallback_key)) if self._fallback_due(update) else None
            return Inbound(update.chat_id, update.account_id, answer=answer, context=update)
        if not update.text and not update.photo_url:
            return None
        return Inbound(update.chat_id, update.account_id, update.incoming(CHANNEL), context=update)

    def _fallback_due(self, update: ZaloUpdate) -> bool:
        """The "cannot read this" answer at most once per chat per few minutes (the others always)."""
        if update.fallback_key != UNKNOWN_FALLBACK:
            return True
        now = time.monotonic()
        last = self._unsupported_said.get(update.chat_id)
        if last is not None and now - last < UNSUPPORTED_EVERY_SECONDS:
            return False
        if len(self._unsupported_said) > 10_000:
            self._unsupported_said.clear()
        self._unsupported_said[update.chat_id] = now
        return True

    async def prepare(self, inbound: Inbound[ZaloUpdate]) -> Incoming:
        """The photo fetched here, after the inbox has the update: nothing is lost if it fails. Only
        for a bound account, and only from Zalo's photo hosts (:mod:`bot.channels.zalo_photos`)."""
        assert inbound.incoming is not None and inbound.context is not None
        url = inbound.context.photo_url
        if not url:
            return inbound.incoming
        if not await self.is_bound(inbound.context.account_id):
            return replace(inbound.incoming, photo=IncomingPhoto(error="download_failed"))
        return replace(inbound.incoming, photo=await self.fetcher.fetch(url))

    @contextlib.asynccontextmanager
    async def around(self, inbound: Inbound[ZaloUpdate]) -> AsyncIterator[None]:
        if inbound.incoming is None:
            yield
            return
        typing = asyncio.create_task(self.sender.typing(inbound.address))
        try:
            yield
        finally:
            typing.cancel()

    def failed(self, inbound: Inbound[ZaloUpdate]) -> None:
        """The step failed: let a redelivery through the LRU."""
        if inbound.context is not None and inbound.context.message_id:
            self.recent.forget(recent_key(inbound.context))

    # --- writing ---------------------------------------------------------------------------------
    async def render(self, replies: Sequence[Reply], inbound: Inbound[ZaloUpdate] | None) -> list[list[Outgoing]]:
        return [await render(reply, self.files, self.tz, photos=self.photos) for reply in replies]

    def part_text(self, part: Outgoing) -> str | None:
        return part.text

    async def send(self, address: str, part: Outgoing, *, booked: bool = False) -> None:  # (Zalo: the drain paces)
        try:
            await self.sender.one(address, part)
        except ZaloRetryAfter as exc:
            raise SendRetryLater(exc.retry_after, str(exc)) from exc
        except ZaloChatGone as exc:
            raise SendBlocked(str(exc)) from exc
        except ZaloBadRequest as exc:
            raise SendRejected(str(exc)) from exc
        except ZaloUnauthorized as exc:  # a reset token: fixable, so not final, but not by retrying now
            raise SendError(str(exc), retry_now=False) from exc
        except ZaloError as exc:  # 5xx, 403 "internal error", the network: retried; an unknown code: left to the outbox
            raise SendError(str(exc), retry_now=exc.retryable) from exc


def recent_key(update: ZaloUpdate) -> str:
    """The LRU's key of an update: the message id within its sender (Zalo does not promise ids unique
    across users)."""
    return f"{update.account_id}:{update.message_id}"
