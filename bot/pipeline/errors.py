"""What a channel's ``send`` raises, so that the pipeline (and the outbox drain) can decide.

A channel maps its platform's answers onto these four: try again later (429, with the platform's
``retry_after``), the user blocked the bot (mark the account, send nothing more), the platform
refused this message for good (drop it), or anything else that retrying may fix.
"""

from __future__ import annotations


class SendError(Exception):
    """Delivery failed for a reason that retrying may fix. ``retry_now`` False: not by retrying at
    once (a reset token, say): the message is left to the outbox, which tries again later."""

    def __init__(self, detail: str = "", *, retry_now: bool = True) -> None:
        super().__init__(detail)
        self.retry_now = retry_now


class SendRetryLater(SendError):
    """The platform said "too many requests": wait ``retry_after`` seconds."""

    def __init__(self, retry_after: float, detail: str = "") -> None:
        super().__init__(detail or f"retry after {retry_after}s")
        self.retry_after = retry_after


class SendBlocked(SendError):
    """The user blocked the bot (or the account is gone): mark the account, do not retry."""


class SendRejected(SendError):
    """The platform refused this message for good (bad request): do not retry."""
