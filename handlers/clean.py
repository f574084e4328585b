"""What comes in from a platform, made safe to store before anything else sees it (the channels call
:func:`clean_incoming` as they build an :class:`Incoming`).

- NUL and the other control characters (C0 but tab and line breaks, DEL, C1) and lone surrogates are
  removed: PostgreSQL refuses a NUL in text and a surrogate cannot be encoded, so one such character
  used to fail every message of the account for good.
- Display names are bounded to the column's 120 characters; platform ids to their columns (64 for an
  account, 80 for a message) — an id longer than that keeps its head and a hash of the whole, so two
  different long ids stay different and the same id always maps to the same text.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re

from handlers.messages import Incoming

NAME_CHARS = 120  # channel_account.display_name
ACCOUNT_ID_CHARS = 64  # channel_account.external_id
MESSAGE_ID_CHARS = 80  # processed_message.message_id
CHOICE_CHARS = 200
PHONE_CHARS = 40

_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(text: str | None) -> str | None:
    """``text`` without control characters and lone surrogates (tab and line breaks stay)."""
    return None if text is None else _UNSAFE.sub("", text)


def clean_name(name: str | None, limit: int = NAME_CHARS) -> str | None:
    """A display name on one line, at most ``limit`` characters; None when nothing is left."""
    if name is None:
        return None
    cleaned = " ".join(_UNSAFE.sub("", name).split())[:limit].strip()
    return cleaned or None


def bounded_id(value: str, limit: int) -> str:
    """``value`` cleaned; when longer than ``limit``, its head and a hash of the whole (stable)."""
    value = _UNSAFE.sub("", value).strip()
    if len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]
    return f"{value[: limit - 17]}~{digest}"


def clean_incoming(incoming: Incoming) -> Incoming:
    """The same message, safe to store."""
    def bounded(value: str | None, limit: int) -> str | None:
        cleaned = clean_text(value)
        return None if cleaned is None else cleaned[:limit]

    return dataclasses.replace(
        incoming,
        account_id=bounded_id(incoming.account_id, ACCOUNT_ID_CHARS),
        message_id=None if incoming.message_id is None else bounded_id(incoming.message_id, MESSAGE_ID_CHARS),
        text=clean_text(incoming.text),
        choice=bounded(incoming.choice, CHOICE_CHARS),
        phone=bounded(incoming.phone, PHONE_CHARS),
        display_name=clean_name(incoming.display_name),
    )
