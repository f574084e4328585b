"""Neutral message types at the channel boundary (DESIGN §2).

A channel turns a platform update into an :class:`Incoming` and renders each :class:`Reply`
the best way its platform allows. Nothing here knows about Telegram, Zalo or the web.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ChannelName = Literal["telegram", "zalo", "web", "cli"]


@dataclass(frozen=True, slots=True)
class IncomingPhoto:
    """A photo the user sent, already fetched by the channel from its platform (``content``), or why
    it could not be (``error``: ``download_failed`` | ``too_large``)."""

    content: bytes | None = None  # as received: decoded and re-encoded before it is kept (models.photos.image)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message from a user, whatever the platform."""

    channel: str
    account_id: str  # the platform's id of the sender, as text
    text: str | None = None  # typed text (commands included)
    choice: str | None = None  # the value of a tapped choice button
    phone: str | None = None  # a shared phone number (Telegram contact button)
    message_id: str | None = None  # the platform's message/update id, for de-duplication
    display_name: str | None = None
    photo: IncomingPhoto | None = None  # a photo (the vote-count record, usually)


@dataclass(frozen=True, slots=True)
class Choice:
    """One option offered to the user: ``value`` comes back in ``Incoming.choice``."""

    value: str
    label: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file to send: the bytes live on disk or in memory; the channel decides how to deliver."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"
    caption: str | None = None


@dataclass(slots=True)
class Reply:
    """One message back to the user."""

    text: str
    choices: list[Choice] = field(default_factory=list)
    attachment: Attachment | None = None
    ask_phone: bool = False  # offer a "share my phone number" button where the platform has one
    free_text: bool = True  # the user may also type an answer instead of choosing
