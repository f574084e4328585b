"""Zalo updates read into what the channel needs: who wrote, where to answer, the text or the
fallback to send, the message id. Tolerant of the shapes seen in the wild: the update bare or
wrapped in ``{"ok": true, "result": ...}``, ``display_name`` or ``first_name``, ids as text.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from handlers.clean import ACCOUNT_ID_CHARS, bounded_id, clean_incoming
from handlers.messages import Incoming

TEXT_EVENT = "message.text.received"
IMAGE_EVENT = "message.image.received"  # carries ``photo_url`` (zalo-bot-api.md)
FALLBACK_EVENTS = {"message.image.received": "zalo.fallback.image",
                   "message.sticker.received": "zalo.fallback.sticker",
                   "message.voice.received": "zalo.fallback.voice",
                   "message.unsupported.received": "zalo.fallback.unsupported"}
UNKNOWN_FALLBACK = "zalo.fallback.unsupported"  # any other message.*.received: a person wrote, answer


def fallback_for(event: str) -> str | None:
    """The catalog key to answer a message the bot cannot read with; None for text or a non-message."""
    if event in FALLBACK_EVENTS:
        return FALLBACK_EVENTS[event]
    if event.startswith("message.") and event.endswith(".received") and event != TEXT_EVENT:
        return UNKNOWN_FALLBACK
    return None


@dataclass(frozen=True, slots=True)
class ZaloUpdate:
    event_name: str
    chat_id: str
    account_id: str
    message_id: str | None
    text: str | None
    display_name: str | None
    fallback_key: str | None  # a catalog key: answer with it instead of running the engine
    photo_url: str | None = None  # message.image.received (attached to the report in progress)

    def incoming(self, channel: str = "zalo") -> Incoming:
        return clean_incoming(Incoming(channel=channel, account_id=self.account_id, text=self.text,
                                       message_id=self.message_id, display_name=self.display_name))


def unwrap(body: Any) -> dict[str, Any] | None:
    """The update itself, from a bare update or an ``{"ok": true, "result": update}`` envelope."""
    if isinstance(body, dict) and "event_name" not in body and isinstance(body.get("result"), dict):
        body = body["result"]
    return body if isinstance(body, dict) else None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def parse_update(body: Any) -> ZaloUpdate | None:
    """A usable update, or None (unknown event, no sender, a group chat, a bot's own message)."""
    update = unwrap(body)
    if update is None:
        return None
    event = _text(update.get("event_name")) or ""
    message = update.get("message")
    fallback = fallback_for(event)
    if not isinstance(message, dict) or (event != TEXT_EVENT and fallback is None):
        return None
    sender_value, chat_value = message.get("from"), message.get("chat")
    sender: dict[Any, Any] = sender_value if isinstance(sender_value, dict) else {}
    chat: dict[Any, Any] = chat_value if isinstance(chat_value, dict) else {}
    account_id = _text(sender.get("id")) or _text(chat.get("id"))
    chat_id = _text(chat.get("id")) or account_id
    if account_id is None or chat_id is None or sender.get("is_bot") is True:
        return None
    if (_text(chat.get("chat_type")) or "PRIVATE").upper() != "PRIVATE":
        return None  # the bot serves one person per chat; group chats are ignored
    text = message.get("text") if event == TEXT_EVENT else None
    photo_url = _text(message.get("photo_url") or message.get("photo")) if event == IMAGE_EVENT else None
    return ZaloUpdate(event_name=event, chat_id=chat_id, account_id=bounded_id(account_id, ACCOUNT_ID_CHARS),
                      message_id=_text(message.get("message_id")),
                      text=text if isinstance(text, str) else None,
                      display_name=_text(sender.get("display_name")) or _text(sender.get("first_name")),
                      fallback_key=None if photo_url else fallback, photo_url=photo_url)


class RecentIds:
    """A small LRU of message keys (the sender and the message id): skips an obvious redelivery
    before touching the database."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, message_id: str) -> bool:
        """True when ``message_id`` is new (and now remembered), False for a duplicate."""
        if message_id in self._ids:
            self._ids.move_to_end(message_id)
            return False
        self._ids[message_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True

    def forget(self, message_id: str) -> None:
        """Processing failed: let a redelivery through."""
        self._ids.pop(message_id, None)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._ids

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._ids))
