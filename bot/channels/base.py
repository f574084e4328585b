"""What every channel offers the rest of the bot: start, stop, and send on the bot's own initiative.

Replies to an incoming message are sent by the channel that received it; ``send`` is for the outbox
(reminders, escalations, digests). It raises one of the errors below so the outbox can decide.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from aiohttp import web

from handlers.messages import Reply

Route = tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]  # method, path, handler


class SendError(Exception):
    """Delivery failed for a reason that retrying may fix."""


class SendRetryLater(SendError):
    def __init__(self, retry_after: float, detail: str = "") -> None:
        super().__init__(detail or f"retry after {retry_after}s")
        self.retry_after = retry_after


class SendBlocked(SendError):
    """The user blocked the bot (or the account is gone): mark the account, do not retry."""


class SendRejected(SendError):
    """The platform refused this message for good (bad request): do not retry."""


class Channel(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, external_id: str, reply: Reply) -> None: ...

    def routes(self) -> list[Route]:
        """Routes this channel serves on the project's web server (added by the composition root)."""
        ...
