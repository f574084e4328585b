"""What every channel offers the rest of the bot: start, stop, and send on the bot's own initiative.

Replies to an incoming message are sent by the channel that received it (through the pipeline,
:mod:`bot.pipeline`); ``send`` is for the outbox (reminders, escalations, digests). It raises one of
the pipeline's send errors (:mod:`bot.pipeline.errors`) so the outbox can decide.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from aiohttp import web

from handlers.messages import Reply

Route = tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]  # method, path, handler


class Channel(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, external_id: str, reply: Reply) -> None: ...

    def routes(self) -> list[Route]:
        """Routes this channel serves on the project's web server (added by the composition root)."""
        ...
