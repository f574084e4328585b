"""What a channel plugs into the pipeline: read an inbox row into an :class:`Inbound`, render replies
into the platform's parts, send one part.

``send`` raises the pipeline's send errors (:mod:`bot.pipeline.errors`); the pipeline retries what may
be retried (``retry``), marks a blocked account, drops a refused part and leaves the rest to the outbox.
The hooks have do-nothing defaults in :class:`AdapterBase`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from handlers.engine import Sendable
from handlers.messages import Incoming, Reply

C = TypeVar("C")  # the channel's own view of the update (kept with the Inbound)
P = TypeVar("P")  # one message as the platform takes it


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a part is retried before it is left to the outbox: ``attempts`` tries in all, waiting
    between them with :class:`bot.pipeline.backoff.Backoff` (never less than a ``retry_after``)."""

    attempts: int = 5
    initial: float = 1.0
    maximum: float = 60.0


@dataclass(slots=True)
class Inbound(Generic[C]):
    """An update read by its channel: where replies go, who sent it, and either the message for a
    dialog step or an answer said without one (neither: nothing to do)."""

    address: str  # where the replies go (the chat)
    account: str  # the sender's platform id (marked when blocked)
    incoming: Incoming | None = None
    answer: Reply | None = None
    context: C | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Adapter(Protocol[C, P]):
    name: str
    retry: RetryPolicy

    def read(self, payload: dict[str, Any]) -> Inbound[C] | None:
        """The inbox row's update, or None when there is nothing to do for it (no I/O here)."""
        ...

    async def prepare(self, inbound: Inbound[C]) -> Incoming:
        """The message for the step, with what must be fetched first (a photo)."""
        ...

    def around(self, inbound: Inbound[C]) -> contextlib.AbstractAsyncContextManager[None]:
        """Wraps the handling of an update ("typing…", answering a button press)."""
        ...

    def shape(self, replies: list[Reply]) -> list[Reply]:
        """The step's replies as the platform sends them best (joined, say), before rows are written."""
        ...

    async def render(self, replies: Sequence[Reply], inbound: Inbound[C] | None) -> list[list[P]]:
        """The parts of each reply, in order."""
        ...

    def part_text(self, part: P) -> str | None:
        """The text of a part (what the outbox keeps when it cannot be sent now)."""
        ...

    async def send(self, address: str, part: P, *, booked: bool = False) -> None:
        """One try; raises :class:`SendRetryLater`, :class:`SendBlocked`, :class:`SendRejected` or
        :class:`SendError`. ``booked``: the caller took this part's slot in the channel's pace already
        (the outbox drain, in the calendar the workers share): a channel that paces its own sends does
        not book it again."""
        ...

    async def after_step(self, inbound: Inbound[C], replies: Sequence[Sendable]) -> None:
        """Called after the step, before its replies go (Telegram takes the buttons off the question)."""
        ...

    def failed(self, inbound: Inbound[C]) -> None:
        """The step raised: forget what would stop a redelivery from running it again."""
        ...


class AdapterBase(Generic[C, P]):
    """The hooks' defaults."""

    retry = RetryPolicy()

    async def prepare(self, inbound: Inbound[C]) -> Incoming:
        assert inbound.incoming is not None
        return inbound.incoming

    @contextlib.asynccontextmanager
    async def around(self, inbound: Inbound[C]) -> AsyncIterator[None]:
        yield

    def shape(self, replies: list[Reply]) -> list[Reply]:
        return replies

    async def after_step(self, inbound: Inbound[C], replies: Sequence[Sendable]) -> None:
        return None

    def failed(self, inbound: Inbound[C]) -> None:
        return None
